"""Co-location straight from the trace index: who shared a place with each case, how long.

The core of every contact rule without the rules: for each case (case_key, win_start,
win_end), everyone whose stay at the same place (of the given kinds) overlaps one of the
case's stays inside the window, with the number of overlapping stay pairs and the summed
overlap in seconds. It is the query the benchmark also puts to PostgreSQL (GiST on place
and time range) and to pandas, with the same definition (``bench/bench_trace.py``,
``COLOCATION_SQL``): stays with end > start, both sides in the day partitions d0..d1,
strict overlap, seconds counted like DuckDB's ``date_diff('second', ...)``.

Lookups are numpy on the memory-mapped index: a case costs a few binary searches per stay,
so the answer takes milliseconds and no engine is involved.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from epicenter.trace.stayindex import MAX_T, StayIndex

US = 1_000_000
# the definition as SQL on ``stays`` (windows in ``colocation_windows``): the reference the
# tests compare the index against and the query the benchmark puts to the engines
COLOCATION_SQL = """
WITH c AS (
  SELECT w.case_key, s.place_id, greatest(s.start_time, w.win_start) AS s0,
         least(s.end_time, w.win_end) AS s1
  FROM colocation_windows w JOIN stays s ON s.person_key = w.case_key
  WHERE s.place_kind IN ('venue', 'hotel_room', 'cell') AND s.day BETWEEN $d0 AND $d1
    AND s.end_time > s.start_time AND s.start_time < w.win_end AND s.end_time > w.win_start
)
SELECT c.case_key, o.person_key, count(*) AS pairs,
       sum(date_diff('second', greatest(c.s0, o.start_time), least(c.s1, o.end_time))) AS overlap_s
FROM c JOIN stays o ON o.place_id = c.place_id
WHERE o.place_kind IN ('venue', 'hotel_room', 'cell') AND o.day BETWEEN $d0 AND $d1
  AND o.end_time > o.start_time AND o.start_time < c.s1 AND o.end_time > c.s0 AND o.person_key <> c.case_key
GROUP BY c.case_key, o.person_key
"""

_EPOCH = dt.datetime(1970, 1, 1)
_EPOCH_DAY = dt.date(1970, 1, 1)


def _us(t: dt.datetime) -> int:
    return (t - _EPOCH) // dt.timedelta(microseconds=1)


def _kind_mask(index: StayIndex, kinds: Sequence[str]) -> np.ndarray:
    """Per place code: whether the place is of one of ``kinds``."""
    return pc.is_in(index.places.column("place_kind"),
                    value_set=pa.array(list(kinds), pa.string())).to_numpy(zero_copy_only=False)


def _usable(index: StayIndex, rows: np.ndarray, wanted: np.ndarray, day0: int, day1: int):
    """Rows of the wanted place kinds, in the day partitions, with a proper interval."""
    start, end = index.start[rows], index.end[rows]
    day = index.day[rows]
    ok = wanted[index.place[rows]] & (end != MAX_T) & (end > start) & (day >= day0) & (day <= day1)
    return rows[ok], start[ok], end[ok]


def colocation(index: StayIndex, windows: pa.Table, d0: dt.date, d1: dt.date,
               kinds: Sequence[str] = ("venue", "hotel_room", "cell")) -> pa.Table:
    """(case_key, person_key, pairs, overlap_s) for every case of ``windows``."""
    wanted = _kind_mask(index, kinds)
    day0, day1 = (d0 - _EPOCH_DAY).days, (d1 - _EPOCH_DAY).days
    out_case: list[np.ndarray] = []
    out_person: list[np.ndarray] = []
    out_pairs: list[np.ndarray] = []
    out_overlap: list[np.ndarray] = []
    keys: list[str] = []
    for w in windows.select(["case_key", "win_start", "win_end"]).to_pylist():
        code = index.person_rows([w["case_key"]])
        w0, w1 = _us(w["win_start"]), _us(w["win_end"])
        own, start, end = _usable(index, code, wanted, day0, day1)
        inside = (start < w1) & (end > w0)
        own, s0, s1 = own[inside], np.maximum(start[inside], w0), np.minimum(end[inside], w1)
        if not len(own):
            continue
        me = index.person[own[0]]
        # the slices of every stay first, then one vectorised pass over all of them
        parts = [index.overlapping(p, a, b)
                 for p, a, b in zip(index.place[own].tolist(), s0.tolist(), s1.tolist(), strict=True)]
        sizes = np.array([len(x) for x in parts])
        rows = np.concatenate(parts)
        a, b = np.repeat(s0, sizes), np.repeat(s1, sizes)
        o0, o1, day = index.start[rows], index.end[rows], index.day[rows]
        hit = ((o1 != MAX_T) & (o1 > o0) & (day >= day0) & (day <= day1) & (o0 < b) & (o1 > a)
               & (index.person[rows] != me))
        rows, a, b, o0, o1 = rows[hit], a[hit], b[hit], o0[hit], o1[hit]
        person = index.person[rows]
        if not len(person):
            continue
        # whole seconds of each end, as date_diff('second', lo, hi) counts them
        overlap = np.minimum(o1, b) // US - np.maximum(o0, a) // US
        uniq, inv = np.unique(person, return_inverse=True)
        out_case.append(np.full(len(uniq), len(keys), np.int64))
        keys.append(w["case_key"])
        out_person.append(uniq.astype(np.int64))
        out_pairs.append(np.bincount(inv).astype(np.int64))
        out_overlap.append(np.bincount(inv, weights=overlap).astype(np.int64))
    if not keys:
        return pa.table({"case_key": pa.array([], pa.string()), "person_key": pa.array([], pa.string()),
                         "pairs": pa.array([], pa.int64()), "overlap_s": pa.array([], pa.int64())})
    return pa.table({
        "case_key": pa.array(keys, pa.string()).take(pa.array(np.concatenate(out_case))),
        "person_key": index.persons.take(pa.array(np.concatenate(out_person))),
        "pairs": pa.array(np.concatenate(out_pairs)),
        "overlap_s": pa.array(np.concatenate(out_overlap)),
    })
