"""A memory-mapped index of ``stays`` for case-driven lookups in milliseconds.

Case-driven tracing is a point-lookup problem: one case has tens of stays, and each needs
the few hundred stays of other persons at the same place and time. A query engine over
Parquet pays a scan and a plan per question (0.1-0.4 s); an index lookup costs
microseconds. This index is plain numpy columns on disk (``np.load(mmap_mode="r")``: the
operating system pages in what a lookup touches, nothing is loaded up front, and the
1,000,000 x 14 city's ~200 M stays never need to fit in memory):

* every stay once, sorted by (place, start_time): ``place``, ``person``, ``start``,
  ``end`` (int64 microseconds; NULL end = +inf, NULL start = -inf) and ``reach``, the
  running maximum of ``end`` within the place. ``reach`` is what makes the time bound
  exact: a stay before the first position whose reach passes t ends before t, so the
  stays overlapping [t0, t1] at a place are a contiguous slice found by two binary
  searches, whatever the stays' durations (a hot cell or one three-day registration);
* ``origin`` (source, batch_id), ``line``, ``day``: the evidence and partition columns,
  so the rows handed to the rules are exactly the rows of ``stays``;
* ``place_start`` (offsets per place code) and ``by_person`` / ``person_start`` (row
  positions grouped by person) for a person's own stays;
* dictionaries (Arrow IPC): places as (place_kind, place_id), persons, origins.

The index gives *candidate rows* (a superset of what a rule can use); the rules' SQL
applies every predicate itself, so answers are identical with and without the index.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from epicenter.schema import TABLES

NULL_TEXT = "\x01"  # stands for NULL in the dictionaries (never a delivered value)
SEP = "\x1f"  # place key = place_kind SEP place_id
MAX_T = np.iinfo(np.int64).max
_NO_ROWS = np.empty(0, np.int64)
MIN_T = np.iinfo(np.int64).min
COLUMNS = ("place", "person", "start", "end", "reach", "origin", "line", "day")
_DAY = re.compile(r"day=(\d{4}-\d{2}-\d{2})")
_EPOCH_DAY = np.datetime64("1970-01-01", "D")
CHUNK = 1 << 24  # rows per step of the whole-column passes of the build
BLOCK = 32  # rows per entry of ``StayIndex.block_end`` (a power of two: r & (BLOCK - 1))


def _text(col: pa.ChunkedArray | pa.Array) -> pa.Array:
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    return pc.fill_null(pc.cast(arr, pa.string()), NULL_TEXT)


def _times(col: pa.ChunkedArray, null: int) -> np.ndarray:
    arr = pc.cast(col.combine_chunks(), pa.timestamp("us")).cast(pa.int64())
    return pc.fill_null(arr, null).to_numpy(zero_copy_only=False)


class _Dictionary:
    """Distinct strings in first-seen order while reading; ``sort`` then renumbers them in
    byte order, so lookups are binary searches on a memory-mapped key array (no hash table
    of a million keys to build per query)."""

    def __init__(self) -> None:
        self.values = pa.array([], pa.string())

    def sort(self) -> tuple[np.ndarray, np.ndarray]:
        """(sorted fixed-width byte keys, old code -> new code); ``values`` become sorted."""
        keys = self.values.cast(pa.binary()).to_numpy(zero_copy_only=False).astype(bytes)
        order = np.argsort(keys, kind="stable")
        remap = np.empty(len(order), np.int32)
        remap[order] = np.arange(len(order), dtype=np.int32)
        self.values = self.values.take(pa.array(order))
        return keys[order], remap

    def codes(self, values: pa.Array) -> np.ndarray:
        enc = pc.dictionary_encode(values)
        local = enc.dictionary
        new = local.filter(pc.invert(pc.is_in(local, value_set=self.values)))
        if len(new):
            self.values = pa.concat_arrays([self.values, new])
        mapping = pc.index_in(local, value_set=self.values).to_numpy(zero_copy_only=False)
        return mapping.astype(np.int32)[enc.indices.to_numpy(zero_copy_only=False)]


def _save_dict(path: Path, table: pa.Table) -> None:
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)


def _load_dict(path: Path) -> pa.Table:
    with pa.memory_map(str(path)) as source:
        return pa.ipc.open_file(source).read_all()


def _nulls(values: pa.Array) -> pa.Array:
    return pc.if_else(pc.equal(values, NULL_TEXT), pa.scalar(None, pa.string()), values)


def build(files: Sequence[str], dest: Path, say: Callable[[str], None]) -> int:
    """Write the index of the stays ``files`` into ``dest``; returns the row count."""
    n = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
    tmp = dest / "unsorted"
    tmp.mkdir(parents=True, exist_ok=True)
    kinds = {"place": np.int32, "person": np.int32, "start": np.int64, "end": np.int64,
             "origin": np.int32, "line": np.int64, "day": np.int32}
    raw = {c: np.lib.format.open_memmap(tmp / f"{c}.npy", "w+", t, (n,)) for c, t in kinds.items()}
    places, persons, origins = _Dictionary(), _Dictionary(), _Dictionary()
    at = 0
    for i, f in enumerate(files):
        pf = pq.ParquetFile(f)
        m = _DAY.search(f)
        day = (np.datetime64(m.group(1), "D") - _EPOCH_DAY).astype(np.int32) if m else -1
        for rg in range(pf.num_row_groups):  # one row group at a time bounds memory
            t = pf.read_row_group(rg, columns=[c for c in TABLES["stays"].names if c != "day"])
            k = len(t)
            if k == 0:
                continue
            key = pc.binary_join_element_wise(_text(t["place_kind"]), _text(t["place_id"]), SEP)
            raw["place"][at:at + k] = places.codes(key)
            raw["person"][at:at + k] = persons.codes(_text(t["person_key"]))
            raw["origin"][at:at + k] = origins.codes(pc.binary_join_element_wise(
                _text(t["source"]), _text(t["batch_id"]), SEP))
            raw["start"][at:at + k] = _times(t["start_time"], MIN_T)
            raw["end"][at:at + k] = _times(t["end_time"], MAX_T)
            raw["line"][at:at + k] = pc.fill_null(
                t["line_no"].combine_chunks().cast(pa.int64()), MIN_T).to_numpy(zero_copy_only=False)
            raw["day"][at:at + k] = day
            at += k
        if (i + 1) % 50 == 0:
            say(f"trace index: read {i + 1} of {len(files)} stays files ({at:,} rows)")
    assert at == n, (at, n)
    for name, d, col in (("place", places, "place"), ("person", persons, "person")):
        keys, remap = d.sort()
        np.save(dest / f"{name}_keys.npy", keys)
        for i in range(0, n, CHUNK):
            raw[col][i:i + CHUNK] = remap[raw[col][i:i + CHUNK]]
    say(f"trace index: sorting {n:,} stays by place and time")
    order = _place_order(raw["place"], raw["start"], len(places.values))
    for c in kinds:
        out = np.lib.format.open_memmap(dest / f"{c}.npy", "w+", kinds[c], (n,))
        for i in range(0, n, CHUNK):
            out[i:i + CHUNK] = raw[c][order[i:i + CHUNK]]
        out.flush()
        del out
    del order, raw
    _remove_tree(tmp)
    place = np.load(dest / "place.npy", mmap_mode="r")
    np.save(dest / "place_start.npy",
            np.searchsorted(place, np.arange(len(places.values) + 1)).astype(np.int64))
    np.save(dest / "reach.npy", _running_max(place, np.load(dest / "end.npy", mmap_mode="r")))
    say("trace index: grouping by person")
    person = np.load(dest / "person.npy", mmap_mode="r")
    by_person = np.argsort(person).astype(np.int64)
    np.save(dest / "by_person.npy", by_person)
    np.save(dest / "person_start.npy", np.searchsorted(
        person[by_person], np.arange(len(persons.values) + 1)).astype(np.int64))
    del by_person
    split = pc.split_pattern(places.values, SEP, max_splits=1)
    _save_dict(dest / "places.arrow", pa.table({
        "place_kind": _nulls(pc.list_element(split, 0)),
        "place_id": _nulls(pc.list_element(split, 1))}))
    _save_dict(dest / "persons.arrow", pa.table({"person_key": _nulls(persons.values)}))
    split = pc.split_pattern(origins.values, SEP, max_splits=1)
    _save_dict(dest / "origins.arrow", pa.table({
        "source": _nulls(pc.list_element(split, 0)), "batch_id": _nulls(pc.list_element(split, 1))}))
    return n


def _place_order(place: np.ndarray, start: np.ndarray, n_places: int) -> np.ndarray:
    """Row order by (place, start): one int64 key when both fit, else a lexsort."""
    valid = start != MIN_T
    lo = int(start[valid].min()) if valid.any() else 0
    hi = int(start[valid].max()) if valid.any() else 0
    span_bits = max(1, (hi - lo + 2).bit_length())
    if span_bits + max(1, n_places.bit_length()) <= 62:
        key = np.empty(len(start), np.int64)
        for i in range(0, len(start), CHUNK):  # chunks keep the temporaries small
            s, v = start[i:i + CHUNK], valid[i:i + CHUNK]
            key[i:i + CHUNK] = (place[i:i + CHUNK].astype(np.int64) << span_bits) | np.where(
                v, s - lo + 1, 0)  # NULL starts first, as -inf
        return np.argsort(key)
    return np.lexsort((start, place))


def _running_max(place: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Running maximum of ``end`` restarting at each place (rows sorted by place)."""
    out = np.empty(len(end), np.int64)
    starts = np.flatnonzero(np.r_[True, place[1:] != place[:-1]]) if len(place) else []
    bounds = list(starts) + [len(place)]
    for a, b in zip(bounds[:-1], bounds[1:], strict=False):
        np.maximum.accumulate(end[a:b], out=out[a:b])
    return out


def _distinct(rows: np.ndarray) -> np.ndarray:
    """Sorted distinct positions (a sort and a mask: faster here than np.unique's hashing)."""
    rows = np.sort(rows)
    return rows[np.r_[True, rows[1:] != rows[:-1]]] if len(rows) else rows


def _remove_tree(path: Path) -> None:
    for p in path.iterdir():
        p.unlink()
    path.rmdir()


class StayIndex:
    """An opened index: lookups return row positions; ``table`` turns them into stays rows."""

    def __init__(self, base: Path) -> None:
        self.base = Path(base)
        for c in (*COLUMNS, "place_start", "by_person", "person_start", "place_keys",
                  "person_keys"):
            # a plain ndarray view of the mapping: slicing a np.memmap goes through a Python
            # __getitem__ (~10 us), which the per-stay lookups pay thousands of times
            setattr(self, c, np.asarray(np.load(self.base / f"{c}.npy", mmap_mode="r")))
        # the dictionaries as single arrays, combined once: ``table`` wraps codes around
        # them per call, and combining a million person keys per call cost 6 ms each
        self.places = _load_dict(self.base / "places.arrow").combine_chunks()
        self.person_values = _load_dict(self.base / "persons.arrow").column(
            "person_key").combine_chunks()
        origins = _load_dict(self.base / "origins.arrow")
        self.source_values = origins.column("source").combine_chunks()
        self.batch_values = origins.column("batch_id").combine_chunks()
        self.place_kind_values = self.places.column("place_kind").combine_chunks()
        self.place_id_values = self.places.column("place_id").combine_chunks()
        self._kind_masks: dict[tuple[str, ...], np.ndarray] = {}

    @functools.cached_property
    def block_end(self) -> np.ndarray:
        """The latest end among each ``BLOCK`` consecutive rows. ``reach`` bounds where a
        place's rows can meet a time, but one long stay keeps it high, and behind it the
        many short stays that ended long before are still scanned (two thirds of the rows a
        co-location scan visits at 100,000 persons); a block whose latest end is before
        the time is skipped whole. Derived from ``end`` on first use (one pass over it)."""
        n, full = len(self.end), len(self.end) // BLOCK
        out = np.empty(-(-n // BLOCK), np.int64)
        step = CHUNK // BLOCK
        for i in range(0, full, step):  # chunks keep the temporaries small
            j = min(full, i + step)
            out[i:j] = self.end[i * BLOCK:j * BLOCK].reshape(-1, BLOCK).max(axis=1)
        if n % BLOCK:
            out[full] = self.end[full * BLOCK:].max()
        return out

    def kind_mask(self, kinds: Sequence[str]) -> np.ndarray:
        """Per place code: whether the place is of one of ``kinds`` (kept per set of kinds:
        a one-case query should not rescan every place)."""
        key = tuple(sorted(kinds))
        if key not in self._kind_masks:
            self._kind_masks[key] = pc.is_in(self.place_kind_values, value_set=pa.array(
                list(key), pa.string())).to_numpy(zero_copy_only=False)
        return self._kind_masks[key]

    # ---- codes --------------------------------------------------------------------------
    @staticmethod
    def _find(keys: np.ndarray, wanted: list[str]) -> np.ndarray:
        """Codes of ``wanted`` in the sorted byte keys; -1 where absent."""
        if not wanted or not len(keys):
            return np.full(len(wanted), -1, np.int64)
        enc = [w.encode() for w in wanted]
        # longer than every key: absent; the rest cast to the keys' width, so numpy compares
        # without copying the (memory-mapped) key array to a wider type
        fits = np.array([len(e) <= keys.dtype.itemsize for e in enc])
        q = np.array([e if f else b"" for e, f in zip(enc, fits, strict=True)], dtype=keys.dtype)
        pos = np.minimum(np.searchsorted(keys, q), len(keys) - 1)
        return np.where(fits & (keys[pos] == q), pos, -1).astype(np.int64)

    def place_codes(self, kinds: Sequence[str | None], ids: Sequence[str | None]) -> np.ndarray:
        """Place codes of (kind, id) pairs; -1 where the index has no stay there."""
        return self._find(self.place_keys, [f"{k if k is not None else NULL_TEXT}{SEP}"
                                            f"{i if i is not None else NULL_TEXT}"
                                            for k, i in zip(kinds, ids, strict=True)])

    def places_with_prefix(self, kind: str, prefix: str) -> np.ndarray:
        """Codes of the places of a kind whose id starts with ``prefix`` (a venue's rooms)."""
        lo = f"{kind}{SEP}{prefix}".encode()
        a = int(np.searchsorted(self.place_keys, lo, "left"))
        b = int(np.searchsorted(self.place_keys, lo + b"\xff", "left"))
        return np.arange(a, b, dtype=np.int64)

    # ---- lookups ------------------------------------------------------------------------
    def person_rows(self, person_keys: Sequence[str]) -> np.ndarray:
        """Positions of every stay of these persons."""
        codes = self._find(self.person_keys, [k for k in person_keys if k is not None])
        parts = [self.by_person[self.person_start[c]:self.person_start[c + 1]] for c in np.unique(codes[codes >= 0])]
        return _distinct(np.concatenate(parts)) if parts else np.empty(0, np.int64)

    def overlapping(self, place: int, t0: int, t1: int) -> np.ndarray:
        """Positions of the stays at ``place`` with start <= t1 and end >= t0 (microseconds)."""
        i0, i1 = int(self.place_start[place]), int(self.place_start[place + 1])
        lo = i0 + int(self.reach[i0:i1].searchsorted(t0, "left"))
        hi = i0 + int(self.start[i0:i1].searchsorted(t1, "right"))
        return lo + (self.end[lo:hi] >= t0).nonzero()[0] if hi > lo else _NO_ROWS

    def probe(self, places: np.ndarray, t0: np.ndarray, t1: np.ndarray) -> np.ndarray:
        """Distinct positions overlapping any (place, [t0, t1]) probe; unknown places skip."""
        keep = places >= 0
        places, t0, t1 = places[keep], t0[keep], t1[keep]
        # probes at one place merge into disjoint spans first: a hot cell visited by many
        # seeds is then scanned once per span, not once per seed stay
        order = np.lexsort((t0, places))
        parts: list[np.ndarray] = []
        cur_p, cur0, cur1 = -1, 0, 0
        for p, a, b in zip(places[order].tolist(), t0[order].tolist(), t1[order].tolist(),
                           strict=True):
            if p == cur_p and a <= cur1:
                cur1 = max(cur1, b)
                continue
            if cur_p >= 0:
                parts.append(self.overlapping(cur_p, cur0, cur1))
            cur_p, cur0, cur1 = p, a, b
        if cur_p >= 0:
            parts.append(self.overlapping(cur_p, cur0, cur1))
        return _distinct(np.concatenate(parts)) if parts else np.empty(0, np.int64)

    # ---- rows ---------------------------------------------------------------------------
    def table(self, rows: np.ndarray, dictionary: bool = False) -> pa.Table:
        """The stays rows at these positions, with the columns of ``stays``. With
        ``dictionary`` the text columns stay dictionary-encoded (codes into the index's
        dictionaries: no string copies; an engine reads them as the same text)."""
        rows = np.asarray(rows, np.int64)
        place = pa.array(self.place[rows].astype(np.int32))
        origin = pa.array(self.origin[rows].astype(np.int32))
        person = pa.array(self.person[rows].astype(np.int32))
        start, end, line = self.start[rows], self.end[rows], self.line[rows]
        ts = pa.timestamp("us")

        def text(codes: pa.Array, values: pa.Array) -> pa.Array:
            if dictionary:
                return pa.DictionaryArray.from_arrays(codes, values)
            return values.take(codes)

        cols = {
            "person_key": text(person, self.person_values),
            "place_kind": text(place, self.place_kind_values),
            "place_id": text(place, self.place_id_values),
            "start_time": pa.array(start, ts, mask=start == MIN_T),
            "end_time": pa.array(end, ts, mask=end == MAX_T),
            "source": text(origin, self.source_values),
            "batch_id": text(origin, self.batch_values),
            "line_no": pa.array(line, pa.int64(), mask=line == MIN_T),
            "day": pa.array(self.day[rows], pa.int32()).cast(pa.date32()),
        }
        names = TABLES["stays"].names
        if dictionary:
            return pa.table([cols[n] for n in names], names=names)
        return pa.table([cols[n] for n in names], schema=TABLES["stays"])
