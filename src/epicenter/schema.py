"""Canonical warehouse tables: every table name and column name, declared once.

Ingestion writes these tables; analyses read only these. Times are local wall-clock
timestamps (``Asia/Shanghai`` unless the settings say otherwise) stored without zone;
``day`` is the partition column (the local date of a row's start).

Identifiers: ``person_key`` is a keyed pseudonym (HMAC-SHA256, hex) of the person's
id_no, or of the phone for a phone that the person registry does not link. Clear
identifiers live only in the ``identity_vault`` table.
"""

from __future__ import annotations

import pyarrow as pa

TS = pa.timestamp("us")
STR = pa.string()
I64 = pa.int64()
F64 = pa.float64()
DATE = pa.date32()
BOOL = pa.bool_()

# ---- column names shared by many tables ------------------------------------------------
PERSON_KEY = "person_key"
HOUSEHOLD_KEY = "household_key"
PLACE_KIND = "place_kind"
PLACE_ID = "place_id"
START = "start_time"
END = "end_time"
DAY = "day"
SOURCE = "source"  # source kind the row came from, e.g. venue_scan
BATCH_ID = "batch_id"
LINE_NO = "line_no"  # physical line in the delivered file (header is line 1)
AREA_CODE = "area_code"

# place kinds in the stays table
PLACE_VENUE = "venue"
PLACE_CELL = "cell"
PLACE_HOTEL_ROOM = "hotel_room"  # place_id = "<venue_code>/<room_no>"
PLACE_MERCHANT = "merchant"  # payments: start_time = end_time = txn_time
PLACE_HOME = "home"  # place_id = household_key
PLACE_KINDS = (PLACE_VENUE, PLACE_CELL, PLACE_HOTEL_ROOM, PLACE_MERCHANT, PLACE_HOME)

VENUE_CATEGORIES = (
    "market", "supermarket", "restaurant", "hospital", "clinic", "school", "office",
    "factory", "residential", "hotel", "transport_hub", "entertainment", "other",
)
CASE_STATUSES = ("confirmed", "asymptomatic", "suspected", "excluded", "recovered")
POSITIVE_STATUSES = ("confirmed", "asymptomatic")
AREA_LEVELS = ("city", "district", "street", "community")


def _schema(*fields: tuple[str, pa.DataType]) -> pa.Schema:
    return pa.schema([pa.field(n, t) for n, t in fields])


EVIDENCE = ((SOURCE, STR), (BATCH_ID, STR), (LINE_NO, I64))

# ---- reference tables --------------------------------------------------------------------
TABLES: dict[str, pa.Schema] = {
    "area": _schema(
        (AREA_CODE, STR), ("name", STR), ("level", STR), ("parent_code", STR),
        ("population", I64), ("lon", F64), ("lat", F64),
    ),
    "area_shape": _schema((AREA_CODE, STR), ("geometry", STR)),  # GeoJSON geometry text
    # analytic person table: no clear identifiers
    "person": _schema(
        (PERSON_KEY, STR), (HOUSEHOLD_KEY, STR), ("birth_year", I64), ("sex", STR),
        ("home_area_code", STR), ("registered", BOOL),
    ),
    # clear identifiers, only here; never joined into analytic outputs without an audit
    "identity_vault": _schema(
        (PERSON_KEY, STR), ("id_no", STR), ("phone", STR), ("name", STR), ("home_address", STR),
    ),
    "cell_tower": _schema(
        ("cell_id", STR), ("lon", F64), ("lat", F64), ("radius_m", F64), (AREA_CODE, STR),
    ),
    "venue": _schema(
        ("venue_code", STR), ("name", STR), ("category", STR), ("lon", F64), ("lat", F64),
        (AREA_CODE, STR), ("capacity", I64),
    ),
    "merchant": _schema(
        ("merchant_id", STR), ("name", STR), ("venue_code", STR), ("lon", F64), ("lat", F64),
        (AREA_CODE, STR),
    ),
    "station": _schema(
        ("station_code", STR), ("name", STR), ("city_code", STR), ("lon", F64), ("lat", F64),
    ),
    "meter": _schema(
        ("meter_id", STR), ("household_id", STR), ("kind", STR), (AREA_CODE, STR),
        ("industry", STR), ("registered_persons", I64),
    ),
    # ---- event tables --------------------------------------------------------------------
    # presence of a person at a discrete place over [start_time, end_time]
    "stays": _schema(
        (PERSON_KEY, STR), (PLACE_KIND, STR), (PLACE_ID, STR), (START, TS), (END, TS),
        *EVIDENCE, (DAY, DATE),
    ),
    # a person's seat on a vehicle (train or flight) for one leg
    "legs": _schema(
        (PERSON_KEY, STR), ("mode", STR), ("vehicle_no", STR), ("travel_date", DATE),
        ("car_no", STR), ("seat_no", STR), ("seat_row", I64), ("from_station", STR),
        ("to_station", STR), ("dep_time", TS), ("arr_time", TS), *EVIDENCE, (DAY, DATE),
    ),
    # every case report as delivered (history)
    "case_reports": _schema(
        (PERSON_KEY, STR), ("status", STR), ("report_time", TS), ("onset_date", DATE),
        ("isolation_time", TS), (AREA_CODE, STR), *EVIDENCE, (DAY, DATE),
    ),
    "meter_readings": _schema(
        ("meter_id", STR), ("read_time", TS), ("kwh", F64), *EVIDENCE, (DAY, DATE),
    ),
    "syndromic": _schema(
        ("date", DATE), (AREA_CODE, STR), ("indicator", STR), ("count", I64), *EVIDENCE,
        (DAY, DATE),
    ),
    "od_flow": _schema(
        ("date", DATE), ("origin_code", STR), ("destination_code", STR), ("trips", F64),
        *EVIDENCE, (DAY, DATE),
    ),
    "incidence": _schema(
        ("date", DATE), (AREA_CODE, STR), ("local", I64), ("imported", I64), *EVIDENCE,
        (DAY, DATE),
    ),
}

REFERENCE_TABLES = (
    "area", "area_shape", "person", "identity_vault", "cell_tower", "venue", "merchant",
    "station", "meter",
)
EVENT_TABLES = ("stays", "legs", "case_reports", "meter_readings", "syndromic", "od_flow",
                "incidence")
# tables that may contain clear identifiers; every other table is analytic
VAULT_TABLES = ("identity_vault",)

# ---- ingestion bookkeeping (added by the ingestion issue) ---------------------------------
# rows that failed validation or were exact duplicates, with every reason; identifiers in
# ``record`` (JSON of the delivered values) are redacted
QUARANTINE_SCHEMA = _schema(
    (SOURCE, STR), (BATCH_ID, STR), ("source_file", STR), (LINE_NO, I64), ("disposition", STR),
    ("reasons", pa.list_(STR)), ("record", STR),
)
# 128-bit content hash of every distinct row read per source kind (cross-batch duplicates)
ROW_HASHES_SCHEMA = _schema(("h1", pa.uint64()), ("h2", pa.uint64()), (BATCH_ID, STR))
# who revealed which person's clear identifiers, when and why (append-only)
REVEAL_AUDIT_SCHEMA = _schema(
    ("revealed_at", TS), ("user", STR), ("reason", STR), (PERSON_KEY, STR),
)
# stored in the warehouse's vault/ zone, never in curated/: not analytic
VAULT_ZONE_TABLES = (*VAULT_TABLES, "row_hashes", "reveal_audit")

# Derived view: the latest status per person, with the first positive report.
CASES_VIEW_SQL = """
SELECT person_key,
       arg_max(status, report_time) AS status,
       max(report_time) AS last_report_time,
       min(report_time) FILTER (WHERE status IN ('confirmed', 'asymptomatic')) AS first_positive_time,
       min(onset_date) AS onset_date,
       min(isolation_time) AS isolation_time,
       arg_max(area_code, report_time) AS area_code,
       count(*) AS n_reports
FROM case_reports
GROUP BY person_key
"""
