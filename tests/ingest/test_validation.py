"""Every validation rule: a failing row lands in the quarantine with all its reasons."""

from __future__ import annotations

import pytest

from epicenter.ingest.errors import IngestError
from epicenter.ingest.pipeline import ingest_file
from tests.ingest.builders import id_no, phone, write_csv
from tests.ingest.conftest import quarantine, query

SIGNALING = ["phone", "cell_id", "start_time", "end_time"]


def _ingest(settings, tmp_path, kind, header, rows, name=None):
    path = write_csv(tmp_path / (name or f"{kind}.csv"), header, rows)
    return ingest_file(settings, kind, path)


def test_types_required_times_and_order(loaded, tmp_path):
    rec = _ingest(loaded, tmp_path, "cell_signaling", SIGNALING, [
        [phone(0), "T1", "2024-01-01 08:00:00", "2024-01-01 09:00"],   # 2 ok (seconds optional)
        [phone(0), "T1", "2024-01-01 10:00", "2024-01-01 09:00"],      # 3 end before start
        [phone(0), "", "2024-01-01 10:00", "2024-01-01 11:00"],        # 4 missing cell_id
        [phone(0), "T1", "01/02/2024 10:00", "2024-13-01 11:00"],      # 5 two unparsable times
        [phone(1), " T2 ", " 2024-01-01 12:00 ", "2024-01-01 12:30"],  # 6 ok (spaces trimmed)
    ])
    q = quarantine(loaded)
    assert sorted(q) == [3, 4, 5]
    assert q[3] == ["end_time is before start_time"]
    assert q[4] == ["missing cell_id"]
    assert q[5] == ["start_time: cannot parse '01/02/2024 10:00' as time",
                    "end_time: cannot parse '2024-13-01 11:00' as time"]
    assert (rec["rows_read"], rec["rows_loaded"], rec["rows_quarantined"]) == (5, 2, 3)


def test_identifiers_check_digit_and_phone(loaded, tmp_path):
    good = id_no(7)
    wrong_digit = good[:17] + ("0" if good[17] != "0" else "1")
    _ingest(loaded, tmp_path, "hotel_stay",
            ["id_no", "venue_code", "room_no", "checkin_time", "checkout_time"], [
                [good, "H1", "101", "2024-01-01 20:00", ""],                # 2 ok, open stay
                [wrong_digit, "H1", "101", "2024-01-01 20:00", ""],         # 3 check digit
                ["11010519850312", "H1", "101", "2024-01-01 20:00", ""],    # 4 too short
                [good.lower() if good.endswith("X") else good, "H9", "1", "2024-01-01", ""],  # 5
            ])
    q = quarantine(loaded)
    assert q[3] == ["id_no check digit does not match (GB 11643)"]
    assert q[4] == ["id_no malformed: expected 17 digits and a check digit"]
    assert q[5] == ["venue_code: unknown venue 'H9'", "checkin_time: cannot parse '2024-01-01' as time"]
    _ingest(loaded, tmp_path, "cell_ping", ["phone", "cell_id", "event_time"], [
        ["1381234567", "T1", "2024-01-01 08:00"],   # 10 digits
        ["23812345678", "T1", "2024-01-01 08:00"],  # does not start with 1
        [phone(3), "T1", "2024-01-01 08:00"],
    ])
    reasons = query(loaded, "SELECT line_no, reasons FROM quarantine WHERE source = 'cell_ping' "
                            "ORDER BY line_no")
    assert [r["line_no"] for r in reasons] == [2, 3]
    assert all(r["reasons"] == ["phone malformed: expected 11 digits starting with 1"] for r in reasons)


def test_check_digit_x_is_accepted_in_either_case(loaded, tmp_path):
    serial = next(i for i in range(1000) if id_no(i).endswith("X"))
    rec = _ingest(loaded, tmp_path, "case_report", ["id_no", "status", "report_time"], [
        [id_no(serial).lower(), "confirmed", "2024-01-02 09:00"]])
    assert rec["rows_loaded"] == 1


def test_enumerations_ranges_and_references(loaded, tmp_path):
    _ingest(loaded, tmp_path, "case_report",
            ["id_no", "status", "report_time", "onset_date", "isolation_time", "area_code"], [
                [id_no(1), "confirmed", "2024-01-02 09:00", "2024-01-01", "", "D1"],   # 2 ok
                [id_no(1), "cured", "2024-01-03 09:00", "2024-01-01", "", "D1"],       # 3 enum
                [id_no(2), "suspected", "2024-01-02 09:00", "20240101", "", "ZZ"],     # 4 date+ref
            ])
    q = quarantine(loaded)
    assert q[3] == ["status: 'cured' is not one of confirmed, asymptomatic, suspected, excluded, recovered"]
    assert q[4] == ["onset_date: cannot parse '20240101' as date", "area_code: unknown area 'ZZ'"]
    _ingest(loaded, tmp_path, "meter_reading", ["meter_id", "read_time", "kwh"], [
        ["E1", "2024-01-01 00:15", "-0.2"], ["E2", "2024-01-01 00:15", "0.1"],
        ["E1", "2024-01-01 00:30", "lots"]])
    rows = query(loaded, "SELECT line_no, reasons FROM quarantine WHERE source = 'meter_reading' "
                         "ORDER BY line_no")
    assert [r["reasons"] for r in rows] == [["kwh: -0.2 out of range [0, 50000.0]"],
                                            ["meter_id: unknown meter 'E2'"],
                                            ["kwh: cannot parse 'lots' as float"]]


def test_scan_needs_an_identifier_and_a_known_direction(loaded, tmp_path):
    _ingest(loaded, tmp_path, "venue_scan", ["id_no", "phone", "venue_code", "scan_time", "direction"], [
        ["", "", "V1", "2024-01-01 08:00", "in"],
        ["", phone(1), "V1", "2024-01-01 08:00", "exit"],
        ["", phone(1), "V1", "2024-01-01 09:00", ""],
    ])
    q = quarantine(loaded)
    assert q == {2: ["neither id_no nor phone given"],
                 3: ["direction: 'exit' is not one of in, out"]}


def test_plausible_coordinates_and_reference_keys(settings, tmp_path):
    header = ["area_code", "name", "level", "parent_code", "population", "lon", "lat"]
    _ingest(settings, tmp_path, "area", header, [
        ["C1", "City", "city", "", "10", "116.4", "39.9"],
        ["D1", "D", "district", "C1", "5", "0", "0"],          # 3 null island
        ["D2", "D", "district", "C1", "5", "216.4", "99.9"],   # 4 out of range
        ["D3", "D", "district", "C9", "5", "116.4", "39.9"],   # 5 parent unknown
        ["C1", "City again", "city", "", "10", "116.4", "39.9"],  # 6 key repeated
        ["D4", "D", "district", "D5", "5", "116.4", "39.9"],   # 7 parent defined later: ok
        ["D5", "D", "district", "C1", "5", "116.4", "39.9"],
    ])
    q = quarantine(settings)
    assert q[3] == ["lon/lat is (0, 0): no real position"]
    assert q[4] == ["lon: 216.4 out of range [-180, 180]", "lat: 99.9 out of range [-90, 90]"]
    assert q[5] == ["parent_code: unknown area 'C9'"]
    assert q[6] == ["area_code C1 repeated (first at line 2)"]
    assert 7 not in q
    rec = _ingest(settings, tmp_path, "area", header, [["C1", "Other", "city", "", "1", "116", "39"]],
                  name="area2.csv")
    assert rec["rows_quarantined"] == 1
    assert quarantine(settings)[2] == ["area_code C1 already loaded"]


def test_missing_required_column_fails_the_file(loaded, tmp_path):
    path = write_csv(tmp_path / "sig.csv", ["phone", "cell", "start_time"], [[phone(0), "T1", "x"]])
    with pytest.raises(IngestError) as err:
        ingest_file(loaded, "cell_signaling", path)
    msg = str(err.value)
    assert str(path) in msg and "cell_id" in msg and "end_time" in msg
    assert loaded.warehouse.catalog.find_batch("cell_signaling", "x") is None


def test_malformed_rows_keep_physical_line_numbers(loaded, tmp_path):
    path = tmp_path / "sig.csv"
    path.write_text(
        "phone,cell_id,start_time,end_time\n"
        f"{phone(0)},T1,2024-01-01 08:00,2024-01-01 09:00\n"   # 2
        "\n"                                                     # 3 blank
        f"{phone(0)},T1,2024-01-01 10:00\n"                      # 4 missing a field
        f'{phone(0)},"T1\nT2",2024-01-01 10:00,2024-01-01 11:00\n'  # 5-6 quoted newline
        f"{phone(0)},T2,2024-01-01 12:00,2024-01-01 13:00,extra\n"  # 7 one field too many
        f"{phone(1)},T2,2024-01-01 12:00,2024-01-01 13:00\n")    # 8
    rec = ingest_file(loaded, "cell_signaling", path)
    q = quarantine(loaded)
    assert q[4] == ["row has 3 fields, header has 4", "missing end_time"]
    assert q[5] == ["cell_id: unknown cell_tower 'T1\nT2'"]
    assert q[7] == ["row has 5 fields, header has 4"]
    lines = sorted(r["line_no"] for r in query(loaded, "SELECT line_no FROM stays"))
    assert lines == [2, 8]
    assert rec["rows_read"] == 5


def test_reference_checks_are_skipped_with_a_warning_when_nothing_is_loaded(settings, tmp_path):
    rec = _ingest(settings, tmp_path, "cell_signaling", SIGNALING,
                  [[phone(0), "T1", "2024-01-01 08:00", "2024-01-01 09:00"]])
    assert rec["rows_loaded"] == 1
    assert rec["details"]["warnings"] == ["cell_id not checked: no cell_tower loaded yet"]


def test_completeness_counts_delivered_values_of_parsed_columns(loaded, tmp_path):
    # checkout_time is optional: delivered and valid, absent, and delivered but unparsable
    rec = _ingest(loaded, tmp_path, "hotel_stay",
                  ["id_no", "venue_code", "room_no", "checkin_time", "checkout_time"], [
                      [id_no(1), "H1", "101", "2024-01-01 20:00", "2024-01-02 08:00"],
                      [id_no(2), "H1", "102", "2024-01-01 20:00", ""],
                      [id_no(3), "H1", "103", "2024-01-01 20:00", "soon"],
                  ])
    assert rec["rows_quarantined"] == 1
    non_null = rec["details"]["non_null"]
    assert non_null["checkout_time"] == 2 and non_null["checkin_time"] == 3
    assert rec["details"]["distinct_rows"] == 3


def test_identifier_formats_reject_what_a_number_cast_would_accept(loaded, tmp_path):
    # the format checks compare against integers (phone) or a pattern (id_no): signs,
    # decimal points, exponents, inner blanks and stray letters must still be malformed
    good = id_no(8)
    _ingest(loaded, tmp_path, "venue_scan", ["id_no", "phone", "venue_code", "scan_time"], [
        ["+" + good[1:], "", "V1", "2024-01-01 08:00"],              # 2
        [good[:8] + " " + good[9:], "", "V1", "2024-01-01 08:00"],  # 3
        [good[:17] + "Y", "", "V1", "2024-01-01 08:00"],            # 4
        [good[:5] + "A" + good[6:], "", "V1", "2024-01-01 08:00"],  # 5
        [good + "1", "", "V1", "2024-01-01 08:00"],                 # 6
        ["", "+1381234567", "V1", "2024-01-01 08:00"],              # 7
        ["", "1381234567.", "V1", "2024-01-01 08:00"],              # 8
        ["", "13812345e10", "V1", "2024-01-01 08:00"],              # 9
        ["", "1381 234567", "V1", "2024-01-01 08:00"],              # 10
        ["", "1_381234567", "V1", "2024-01-01 08:00"],              # 11
        ["", "01381234567", "V1", "2024-01-01 08:00"],              # 12
        [good, phone(8), "V1", "2024-01-01 08:00"],                 # 13 ok
    ])
    q = quarantine(loaded)
    bad_id = ["id_no malformed: expected 17 digits and a check digit"]
    bad_phone = ["phone malformed: expected 11 digits starting with 1"]
    assert {line: q[line] for line in range(2, 7)} == {line: bad_id for line in range(2, 7)}
    assert {line: q[line] for line in range(7, 13)} == {line: bad_phone for line in range(7, 13)}
    assert 13 not in q
