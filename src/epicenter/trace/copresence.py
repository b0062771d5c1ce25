"""Co-location straight from the trace index: who shared a place with each case, how long.

The core of every contact rule without the rules: for each case (case_key, win_start,
win_end), everyone whose stay at the same place (of the given kinds) overlaps one of the
case's stays inside the window, with the number of overlapping stay pairs and the summed
overlap in seconds. It is the query the benchmark also puts to PostgreSQL (GiST on place
and time range) and to pandas, with the same definition (``bench/bench_trace.py``,
``COLOCATION_SQL``): stays with end > start, both sides in the day partitions d0..d1,
strict overlap, seconds counted like DuckDB's ``date_diff('second', ...)``.

Lookups run on the memory-mapped index: a case costs a few binary searches per stay and
one compiled pass over the rows they bound (``colocate_kernel``), so the answer takes
well under a millisecond and no engine is involved.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pyarrow as pa

from epicenter.trace.colocate_kernel import Tallies, case_colocation
from epicenter.trace.stayindex import BLOCK, MAX_T, MIN_T, StayIndex

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


def _usable(index: StayIndex, rows: np.ndarray, wanted: np.ndarray, day0: int, day1: int):
    """Rows of the wanted place kinds, in the day partitions, with a proper interval."""
    start, end = index.start[rows], index.end[rows]
    day = index.day[rows]
    ok = (wanted[index.place[rows]] & (end != MAX_T) & (start != MIN_T) & (end > start)
          & (day >= day0) & (day <= day1))
    return rows[ok], start[ok], end[ok]


def _case(index: StayIndex, wanted: np.ndarray, case_key: str, w0: int, w1: int, day0: int,
          day1: int, tallies: tuple[np.ndarray, np.ndarray]):
    """(person codes, pairs, overlap seconds) of one case's window, or None."""
    code = index.person_rows([case_key])
    own, start, end = _usable(index, code, wanted, day0, day1)
    inside = (start < w1) & (end > w0)
    own, s0, s1 = own[inside], np.maximum(start[inside], w0), np.minimum(end[inside], w1)
    if not len(own):
        return None
    got = case_colocation(index.place_start, index.reach, index.block_end, BLOCK, index.start,
                          index.end, index.day, index.person, index.place[own].astype(np.int64),
                          s0, s1, int(index.person[own[0]]), day0, day1, *tallies)
    return got if len(got[0]) else None


def _cases(index: StayIndex, wanted: np.ndarray, windows: list[dict], day0: int, day1: int):
    pool = index.__dict__.setdefault("_tallies", Tallies(len(index.person_start) - 1))
    tallies = pool.take()
    out = []
    for i, w in enumerate(windows):
        got = _case(index, wanted, w["case_key"], _us(w["win_start"]), _us(w["win_end"]),
                    day0, day1, tallies)
        if got is not None:
            out.append((np.full(len(got[0]), i, np.int64), *got))
    pool.give(tallies)  # only when every case finished: the counters are zero again
    return out


def colocation(index: StayIndex, windows: pa.Table, d0: dt.date, d1: dt.date,
               kinds: Sequence[str] = ("venue", "hotel_room", "cell"), threads: int = 2,
               min_cases_per_thread: int = 64) -> pa.Table:
    """(case_key, person_key, pairs, overlap_s) for every case of ``windows``, in window
    order then person. ``threads`` share the cases (the compiled loop runs outside the GIL,
    so two threads use both cores of a small machine). case_key is dictionary-encoded
    against the windows' keys and person_key against the index's persons: the same text,
    without copying 64-byte keys per row."""
    wanted = index.kind_mask(kinds)
    index.block_end  # noqa: B018 (derived once here, not by two threads at once)
    day0, day1 = (d0 - _EPOCH_DAY).days, (d1 - _EPOCH_DAY).days
    rows = windows.select(["case_key", "win_start", "win_end"]).to_pylist()
    # a thread for a few cases costs more than it saves
    n = max(1, min(threads, len(rows) // min_cases_per_thread))
    share = -(-len(rows) // n) if rows else 1
    groups = [rows[i:i + share] for i in range(0, len(rows), share)]
    if n == 1:
        results = [_cases(index, wanted, g, day0, day1) for g in groups]
    else:
        with ThreadPoolExecutor(n) as pool:
            results = list(pool.map(lambda g: _cases(index, wanted, g, day0, day1), groups))
    parts = [(wid + k * share, *rest) for k, res in enumerate(results) for wid, *rest in res]
    if not parts:
        parts = [(np.empty(0, np.int64),) * 4]
    wid, person, pairs, overlap = (np.concatenate(x) for x in zip(*parts, strict=True))
    keys = pa.array([r["case_key"] for r in rows], pa.string())
    return pa.table({
        # both keys dictionary-encoded: building them costs microseconds, a take of the
        # case keys cost a tenth of a one-case query
        "case_key": pa.DictionaryArray.from_arrays(pa.array(wid.astype(np.int32)), keys),
        "person_key": pa.DictionaryArray.from_arrays(pa.array(person.astype(np.int32)),
                                                     index.person_values),
        "pairs": pa.array(pairs.astype(np.int64)),
        "overlap_s": pa.array(overlap.astype(np.int64)),
    })
