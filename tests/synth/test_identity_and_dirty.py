"""Identity numbers carry valid GB 11643 check digits, except the listed dirty rows, and
every listed dirty row is really defective at its line."""

from __future__ import annotations

import csv
import datetime as dt
import re

import pytest
from synth_helpers import dirty_lines, read_kind, read_rows

from epicenter.synth.idcard import check_char, is_valid_id

ID_KINDS = ("person", "venue_scan", "payment", "rail_ticket", "flight_ticket", "hotel_stay",
            "case_report")
ID_RE = re.compile(r"^\d{17}[\dX]$")
PHONE_RE = re.compile(r"^1\d{10}$")
ENUMS = {"level": {"city", "district", "street", "community"}, "sex": {"M", "F"},
         "direction": {"in", "out"}, "kind": {"residential", "enterprise"},
         "status": {"confirmed", "asymptomatic", "suspected", "excluded", "recovered"},
         "category": {"market", "supermarket", "restaurant", "hospital", "clinic", "school",
                      "office", "factory", "residential", "hotel", "transport_hub",
                      "entertainment", "other"},
         "indicator": {"fever_clinic_visits", "unexplained_pneumonia"}}
PAIRS = (("start_time", "end_time"), ("dep_time", "arr_time"), ("checkin_time", "checkout_time"))


def test_check_digit_reference_values():
    # published examples of valid identity numbers
    assert check_char("11010519491231002") == "X"
    assert is_valid_id("11010519491231002X")
    assert is_valid_id("440524188001010014")
    assert not is_valid_id("440524188001010015")
    assert not is_valid_id("11010519491331002X")  # month 13


def test_ids_valid_except_listed_dirty_rows(city):
    dirty = dirty_lines(city)
    checked = 0
    for path in [city / f"{k}.csv" for k in ID_KINDS] + sorted(city.glob("*/????-??-??.csv")):
        if not path.exists() or "id_no" not in open(path, encoding="utf-8").readline():
            continue
        rel = path.relative_to(city).as_posix()
        for line, row in enumerate(read_rows(path), start=2):
            if row["id_no"]:
                checked += 1
                assert is_valid_id(row["id_no"]) or (rel, line) in dirty, (rel, line, row)
    assert checked > 10_000


def test_some_phones_not_in_registry(city):
    truth = read_rows(city / "truth" / "persons.csv")
    with_phone = [t for t in truth if t["phone"]]
    outside = [t for t in with_phone if t["in_registry"] == "false"]
    assert 0.02 < len(outside) / len(with_phone) < 0.25
    registry = {r["phone"] for r in read_rows(city / "person.csv") if r["phone"]}
    assert not any(t["phone"] in registry for t in outside)


def _is_time(v: str) -> bool:
    try:
        dt.datetime.strptime(v, "%Y-%m-%d %H:%M:%S")
        return True
    except ValueError:
        return False


def _is_date(v: str) -> bool:
    try:
        dt.date.fromisoformat(v)
        return len(v) == 10
    except ValueError:
        return False


def _is_number(v: str) -> bool:
    try:
        return float(v) >= 0 and v.lower() not in ("inf", "nan")
    except ValueError:
        return False


@pytest.fixture(scope="module")
def known_codes(city) -> set[str]:
    codes = set()
    for kind, col in (("area", "area_code"), ("venue", "venue_code"), ("cell_tower", "cell_id"),
                      ("merchant", "merchant_id"), ("station", "station_code"),
                      ("meter", "meter_id"), ("meter", "household_id")):
        codes |= {r[col] for r in read_kind(city, kind)}
    return codes


def defective(row: dict, defect: str, previous: list[str], line_text: str, known: set[str]) -> bool:
    times = [c for c in row if c.endswith("_time")]
    if defect == "duplicate":
        return line_text in previous
    if defect == "bad_time":
        return any(row[c] and not _is_time(row[c]) for c in times)
    if defect == "bad_date":
        return any(row[c] and not _is_date(row[c]) for c in row if c.endswith("date"))
    if defect == "end_before_start":
        return any(row.get(a) and row.get(b) and row[b] < row[a] for a, b in PAIRS)
    if defect == "unknown_code":
        code_cols = [c for c in row if c.endswith(("_code", "cell_id", "merchant_id",
                                                   "meter_id", "_station"))]
        return any(row[c] and row[c] not in known for c in code_cols)
    if defect == "malformed_id":
        return not ID_RE.match(row["id_no"])
    if defect == "bad_check_digit":
        return bool(ID_RE.match(row["id_no"])) and check_char(row["id_no"][:17]) != row["id_no"][17]
    if defect == "malformed_phone":
        return not PHONE_RE.match(row["phone"])
    if defect == "bad_enum":
        return any(c in ENUMS and row[c] not in ENUMS[c] for c in row)
    if defect in ("bad_number", "bad_value"):
        nums = [c for c in ("amount", "trips", "count", "population", "capacity", "radius_m",
                            "kwh", "registered_persons", "birth_year") if c in row]
        return any(row[c] and not _is_number(row[c]) for c in nums) or (
            "count" in row and _is_number(row["count"]) and float(row["count"]) > 1e6) or (
            "kwh" in row and _is_number(row["kwh"]) and float(row["kwh"]) > 100)
    if defect == "bad_coordinate":
        try:
            return not (-180 <= float(row["lon"]) <= 180 and -90 <= float(row["lat"]) <= 90)
        except ValueError:
            return True
    raise AssertionError(f"unknown defect {defect}")


def test_every_dirty_row_is_defective_at_its_line(city, known_codes):
    register = read_rows(city / "truth" / "dirty_rows.csv")
    kinds = {r["kind"] for r in register}
    for kind in ("person", "venue_scan", "payment", "cell_signaling", "cell_ping",
                 "rail_ticket", "case_report", "od_flow", "meter_reading"):
        assert kind in kinds, f"no dirty rows in {kind}"
    by_file: dict[str, list[dict]] = {}
    for r in register:
        by_file.setdefault(r["file"], []).append(r)
    for rel, items in by_file.items():
        lines = (city / rel).read_text(encoding="utf-8").split("\n")
        header = next(csv.reader([lines[0]]))
        for item in items:
            n = int(item["line"])
            text = lines[n - 1]
            row = dict(zip(header, next(csv.reader([text])), strict=False))
            assert defective(row, item["defect"], lines[1:n - 1], text, known_codes), (rel, n, item)


def test_dirty_rate_is_small(city, summary):
    rows = sum(summary["counts"].values())
    own = [r for r in read_rows(city / "truth" / "dirty_rows.csv")
           if r["kind"] not in ("meter_reading", "meter", "syndromic")]
    assert 0 < len(own) < 0.01 * rows
