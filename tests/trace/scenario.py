"""Tiny hand-built worlds: canonical rows written straight into a test warehouse."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from epicenter.schema import TABLES

DAY0 = dt.date(2020, 1, 20)


def ts(text: str) -> dt.datetime:
    """'01-20 09:00' or a full ISO time; the year is 2020."""
    return dt.datetime.fromisoformat(text if len(text) > 11 else f"2020-{text}")


class Scenario:
    """Collects canonical rows; ``write`` publishes them as batches."""

    def __init__(self) -> None:
        self.rows: dict[str, list[dict]] = {t: [] for t in TABLES}

    def _add(self, table: str, **row) -> Scenario:
        row.setdefault("source", {"stays": "venue_scan", "legs": "rail_ticket",
                                  "case_reports": "case_report"}.get(table))
        row.setdefault("batch_id", f"b-{table}")
        if table in ("stays", "legs", "case_reports"):
            row.setdefault("line_no", len(self.rows[table]) + 2)
        self.rows[table].append(row)
        return self

    def stay(self, person: str, place: str, start: str, end: str | None,
             kind: str = "venue", source: str | None = None) -> Scenario:
        s = ts(start)
        return self._add("stays", person_key=person, place_kind=kind, place_id=place,
                         start_time=s, end_time=ts(end) if end else None, day=s.date(),
                         source=source or {"venue": "venue_scan", "cell": "cell_signaling",
                                           "hotel_room": "hotel_stay",
                                           "merchant": "payment"}[kind])

    def pay(self, person: str, merchant: str, at: str) -> Scenario:
        return self.stay(person, merchant, at, at, kind="merchant")

    def leg(self, person: str, vehicle: str, seat: str, dep: str, arr: str, car: str | None = "05",
            mode: str = "rail", frm: str = "A", to: str = "C", seat_row: int | None = None) -> Scenario:
        d = ts(dep)
        return self._add("legs", person_key=person, mode=mode, vehicle_no=vehicle,
                         travel_date=d.date(), car_no=car, seat_no=seat, seat_row=seat_row,
                         from_station=frm, to_station=to, dep_time=d, arr_time=ts(arr),
                         day=d.date(), source="rail_ticket" if mode == "rail" else "flight_ticket")

    def case(self, person: str, report: str, onset: str | None = None, isolation: str | None = None,
             status: str = "confirmed") -> Scenario:
        r = ts(report)
        return self._add("case_reports", person_key=person, status=status, report_time=r,
                         onset_date=dt.date.fromisoformat(f"2020-{onset}") if onset else None,
                         isolation_time=ts(isolation) if isolation else None, area_code=None,
                         day=r.date())

    def person(self, key: str, household: str | None) -> Scenario:
        self.rows["person"].append({"person_key": key, "household_key": household,
                                    "registered": True})
        return self

    def venue(self, code: str, name: str, category: str = "restaurant",
              capacity: int | None = None) -> Scenario:
        self.rows["venue"].append({"venue_code": code, "name": name, "category": category,
                                   "lon": 120.0, "lat": 30.0, "capacity": capacity})
        return self

    def write(self, warehouse) -> None:
        for table, rows in self.rows.items():
            if not rows:
                continue
            schema = TABLES[table]
            data = pa.Table.from_pylist([{f.name: r.get(f.name) for f in schema} for r in rows],
                                        schema=schema)
            with warehouse.batch(table, f"{table}.test", None) as b:
                b.write(table, data)
                b.commit(rows_read=len(rows), rows_loaded=len(rows), rows_quarantined=0,
                         rows_duplicate=0)
