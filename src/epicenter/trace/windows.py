"""Exposure windows of cases, per the profile's look-back (spec: "Exposure window of a case").

From 00:00 of the day ``lookback_days`` before onset_date; for an asymptomatic case or a
case without onset_date, before the date of the first positive report. Until
isolation_time, or else the first positive report_time. A case with no positive report
yet (suspected) is traced up to its latest report, so a suspect can be worked up before
the test result. Every window is capped at the query's as-of time: nothing after it is
known.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pyarrow as pa

from epicenter.engine import Engine
from epicenter.trace.profile import Profile

SEED_SCHEMA = pa.schema([("case_key", pa.string()), ("seed_key", pa.string()),
                         ("win_start", pa.timestamp("us")), ("win_end", pa.timestamp("us"))])

WINDOWS_SQL = """
SELECT person_key AS case_key, status, onset_date, first_positive_time, isolation_time,
       CAST(CAST(CASE WHEN onset_date IS NOT NULL AND status <> 'asymptomatic' THEN onset_date
                      ELSE CAST(coalesce(first_positive_time, last_report_time) AS DATE) END
                 AS DATE) - {lookback} AS TIMESTAMP) AS win_start,
       least(coalesce(isolation_time, first_positive_time, last_report_time), $as_of) AS win_end
FROM cases
WHERE person_key IN (SELECT case_key FROM trace_case_list)
ORDER BY person_key
"""


class UnknownCase(LookupError):
    """A person asked about has no case report in the warehouse."""


def exposure_windows(engine: Engine, case_keys: Sequence[str], profile: Profile,
                     as_of: dt.datetime) -> pa.Table:
    """One row per case: status, onset, first positive, isolation, win_start, win_end."""
    keys = sorted(set(case_keys))
    engine.register_arrow("trace_case_list", pa.table({"case_key": pa.array(keys, pa.string())}))
    sql = WINDOWS_SQL.format(lookback=int(profile.exposure_window.lookback_days))
    table = engine.query(sql, {"as_of": as_of})
    missing = set(keys) - set(table.column("case_key").to_pylist())
    if missing:
        raise UnknownCase(f"{len(missing)} person(s) have no case report: "
                          + ", ".join(sorted(k[:12] for k in missing)))
    return table


def seeds_from_windows(windows: pa.Table) -> pa.Table:
    """Seeds tracing each case itself; windows that are empty (as-of before start) drop out."""
    rows = [
        (w["case_key"], w["case_key"], w["win_start"], w["win_end"])
        for w in windows.select(["case_key", "win_start", "win_end"]).to_pylist()
        if w["win_start"] is not None and w["win_end"] is not None and w["win_end"] > w["win_start"]
    ]
    return pa.table(list(zip(*rows, strict=True)) if rows else [[], [], [], []], schema=SEED_SCHEMA)
