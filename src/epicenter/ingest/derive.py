"""Canonical derivations: the valid rows of a batch (view ``good``) -> canonical tables.

Each source kind maps to SELECTs producing rows of the tables in ``epicenter.schema``;
analyses read only those tables, never caring which source a row came from. Every event
row carries its evidence: source kind, batch id and the delivered line number.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from epicenter.ingest.dwell import ping_stays_sql, venue_intervals_sql, venue_stays_sql
from epicenter.ingest.identity import person_id_sql
from epicenter.ingest.kinds import Kind
from epicenter.ingest.validate import lit
from epicenter.schema import TABLES

_SQL_TYPES = {pa.string(): "VARCHAR", pa.int64(): "BIGINT", pa.float64(): "DOUBLE",
              pa.timestamp("us"): "TIMESTAMP", pa.date32(): "DATE", pa.bool_(): "BOOLEAN"}
# seat row: leading digits of '12F'; a bare number (hard seats, five abreast) -> ceil(n / 5)
SEAT_ROW_SQL = ("CASE WHEN regexp_full_match(v_seat_no, '[0-9]+') "
                "THEN CAST(ceil(CAST(v_seat_no AS BIGINT) / 5.0) AS BIGINT) "
                "ELSE TRY_CAST(regexp_extract(v_seat_no, '^([0-9]+)', 1) AS BIGINT) END")


@dataclass(frozen=True)
class Output:
    table: str
    sql: str
    partitioned: bool  # by ``day``
    day_sql: str | None = None  # the row's day computed from ``day_source`` alone (no joins)
    day_source: str = "t WHERE ok AND NOT dup"
    prepare: tuple[str, ...] = ()  # statements to run before ``sql``


def _select(table: str, exprs: dict[str, str]) -> str:
    """SELECT list in the table's schema order, typed exactly; absent columns are NULL."""
    cols = []
    for f in TABLES[table]:
        expr = exprs.get(f.name, "NULL")
        cols.append(f"CAST({expr} AS {_SQL_TYPES[f.type]}) AS {f.name}")
    return ", ".join(cols)


def _direct(table: str, kind: Kind, evidence: dict[str, str], **exprs: str) -> Output:
    base = {n: f"v_{n}" for n in kind.names}
    base.update(evidence)
    base.update(exprs)
    partitioned = "day" in TABLES[table].names
    return Output(table, f"SELECT {_select(table, base)} FROM good", partitioned,
                  base.get("day") if partitioned else None)


def _stays(place_kind: str, place_id: str, start: str, end: str) -> dict[str, str]:
    return {"person_key": "person_key", "place_kind": lit(place_kind), "place_id": place_id,
            "start_time": start, "end_time": end, "day": f"CAST({start} AS DATE)"}


def _legs(mode: str, vehicle: str, date: str) -> dict[str, str]:
    return {"person_key": "person_key", "mode": lit(mode), "vehicle_no": vehicle,
            "travel_date": date, "seat_row": SEAT_ROW_SQL, "day": "CAST(v_dep_time AS DATE)"}


def outputs(kind: Kind, batch_id: str, ping_pong_seconds: int, ping_gap_minutes: int) -> list[Output]:
    """The canonical rows one batch of ``kind`` produces (person handled by the pipeline)."""
    ev = {"source": lit(kind.name), "batch_id": lit(batch_id), "line_no": "line_no"}
    ev_sql = f"{lit(kind.name)} AS source, {lit(batch_id)} AS batch_id, line_no"
    name = kind.name
    if name == "cell_signaling":
        return [_direct("stays", kind, ev, **_stays("cell", "v_cell_id", "v_start_time", "v_end_time"))]
    if name == "payment":
        return [_direct("stays", kind, ev, **_stays("merchant", "v_merchant_id", "v_txn_time",
                                                    "v_txn_time"))]
    if name == "hotel_stay":
        return [_direct("stays", kind, ev, **_stays(
            "hotel_room", "concat(v_venue_code, '/', v_room_no)", "v_checkin_time",
            "v_checkout_time"))]
    if name == "venue_scan":
        pid = person_id_sql(True, True)
        return [Output("stays", f"SELECT {_select('stays', {f: f for f in TABLES['stays'].names})} "
                                f"FROM ({venue_stays_sql(ev_sql)})", True,
                       day_sql="CAST(start_time AS DATE)", day_source="scan_iv",
                       prepare=tuple(venue_intervals_sql(pid)))]
    if name == "cell_ping":
        inner = ping_stays_sql(ev_sql, ping_pong_seconds, ping_gap_minutes)
        return [Output("stays", f"SELECT {_select('stays', {f: f for f in TABLES['stays'].names})} "
                                f"FROM ({inner})", True)]
    if name == "rail_ticket":
        return [_direct("legs", kind, ev, **_legs("rail", "v_train_no", "v_travel_date"))]
    if name == "flight_ticket":
        return [_direct("legs", kind, ev, **_legs("flight", "v_flight_no", "v_flight_date"))]
    if name == "case_report":
        return [_direct("case_reports", kind, ev, person_key="person_key",
                        day="CAST(v_report_time AS DATE)")]
    if name == "meter_reading":
        return [_direct("meter_readings", kind, ev, day="CAST(v_read_time AS DATE)")]
    if name in ("syndromic", "od_flow"):
        return [_direct(name, kind, ev, day="v_date")]
    if name == "incidence":
        # a single `cases` column is a total without a split: counted as local
        return [_direct("incidence", kind, ev, day="v_date", local="coalesce(v_local, v_cases)",
                        imported="coalesce(v_imported, CASE WHEN v_cases IS NOT NULL THEN 0 END)")]
    if name in ("area", "cell_tower", "venue", "merchant", "station", "meter"):
        return [_direct(name, kind, {})]
    raise ValueError(f"no canonical derivation for {name}")


def person_outputs() -> list[Output]:
    """The person registry: analytic ``person`` (keys only) and the clear ``identity_vault``."""
    person = _select("person", {
        "person_key": "person_key", "household_key": "ka.household_key",
        "birth_year": "v_birth_year", "sex": "v_sex", "home_area_code": "v_home_area_code",
        "registered": "true"})
    vault = _select("identity_vault", {
        "person_key": "person_key", "id_no": "v_id_no", "phone": "v_phone", "name": "v_name",
        "home_address": "v_home_address"})
    join = "FROM good LEFT JOIN keys_addr ka ON ka.address = good.v_home_address"
    return [Output("person", f"SELECT {person} {join}", False),
            Output("identity_vault", f"SELECT {vault} FROM good", False)]


def unregistered_person_sql(new_identities: str) -> str:
    """Persons first seen in events: a key in ``person`` marked not registered."""
    sel = _select("person", {"person_key": "person_key", "registered": "false"})
    return f"SELECT {sel} FROM ({new_identities})"
