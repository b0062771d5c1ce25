"""Tiny hand-written deliveries for the ingestion tests."""

from __future__ import annotations

import csv
from pathlib import Path

from epicenter.ingest.validate import ID_CHECK_CHARS, ID_WEIGHTS


def id_no(serial: int, birth: str = "19850312") -> str:
    """A valid resident identity number (GB 11643 check digit)."""
    body = f"110105{birth}{serial % 1000:03d}"
    total = sum(int(d) * w for d, w in zip(body, ID_WEIGHTS, strict=True))
    return body + ID_CHECK_CHARS[total % 11]


def phone(serial: int) -> str:
    return f"138{serial:08d}"


def write_csv(path: Path, header: list[str], rows: list[list], encoding: str = "utf-8",
              delimiter: str = ",") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding=encoding, newline="") as f:
        w = csv.writer(f, delimiter=delimiter, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    return path


AREAS = [
    ["C1", "City", "city", "", "1000", "116.40", "39.90"],
    ["D1", "District 1", "district", "C1", "600", "116.41", "39.91"],
    ["D2", "District 2", "district", "C1", "400", "116.42", "39.92"],
]
TOWERS = [["T1", "116.41", "39.91", "500", "D1"], ["T2", "116.42", "39.92", "800", "D2"],
          ["T3", "116.43", "39.93", "800", "D2"]]
VENUES = [["V1", "Market", "market", "116.41", "39.91", "D1", "200"],
          ["V2", "Office", "office", "116.42", "39.92", "D2", ""],
          ["H1", "Hotel", "hotel", "116.43", "39.93", "D2", "80"]]
MERCHANTS = [["M1", "Shop", "V1", "116.41", "39.91", "D1"]]
STATIONS = [["BJP", "Beijing", "110000", "116.43", "39.90"],
            ["SHH", "Shanghai", "310000", "121.45", "31.25"]]
METERS = [["E1", "HH1", "residential", "D1", "", "Room 1, Lane 2", "3"]]


def persons(n: int = 4) -> list[list]:
    """n registered persons; persons 0 and 1 share a home."""
    return [[id_no(i), phone(i), f"Name{i}", "1985", "M" if i % 2 else "F", "D1",
             "Lane 1 No. 1" if i < 2 else f"Lane {i} No. {i}"] for i in range(n)]


def reference_delivery(root: Path, n_persons: int = 4) -> Path:
    write_csv(root / "area.csv", ["area_code", "name", "level", "parent_code", "population",
                                  "lon", "lat"], AREAS)
    write_csv(root / "cell_tower.csv", ["cell_id", "lon", "lat", "radius_m", "area_code"], TOWERS)
    write_csv(root / "venue.csv", ["venue_code", "name", "category", "lon", "lat", "area_code",
                                   "capacity"], VENUES)
    write_csv(root / "merchant.csv", ["merchant_id", "name", "venue_code", "lon", "lat",
                                      "area_code"], MERCHANTS)
    write_csv(root / "station.csv", ["station_code", "name", "city_code", "lon", "lat"], STATIONS)
    write_csv(root / "meter.csv", ["meter_id", "household_id", "kind", "area_code", "industry",
                                   "address", "registered_persons"], METERS)
    write_csv(root / "person.csv", ["id_no", "phone", "name", "birth_year", "sex",
                                    "home_area_code", "home_address"], persons(n_persons))
    return root
