"""Mapping files: encodings, delimiters, formats, time zones, renames and value maps."""

from __future__ import annotations

import datetime as dt

import pytest

from epicenter.ingest.errors import IngestError
from epicenter.ingest.mapping import load_mapping
from epicenter.ingest.pipeline import ingest_file
from tests.ingest.builders import id_no, write_csv
from tests.ingest.conftest import quarantine, query

RAIL_MAPPING = """
kind: rail_ticket
encoding: {encoding}
delimiter: ";"
timezone: Asia/Shanghai
time_format: "%Y/%m/%d %H:%M"
date_format: "%Y%m%d"
columns:
  id_no: 身份证号
  train_no: 车次
  travel_date: 乘车日期
  car_no: 车厢号
  seat_no: 座位号
  from_station: 出发站
  to_station: 到达站
  dep_time: 发车时间
  arr_time: 到达时间
values:
  from_station: {{北京南: BJP, 上海虹桥: SHH}}
  to_station: {{北京南: BJP, 上海虹桥: SHH}}
"""
RAIL_HEADER = ["身份证号", "车次", "乘车日期", "车厢号", "座位号", "出发站", "到达站", "发车时间",
               "到达时间", "备注"]


@pytest.mark.parametrize("encoding", ["gbk", "gb18030"])
def test_chinese_template_in_gbk_through_a_mapping(loaded, tmp_path, encoding):
    mapping = tmp_path / "12306.yaml"
    mapping.write_text(RAIL_MAPPING.format(encoding=encoding), encoding="utf-8")
    path = write_csv(tmp_path / "12306_export.csv", RAIL_HEADER, [
        [id_no(1), "G101", "20240120", "05", "12F", "北京南", "上海虹桥", "2024/01/20 08:00",
         "2024/01/20 12:30", "二等座"],
        [id_no(2), "K21", "20240120", "11", "058", "北京南", "上海虹桥", "2024/01/20 20:00",
         "2024/01/21 09:30", "硬座"],
        [id_no(3), "G101", "2024-01-20", "05", "13A", "北京南", "广州南", "2024/01/20 08:00",
         "2024/01/20 12:30", "坏行"],
    ], encoding=encoding, delimiter=";")
    rec = ingest_file(loaded, "rail_ticket", path, load_mapping(mapping, "rail_ticket"))
    assert (rec["rows_read"], rec["rows_loaded"], rec["rows_quarantined"]) == (3, 2, 1)
    legs = query(loaded, "SELECT vehicle_no, travel_date, car_no, seat_no, seat_row, from_station, "
                         "to_station, dep_time, arr_time, mode, line_no FROM legs ORDER BY line_no")
    assert legs[0] == {"vehicle_no": "G101", "travel_date": dt.date(2024, 1, 20), "car_no": "05",
                       "seat_no": "12F", "seat_row": 12, "from_station": "BJP",
                       "to_station": "SHH", "dep_time": dt.datetime(2024, 1, 20, 8),
                       "arr_time": dt.datetime(2024, 1, 20, 12, 30), "mode": "rail", "line_no": 2}
    assert legs[1]["seat_row"] == 12  # hard seat 58, five abreast: ceil(58 / 5)
    assert quarantine(loaded)[4] == ["travel_date: cannot parse '2024-01-20' as date",
                                     "to_station: unknown station '广州南'"]


def test_timezone_is_converted_to_local_wall_clock(loaded, tmp_path):
    mapping = tmp_path / "utc.yaml"
    mapping.write_text("kind: payment\ntimezone: UTC\ntime_format: '%Y-%m-%dT%H:%M:%SZ'\n"
                       "columns: {merchant_id: shop}\n", encoding="utf-8")
    path = write_csv(tmp_path / "pay.csv", ["id_no", "shop", "txn_time", "amount"],
                     [[id_no(1), "M1", "2024-01-19T23:30:00Z", "12.5"]])
    ingest_file(loaded, "payment", path, load_mapping(mapping))
    stay = query(loaded, "SELECT place_kind, place_id, start_time, end_time, day FROM stays")[0]
    assert stay == {"place_kind": "merchant", "place_id": "M1",
                    "start_time": dt.datetime(2024, 1, 20, 7, 30),
                    "end_time": dt.datetime(2024, 1, 20, 7, 30), "day": dt.date(2024, 1, 20)}


def test_value_maps_apply_before_validation(loaded, tmp_path):
    mapping = tmp_path / "cases.yaml"
    mapping.write_text("kind: case_report\nencoding: gb18030\ncolumns: {id_no: 证件号, status: 状态, "
                       "report_time: 报告时间}\nvalues:\n  status: {确诊: confirmed, 疑似: suspected}\n",
                       encoding="utf-8")
    path = write_csv(tmp_path / "cases.csv", ["证件号", "状态", "报告时间"], [
        [id_no(1), "疑似", "2024-01-02 09:00"], [id_no(1), "确诊", "2024-01-03 09:00"],
        [id_no(2), "待定", "2024-01-03 09:00"]], encoding="gb18030")
    ingest_file(loaded, "case_report", path, load_mapping(mapping))
    assert query(loaded, "SELECT status, n_reports FROM cases") == [
        {"status": "confirmed", "n_reports": 2}]
    assert quarantine(loaded)[4] == [
        "status: '待定' is not one of confirmed, asymptomatic, suspected, excluded, recovered"]


def test_a_missing_mapped_column_is_named(loaded, tmp_path):
    mapping = tmp_path / "m.yaml"
    mapping.write_text("kind: hotel_stay\ncolumns: {id_no: 证件号, room_no: 房号}\n", encoding="utf-8")
    path = write_csv(tmp_path / "h.csv", ["证件号", "venue_code", "checkin_time"],
                     [[id_no(1), "H1", "2024-01-01 20:00"]])
    with pytest.raises(IngestError, match=r"room_no \(delivered as '房号'\)"):
        ingest_file(loaded, "hotel_stay", path, load_mapping(mapping))


def test_wrong_encoding_is_a_clear_file_error(loaded, tmp_path):
    path = write_csv(tmp_path / "cases.csv", ["id_no", "status", "report_time"],
                     [[id_no(1), "确诊", "2024-01-02 09:00"]], encoding="gbk")
    with pytest.raises(IngestError, match="not valid utf-8"):
        ingest_file(loaded, "case_report", path)


@pytest.mark.parametrize("text, message", [
    ("kind: rail_ticket\ncolumns: {seat: 座位}\n", "not columns of rail_ticket"),
    ("kind: rail_ticket\nencoding: klingon\n", "unknown encoding"),
    ("kind: rail_ticket\ntimezone: Mars/Olympus\n", "unknown timezone"),
    ("kind: rail_ticket\nsheet: 1\n", "unknown mapping keys"),
    ("kind: flight_ticket\n", "mapping is for kind 'flight_ticket'"),
    ("kind: rail_ticket\ntime_format: 12\n", "strptime format"),
])
def test_mapping_files_are_checked(tmp_path, text, message):
    path = tmp_path / "m.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(IngestError, match=message):
        load_mapping(path, "rail_ticket")
