"""Canonical derivations: scans, pings, hotel stays, payments, tickets, case reports."""

from __future__ import annotations

import datetime as dt

from epicenter.ingest.pipeline import ingest_file
from epicenter.privacy import Pseudonymizer
from tests.ingest.builders import id_no, phone, write_csv
from tests.ingest.conftest import query

T = dt.datetime


def _stays(settings, source):
    return query(settings, f"SELECT place_kind, place_id, start_time, end_time, line_no FROM stays "
                           f"WHERE source = '{source}' ORDER BY start_time, place_id, line_no")


def test_venue_scans_pair_in_and_out_else_default_dwell(loaded, tmp_path):
    path = write_csv(tmp_path / "scan.csv", ["id_no", "phone", "venue_code", "scan_time", "direction"], [
        [id_no(0), "", "V1", "2024-01-01 08:00", "in"],    # 2 paired with line 3 (phone, same person)
        ["", phone(0), "V1", "2024-01-01 08:20", "out"],   # 3
        [id_no(0), "", "V2", "2024-01-01 09:00", ""],      # 4 no direction: office, 480 min
        [id_no(1), "", "V1", "2024-01-01 10:00", "in"],    # 5 in, next in: market default 30 min
        [id_no(1), "", "V1", "2024-01-01 11:00", "in"],    # 6 paired with line 7
        [id_no(1), "", "V1", "2024-01-01 11:05", "out"],   # 7
        [id_no(2), "", "V1", "2024-01-01 12:00", "out"],   # 8 out without in: 30 min before
        [id_no(3), "", "V1", "2024-01-01 07:00", "in"],    # 9 out after 24 h: not paired
        [id_no(3), "", "V1", "2024-01-02 07:30", "out"],   # 10
    ])
    rec = ingest_file(loaded, "venue_scan", path)
    assert rec["rows_loaded"] == 9
    assert _stays(loaded, "venue_scan") == [
        {"place_kind": "venue", "place_id": "V1", "start_time": T(2024, 1, 1, 7), "end_time": T(2024, 1, 1, 7, 30), "line_no": 9},
        {"place_kind": "venue", "place_id": "V1", "start_time": T(2024, 1, 1, 8), "end_time": T(2024, 1, 1, 8, 20), "line_no": 2},
        {"place_kind": "venue", "place_id": "V2", "start_time": T(2024, 1, 1, 9), "end_time": T(2024, 1, 1, 17), "line_no": 4},
        {"place_kind": "venue", "place_id": "V1", "start_time": T(2024, 1, 1, 10), "end_time": T(2024, 1, 1, 10, 30), "line_no": 5},
        {"place_kind": "venue", "place_id": "V1", "start_time": T(2024, 1, 1, 11), "end_time": T(2024, 1, 1, 11, 5), "line_no": 6},
        {"place_kind": "venue", "place_id": "V1", "start_time": T(2024, 1, 1, 11, 30), "end_time": T(2024, 1, 1, 12), "line_no": 8},
        {"place_kind": "venue", "place_id": "V1", "start_time": T(2024, 1, 2, 7), "end_time": T(2024, 1, 2, 7, 30), "line_no": 10},
    ]


def test_hotel_payment_and_signaling_stays(loaded, tmp_path):
    ingest_file(loaded, "hotel_stay", write_csv(tmp_path / "h.csv", [
        "id_no", "venue_code", "room_no", "checkin_time", "checkout_time"], [
        [id_no(0), "H1", "1105", "2024-01-01 20:00", "2024-01-03 08:00"],
        [id_no(1), "H1", "1106", "2024-01-02 20:00", ""]]))
    ingest_file(loaded, "payment", write_csv(tmp_path / "p.csv", [
        "id_no", "phone", "merchant_id", "txn_time", "amount"], [
        ["", phone(1), "M1", "2024-01-01 12:00:30", "8.5"]]))
    assert _stays(loaded, "hotel_stay") == [
        {"place_kind": "hotel_room", "place_id": "H1/1105", "start_time": T(2024, 1, 1, 20),
         "end_time": T(2024, 1, 3, 8), "line_no": 2},
        {"place_kind": "hotel_room", "place_id": "H1/1106", "start_time": T(2024, 1, 2, 20),
         "end_time": None, "line_no": 3}]
    pay = _stays(loaded, "payment")[0]
    assert pay["start_time"] == pay["end_time"] == T(2024, 1, 1, 12, 0, 30)
    assert pay["place_kind"] == "merchant" and pay["place_id"] == "M1"


def test_cell_pings_become_dwells_without_ping_pong(loaded, tmp_path):
    rows = [[phone(0), cell, f"2024-01-01 {hm}:00"] for cell, hm in [
        ("T1", "08:00"), ("T1", "08:10"), ("T2", "08:11"), ("T1", "08:12"),  # T2 flip of 60 s: dropped
        ("T1", "08:20"), ("T2", "08:30"), ("T2", "08:40"),                     # handover to T2
        ("T2", "10:00"),                                                        # gap > 30 min: new dwell
        ("T3", "10:05"), ("T1", "10:06"), ("T3", "10:07"), ("T3", "10:20"),  # T1 flip: dropped
    ]]
    ingest_file(loaded, "cell_ping", write_csv(tmp_path / "ping.csv", ["phone", "cell_id", "event_time"], rows))
    got = [(s["place_id"], s["start_time"], s["end_time"], s["line_no"]) for s in _stays(loaded, "cell_ping")]
    assert got == [
        ("T1", T(2024, 1, 1, 8), T(2024, 1, 1, 8, 30), 2),
        ("T2", T(2024, 1, 1, 8, 30), T(2024, 1, 1, 8, 40), 7),
        ("T2", T(2024, 1, 1, 10), T(2024, 1, 1, 10, 5), 9),
        ("T3", T(2024, 1, 1, 10, 5), T(2024, 1, 1, 10, 20), 10),
    ]


def test_a_slow_switch_is_not_ping_pong(loaded, tmp_path):
    loaded_settings = loaded.model_copy(update={"ping_pong_seconds": 30})
    rows = [[phone(0), c, f"2024-01-01 {hm}"] for c, hm in [
        ("T1", "08:00:00"), ("T2", "08:01:00"), ("T1", "08:02:00")]]
    ingest_file(loaded_settings, "cell_ping", write_csv(tmp_path / "p.csv", ["phone", "cell_id", "event_time"], rows))
    assert [s["place_id"] for s in _stays(loaded, "cell_ping")] == ["T1", "T2", "T1"]


def test_tickets_become_legs_with_seat_rows(loaded, tmp_path):
    ingest_file(loaded, "flight_ticket", write_csv(tmp_path / "f.csv", [
        "id_no", "flight_no", "flight_date", "seat_no", "from_station", "to_station", "dep_time",
        "arr_time"], [[id_no(0), "MU5101", "2024-01-05", "23C", "BJP", "SHH", "2024-01-05 08:00",
                       "2024-01-05 10:10"]]))
    ingest_file(loaded, "rail_ticket", write_csv(tmp_path / "r.csv", [
        "id_no", "train_no", "travel_date", "car_no", "seat_no", "from_station", "to_station",
        "dep_time", "arr_time"], [
        [id_no(1), "K21", "2024-01-05", "11", "11", "BJP", "SHH", "2024-01-05 20:00", "2024-01-06 09:00"],
        [id_no(2), "K21", "2024-01-05", "11", "10", "BJP", "SHH", "2024-01-05 20:00", "2024-01-06 09:00"],
        [id_no(3), "G1", "2024-01-05", "03", "1F", "BJP", "SHH", "2024-01-05 20:00", "2024-01-06 09:00"]]))
    legs = query(loaded, "SELECT mode, vehicle_no, seat_row, car_no, day FROM legs ORDER BY mode, line_no")
    assert legs == [
        {"mode": "flight", "vehicle_no": "MU5101", "seat_row": 23, "car_no": None, "day": dt.date(2024, 1, 5)},
        {"mode": "rail", "vehicle_no": "K21", "seat_row": 3, "car_no": "11", "day": dt.date(2024, 1, 5)},
        {"mode": "rail", "vehicle_no": "K21", "seat_row": 2, "car_no": "11", "day": dt.date(2024, 1, 5)},
        {"mode": "rail", "vehicle_no": "G1", "seat_row": 1, "car_no": "03", "day": dt.date(2024, 1, 5)}]


def test_case_reports_keep_history_and_cases_shows_the_latest(loaded, tmp_path):
    ingest_file(loaded, "case_report", write_csv(tmp_path / "c.csv", [
        "id_no", "status", "report_time", "onset_date", "isolation_time", "area_code"], [
        [id_no(0), "suspected", "2024-01-02 09:00", "2024-01-01", "2024-01-02 10:00", "D1"],
        [id_no(0), "confirmed", "2024-01-03 09:00", "2024-01-01", "", "D1"],
        [id_no(1), "excluded", "2024-01-03 09:00", "", "", ""]]))
    assert query(loaded, "SELECT count(*) AS n FROM case_reports")[0]["n"] == 3
    key = Pseudonymizer.from_settings(loaded).id_key(id_no(0))
    case = query(loaded, f"SELECT * FROM cases WHERE person_key = '{key}'")[0]
    assert case["status"] == "confirmed" and case["n_reports"] == 2
    assert case["first_positive_time"] == T(2024, 1, 3, 9)
    assert case["onset_date"] == dt.date(2024, 1, 1)


def test_area_level_series(loaded, tmp_path):
    ingest_file(loaded, "syndromic", write_csv(tmp_path / "s.csv", ["date", "area_code", "indicator", "count"],
                                               [["2024-01-01", "D1", "fever_clinic_visits", "12"]]))
    ingest_file(loaded, "od_flow", write_csv(tmp_path / "o.csv", ["date", "origin_code", "destination_code", "trips"],
                                             [["2024-01-01", "D1", "D2", "120.5"]]))
    ingest_file(loaded, "incidence", write_csv(tmp_path / "i.csv", ["date", "cases"], [["2024-01-01", "7"]]))
    assert query(loaded, "SELECT count, day FROM syndromic") == [{"count": 12, "day": dt.date(2024, 1, 1)}]
    assert query(loaded, "SELECT trips FROM od_flow") == [{"trips": 120.5}]
    assert query(loaded, "SELECT local, imported FROM incidence") == [{"local": 7, "imported": 0}]


def test_venue_scans_pair_without_any_venue_loaded(settings, tmp_path):
    # no venue table: codes are not checked, every venue gets the 'other' dwell (30 min)
    path = write_csv(tmp_path / "scan.csv", ["id_no", "phone", "venue_code", "scan_time", "direction"], [
        [id_no(0), "", "X1", "2024-01-01 23:50", "in"],    # 2 paired with line 3
        [id_no(0), "", "X1", "2024-01-02 00:20", "out"],   # 3
        ["", phone(5), "X2", "2024-01-02 00:10", "out"],   # 4 out without in: starts the day before
        ["", phone(5), "X1", "2024-01-02 09:00", ""],      # 5 other venue, no direction
    ])
    rec = ingest_file(settings, "venue_scan", path)
    assert rec["rows_loaded"] == 4
    assert rec["details"]["warnings"] == ["venue_code not checked: no venue loaded yet"]
    assert _stays(settings, "venue_scan") == [
        {"place_kind": "venue", "place_id": "X2", "start_time": T(2024, 1, 1, 23, 40), "end_time": T(2024, 1, 2, 0, 10), "line_no": 4},
        {"place_kind": "venue", "place_id": "X1", "start_time": T(2024, 1, 1, 23, 50), "end_time": T(2024, 1, 2, 0, 20), "line_no": 2},
        {"place_kind": "venue", "place_id": "X1", "start_time": T(2024, 1, 2, 9), "end_time": T(2024, 1, 2, 9, 30), "line_no": 5},
    ]
    days = query(settings, "SELECT day, count(*) AS n FROM stays GROUP BY day ORDER BY day")
    assert days == [{"day": dt.date(2024, 1, 1), "n": 2}, {"day": dt.date(2024, 1, 2), "n": 1}]
