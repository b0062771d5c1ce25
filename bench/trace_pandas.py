"""Plain pandas as the tracing benchmark's peer: the co-location query as a merge.

The same definition as ``trace.copresence`` (stays of venues, hotel rooms and cells with
end > start in the day partitions d0..d1; for each case, everyone else whose stay at the
same place overlaps one of the case's stays clipped to the case's window; the summed
overlap per (case, person)). What pyarrow does before pandas sees the data is only what
any careful pandas user would do to fit a city in memory:

* read with filters pushed into the Parquet scan: first the cases' own stays (to learn
  their places), then every stay at those places, nothing else;
* person and place keys become categoricals (one dictionary for the whole frame): the
  64-character person keys of a 1,000,000-person city would otherwise take ~6 GB alone.

The join itself is pandas: merge the cases' clipped stays with the stays on the place
code, filter the overlap, group by (case, person). The merge is cut into chunks of at most
``PAIRS_PER_CHUNK`` candidate rows (known before merging from the per-place stay counts),
so memory is bounded whatever the number of cases.
"""

from __future__ import annotations

import datetime as dt
import resource
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

KINDS = ["venue", "hotel_room", "cell"]
PAIRS_PER_CHUNK = 20_000_000  # candidate rows per merge (~2 GB of temporaries)
KEYS = ["person_key", "place_id"]
COLUMNS = [*KEYS, "start_time", "end_time"]


def _dataset(home: Path, files: list[str]) -> ds.Dataset:
    return ds.dataset(files, format="parquet",
                      partitioning=ds.partitioning(pa.schema([("day", pa.date32())]), flavor="hive"),
                      partition_base_dir=str(home / "curated" / "stays"))


def read_stays(home: Path, files: list[str], windows: pa.Table, d0: dt.date,
               d1: dt.date) -> tuple[pd.DataFrame, pa.Array]:
    """Every usable stay at a place where a case stayed, as (person, place) codes and
    times, and the person keys of the codes."""
    data = _dataset(home, files)
    base = ((ds.field("day") >= pa.scalar(d0)) & (ds.field("day") <= pa.scalar(d1))
            & ds.field("place_kind").isin(KINDS) & (ds.field("end_time") > ds.field("start_time")))
    cases = pa.array(sorted(set(windows.column("case_key").to_pylist())), pa.string())
    own = data.to_table(columns=["place_id"], filter=base & ds.field("person_key").isin(cases))
    places = pc.unique(own.column("place_id").combine_chunks().cast(pa.string()))
    # keys dictionary-encoded batch by batch: never a whole column of 64-character strings
    # (Parquet's own dictionary read fails on delta-encoded string pages)
    batches = [pa.RecordBatch.from_arrays(
        [b.column(k).dictionary_encode() if k in KEYS else b.column(k) for k in COLUMNS], names=COLUMNS)
        for b in data.to_batches(columns=COLUMNS, filter=base & ds.field("place_id").isin(places))]
    schema = pa.schema([(k, pa.dictionary(pa.int32(), pa.string()) if k in KEYS
                         else data.schema.field(k).type) for k in COLUMNS])
    table = pa.Table.from_batches(batches, schema=schema).unify_dictionaries()
    frame = table.to_pandas()
    stays = pd.DataFrame({"person": frame.person_key.cat.codes.to_numpy(np.int32),
                          "place": frame.place_id.cat.codes.to_numpy(np.int32),
                          "start": frame.start_time, "end": frame.end_time})
    persons = table.column("person_key").chunk(0).dictionary if table.num_rows else pa.array([], pa.string())
    return stays, persons


def colocation(stays: pd.DataFrame, persons: pa.Array, windows: pa.Table) -> int:
    """Number of (case, person) pairs of the co-location query; the overlap is summed too."""
    # case key -> person code: a lookup in the dictionary (pandas' isin on a million
    # strings iterates them in Python)
    code = pc.index_in(windows.column("case_key"), value_set=persons).to_numpy(zero_copy_only=False)
    w = windows.select(["win_start", "win_end"]).to_pandas()
    w = w.assign(person=code, case=np.arange(len(w)))
    w = w[~np.isnan(code)].astype({"person": np.int32})
    own = w.merge(stays, on="person")
    own = own[(own.start < own.win_end) & (own.end > own.win_start)]
    own = own.assign(s0=np.maximum(own.start, own.win_start), s1=np.minimum(own.end, own.win_end))
    own = own[["case", "person", "place", "s0", "s1"]].rename(columns={"person": "case_person"})
    per_place = stays.groupby("place").size()
    chunk = per_place.loc[own.place].to_numpy().cumsum() // PAIRS_PER_CHUNK
    parts = []
    for _, part in own.groupby(chunk):
        near = stays[stays.place.isin(part.place.unique())]
        pairs = part.merge(near, on="place")
        pairs = pairs[(pairs.start < pairs.s1) & (pairs.end > pairs.s0)
                      & (pairs.person != pairs.case_person)]
        overlap = np.minimum(pairs.s1, pairs.end) - np.maximum(pairs.s0, pairs.start)
        parts.append(pairs.assign(overlap=overlap.dt.total_seconds())
                     .groupby(["case", "person"])["overlap"].sum())
    if not parts:
        return 0
    # a case's stays may fall in two chunks: sum again across chunks
    return len(pd.concat(parts).groupby(level=[0, 1]).sum())


def run(home: Path, files: list[str], windows: pa.Table) -> dict:
    """Read, then join; wall and CPU seconds of each, pairs and the process's peak RSS."""
    d0 = min(windows.column("win_start").to_pylist()).date() - dt.timedelta(days=1)
    d1 = max(windows.column("win_end").to_pylist()).date()
    t, c = time.perf_counter(), time.process_time()
    stays, persons = read_stays(home, files, windows, d0, d1)
    load, load_cpu = time.perf_counter() - t, time.process_time() - c
    t, c = time.perf_counter(), time.process_time()
    n = colocation(stays, persons, windows)
    return {"load_s": load, "load_cpu_s": load_cpu, "rows_read": len(stays),
            "query_s": time.perf_counter() - t, "query_cpu_s": time.process_time() - c,
            "pairs": n, "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20}
