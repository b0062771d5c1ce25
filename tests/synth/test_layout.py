"""Every source kind is delivered in its reference template, listed in the manifest."""

from __future__ import annotations

import json

import yaml
from synth_helpers import read_rows

# exact column lists of the reference templates (shared/spec/sources.md)
HEADERS = {
    "area": "area_code,name,level,parent_code,population,lon,lat",
    "person": "id_no,phone,name,birth_year,sex,home_area_code,home_address",
    "cell_tower": "cell_id,lon,lat,radius_m,area_code",
    "venue": "venue_code,name,category,lon,lat,area_code,capacity",
    "merchant": "merchant_id,name,venue_code,lon,lat,area_code",
    "station": "station_code,name,city_code,lon,lat",
    "meter": "meter_id,household_id,kind,area_code,industry,address,registered_persons",
    "cell_signaling": "phone,cell_id,start_time,end_time",
    "cell_ping": "phone,cell_id,event_time",
    "venue_scan": "id_no,phone,venue_code,scan_time,direction",
    "rail_ticket": "id_no,train_no,travel_date,car_no,seat_no,from_station,to_station,dep_time,arr_time",
    "flight_ticket": "id_no,flight_no,flight_date,seat_no,from_station,to_station,dep_time,arr_time",
    "hotel_stay": "id_no,venue_code,room_no,checkin_time,checkout_time",
    "payment": "id_no,phone,merchant_id,txn_time,amount",
    "case_report": "id_no,status,report_time,onset_date,isolation_time,area_code",
    "meter_reading": "meter_id,read_time,kwh",
    "syndromic": "date,area_code,indicator,count",
    "od_flow": "date,origin_code,destination_code,trips",
}
DAILY = ("cell_signaling", "cell_ping", "venue_scan", "payment", "meter_reading")
TRUTH = ("infections.csv", "cases.csv", "persons.csv", "trips.csv", "household_states.csv",
         "enterprise_resumption.csv", "outbreak_start.csv", "venue_occupancy.csv",
         "dirty_rows.csv", "params.json")


def test_every_kind_present_with_exact_header(city):
    for kind, header in HEADERS.items():
        files = sorted((city / kind).glob("*.csv")) if kind in DAILY else [city / f"{kind}.csv"]
        assert len(files) == (7 if kind in DAILY else 1), kind
        for f in files:
            with open(f, encoding="utf-8") as fh:
                assert fh.readline().rstrip("\n") == header, f
            assert f.stat().st_size > len(header) + 1, f"{f} has no rows"
    assert [f.name for f in sorted((city / "cell_ping").glob("*.csv"))][0] == "2020-01-10.csv"


def test_manifest_lists_every_file_with_its_kind(city):
    manifest = yaml.safe_load((city / "manifest.yaml").read_text(encoding="utf-8"))
    listed = {m["path"]: m["kind"] for m in manifest["files"]}
    on_disk = {p.relative_to(city).as_posix() for p in city.rglob("*")
               if p.is_file() and p.parts[len(city.parts)] != "truth" and p.name != "manifest.yaml"}
    assert set(listed) == on_disk
    for path, kind in listed.items():
        assert kind == ("area_shape" if path.endswith(".geojson") else path.split("/")[0].removesuffix(".csv"))
    assert set(listed.values()) == set(HEADERS) | {"area_shape"}


def test_area_hierarchy_and_shapes(city):
    areas = read_rows(city / "area.csv")
    levels = {a["area_code"]: a["level"] for a in areas}
    assert {"city", "district", "street", "community"} <= set(levels.values())
    for a in areas:
        if a["parent_code"]:
            order = ["city", "district", "street", "community"]
            assert order.index(levels[a["parent_code"]]) == order.index(a["level"]) - 1
    shapes = json.loads((city / "area_shape.geojson").read_text(encoding="utf-8"))
    coded = {f["properties"]["area_code"]: f["geometry"] for f in shapes["features"]}
    assert set(coded) == set(levels)
    for a in areas:  # the centroid lies inside the polygon
        ring = coded[a["area_code"]]["coordinates"][0]
        xs, ys = [p[0] for p in ring], [p[1] for p in ring]
        assert min(xs) <= float(a["lon"]) <= max(xs) and min(ys) <= float(a["lat"]) <= max(ys)


def test_truth_files_present(city):
    for name in TRUTH:
        assert (city / "truth" / name).exists(), name
    assert len(list((city / "truth" / "presence").glob("*.csv"))) == 7


def test_times_are_local_wall_clock_text(city):
    rows = read_rows(city / "venue_scan" / "2020-01-13.csv")
    clean = [r["scan_time"] for r in rows if len(r["scan_time"]) == 19]
    assert len(clean) > 0.95 * len(rows)
    assert all(t.startswith("2020-01-13 ") for t in clean[:500])
