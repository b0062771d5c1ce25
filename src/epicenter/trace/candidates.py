"""Candidate tables from the trace index for one batch of seeds.

The rules read two views (see ``trace.index``): the seeds' own stays and everyone's stays
at the seeds' places. With an index attached they are replaced, per batch of seeds, by
the rows the index finds: a person's stays by person code, and for every seed stay the
stays at the same place whose interval can meet it. The candidates are a superset of what
any rule uses (each rule still applies its own time, day, tier and target predicates in
SQL), so the answer is the one the plain tables give.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from epicenter.engine import Engine
from epicenter.trace.index import PERSON_VIEW, PLACE_VIEW
from epicenter.trace.stayindex import MAX_T, MIN_T, StayIndex

# cases per query when an index is attached: bounds the candidate tables' memory on a
# 1,000,000-person city while keeping the per-query plan cost (~0.1 s) small
CASES_PER_QUERY = 100
# seeds per query: bounds a query's candidate rows and pairs when each case brings many
# seeds (secondary tracing of 20 cases at 100,000 persons: ~10,000 close contacts)
SEEDS_PER_QUERY = 250
# without an index every query re-reads the stays, so that path splits only what memory
# needs: the thousands of seeds of secondary tracing, not 1,000 cases of one seed each
PLAIN_SEEDS_PER_QUERY = 1_000


def _micros(col: pa.ChunkedArray, null: int) -> np.ndarray:
    arr = pc.cast(col, pa.timestamp("us")).cast(pa.int64())
    return pc.fill_null(arr, null).to_numpy()


def register_person_stays(engine: Engine, index: StayIndex, seeds: pa.Table) -> None:
    """The seeds' own stays (every stay of each seed person) as ``trace_stays_person``."""
    keys = pc.unique(seeds.column("seed_key")).to_pylist()
    engine.register_arrow(PERSON_VIEW, index.table(index.person_rows(keys), dictionary=True))


def register_place_stays(engine: Engine, index: StayIndex, seed_stays: pa.Table,
                         slack_s: dict[str, int]) -> int:
    """Stays at the seeds' places meeting a seed stay (widened by the kind's slack: the
    +-minutes of time-proximity rules) as ``trace_stays_place``; returns the row count."""
    kinds = seed_stays.column("place_kind").to_pylist()
    codes = index.place_codes(kinds, seed_stays.column("place_id").to_pylist())
    slack = np.array([slack_s.get(k, 0) for k in kinds], np.int64) * 1_000_000
    t0 = _micros(seed_stays.column("s0"), MIN_T)
    t1 = _micros(seed_stays.column("s1"), MAX_T)
    t0 = np.where(t0 == MIN_T, MIN_T, t0 - slack)
    t1 = np.where(t1 == MAX_T, MAX_T, t1 + slack)
    rows = index.probe(codes, t0, t1)
    engine.register_arrow(PLACE_VIEW, index.table(rows, dictionary=True))
    return len(rows)


def release(engine: Engine, index: StayIndex) -> None:
    """Drop the last batch's candidate tables and alias the views to ``stays`` again."""
    empty = index.table(np.empty(0, np.int64))
    for view in (PLACE_VIEW, PERSON_VIEW):
        engine.register_arrow(view, empty)
        engine.create_view(view, "SELECT * FROM stays")


def case_batches(seeds: pa.Table, size: int | None = None,
                 max_seeds: int | None = None) -> list[pa.Table]:
    """Seeds in batches of at most ``size`` cases and ``max_seeds`` seeds, in (case_key,
    seed_key) order, so the batches' sorted answers concatenate into the sorted answer of
    one query. Only a case with more seeds than ``max_seeds`` is split (secondary tracing:
    one seed per close contact); the rules aggregate per (case, seed), so the rows are the
    same, and the secondary step orders its own answer."""
    size = size or CASES_PER_QUERY
    max_seeds = max_seeds or SEEDS_PER_QUERY
    if seeds.num_rows <= max_seeds and len(pc.unique(seeds.column("case_key"))) <= size:
        return [seeds]
    seeds = seeds.take(pc.sort_indices(seeds, [("case_key", "ascending"),
                                               ("seed_key", "ascending")]))
    case_keys = seeds.column("case_key").to_pylist()
    out, start, cases = [], 0, 1
    for i in range(1, len(case_keys) + 1):
        if i == len(case_keys):
            out.append(seeds.slice(start, i - start))
            break
        new_case = case_keys[i] != case_keys[i - 1]
        if i - start >= max_seeds or (new_case and cases >= size):
            out.append(seeds.slice(start, i - start))
            start, cases = i, 1
        elif new_case:
            cases += 1
    return out
