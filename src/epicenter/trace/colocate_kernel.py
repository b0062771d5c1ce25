"""The inner loop of co-location, compiled: one case's stays against the trace index.

Co-location costs a few binary searches per stay of the case and then a pass over the
other persons' stays those searches bound (thousands per case in a busy cell). Written as
numpy calls, every stay pays Python overhead and every candidate row is gathered column
by column into temporaries; that was ~1 ms a case. Compiled with numba, the same steps
run as one loop over contiguous index slices, and with ``nogil`` two threads really run
at once on a two-core machine.

The steps and the arithmetic are those of ``COLOCATION_SQL`` (strict overlap, both sides
with end > start inside the day partitions, seconds counted per whole second of each end);
the tests compare this against that SQL on DuckDB. Per-person totals are kept in dense
counters (``Tallies``) instead of sorting every overlapping stay: at 100,000 x 28 that
took 1,000 cases from 1.1 s to under 0.5 s on one core.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# the index's NULL end and NULL start (no interval, as in SQL); numba freezes them as constants
from epicenter.trace.stayindex import MAX_T, MIN_T

US = 1_000_000


class Tallies:
    """Per-person counters the kernel adds into, kept zeroed between calls: a case touches a
    few thousand persons, so resetting those beats sorting its ~15,000 overlapping stays
    (what bounded the numpy version) or zeroing a city-sized array per case. One pair of
    arrays per thread at a time; a pool keeps them for the next query."""

    def __init__(self, n_persons: int) -> None:
        self.n = n_persons
        self._free: list[tuple[np.ndarray, np.ndarray]] = []

    def take(self) -> tuple[np.ndarray, np.ndarray]:
        try:
            return self._free.pop()  # atomic under the GIL: threads never share a pair
        except IndexError:
            return np.zeros(self.n, np.int64), np.zeros(self.n, np.int64)

    def give(self, pair: tuple[np.ndarray, np.ndarray]) -> None:
        self._free.append(pair)


def _compiled(fn):
    """``fn`` compiled without the GIL, its machine code cached on disk (~5 s to compile);
    where no cache folder is writable (a read-only install without a home folder) numba
    refuses ``cache=True`` outright, so it is then compiled once per process instead."""
    try:
        return njit(nogil=True, cache=True)(fn)
    except RuntimeError:
        return njit(nogil=True)(fn)


@_compiled
def case_colocation(place_start, reach, block_end, block, start, end, day, person, places, s0,
                    s1, me, day0, day1, pairs_of, seconds_of):
    """(person codes, pairs, summed overlap seconds) of everyone else whose stay at
    ``places[i]`` strictly overlaps [s0[i], s1[i]] for some i; persons in code order.
    ``pairs_of`` / ``seconds_of`` are zero per person on entry and are left so.

    The rows of a place are sorted by start and ``reach`` is their running maximum of end,
    so the rows that can overlap [a, b] lie between the first reach >= a and the last
    start <= b; ``block_end`` is the latest end of each ``block`` rows (a power of two)."""
    n = len(places)
    lo = np.empty(n, np.int64)
    hi = np.empty(n, np.int64)
    total = 0
    for i in range(n):
        i0, i1 = place_start[places[i]], place_start[places[i] + 1]
        lo[i] = i0 + np.searchsorted(reach[i0:i1], s0[i])
        hi[i] = i0 + np.searchsorted(start[i0:i1], s1[i], side="right")
        total += max(hi[i] - lo[i], 0)
    touched = np.empty(total, np.int64)
    m = 0
    for i in range(n):
        a, b = s0[i], s1[i]
        r, stop = lo[i], hi[i]
        while r < stop:
            # behind a long stay most rows of the slice ended before a: skip whole blocks
            # of them (their latest end is before a), then test that first per row
            if r & (block - 1) == 0 and block_end[r // block] <= a:
                r += block
                continue
            o0, o1 = start[r], end[r]
            r += 1
            if o1 <= a or o0 >= b or o1 == MAX_T or o0 == MIN_T or o1 <= o0 or person[r - 1] == me:
                continue
            if day[r - 1] < day0 or day[r - 1] > day1:
                continue
            p = person[r - 1]
            if pairs_of[p] == 0:
                touched[m] = p
                m += 1
            pairs_of[p] += 1
            seconds_of[p] += min(o1, b) // US - max(o0, a) // US
    who = np.sort(touched[:m])
    pairs = np.empty(m, np.int64)
    overlap = np.empty(m, np.int64)
    for j in range(m):
        p = who[j]
        pairs[j], overlap[j] = pairs_of[p], seconds_of[p]
        pairs_of[p], seconds_of[p] = 0, 0
    return who, pairs, overlap
