"""Intercity transport: stations and airports (real codes for the other cities), a daily
timetable of sealed (G/D) and ordinary (K/T/Z) trains and flights, and seat assignment
(cars, rows, seat letters; hard seats are numbered five abreast)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pyarrow as pa

from epicenter.synth.geography import CITY_CODE, EXTERNAL_CITIES
from epicenter.synth.params import SynthParams

H = 3600
# the city's own stations: code, name, lon, lat, is_airport
HOME_STATIONS = (("JCN", "江城站", 114.42, 30.61, False), ("JDN", "江城东站", 114.43, 30.52, False),
                 ("JCH", "江城天河机场", 114.21, 30.78, True))
# external stations: code, name, city_code, lon, lat, is_airport
EXTERNAL_STATIONS = (
    ("BXP", "北京西站", "110000", 116.32, 39.89, False), ("AOH", "上海虹桥站", "310000", 121.32, 31.19, False),
    ("IZQ", "广州南站", "440100", 113.27, 22.99, False), ("IOQ", "深圳北站", "440300", 114.03, 22.61, False),
    ("CWQ", "长沙南站", "430100", 113.06, 28.15, False), ("ZAF", "郑州东站", "410100", 113.77, 34.76, False),
    ("CUW", "重庆北站", "500000", 106.55, 29.61, False), ("ICW", "成都东站", "510100", 104.14, 30.63, False),
    ("XUN", "信阳站", "411500", 114.08, 32.13, False), ("XGN", "孝感站", "420900", 113.93, 30.92, False),
    ("NXG", "南昌西站", "360100", 115.80, 28.62, False), ("ENH", "合肥南站", "340100", 117.29, 31.80, False),
    ("PEK", "北京首都国际机场", "110000", 116.60, 40.08, True), ("PVG", "上海浦东国际机场", "310000", 121.81, 31.14, True),
    ("CAN", "广州白云国际机场", "440100", 113.30, 23.39, True), ("SZX", "深圳宝安国际机场", "440300", 113.81, 22.64, True),
    ("CTU", "成都双流国际机场", "510100", 103.95, 30.58, True), ("CKG", "重庆江北国际机场", "500000", 106.64, 29.72, True),
)
AIRLINES = ("MU", "CZ", "CA", "HU", "3U", "FM")
SEALED_LETTERS = "ABCDF"  # second class, five abreast
FLIGHT_LETTERS = "ABCDEF"


@dataclasses.dataclass
class Timetable:
    vehicle_no: np.ndarray
    mode: np.ndarray  # "rail" | "flight"
    sealed: np.ndarray  # G/D trains and flights: seats with letters
    outbound: np.ndarray
    city: np.ndarray  # external city index into EXTERNAL_CITIES
    from_station: np.ndarray
    to_station: np.ndarray
    dep_s: np.ndarray  # seconds of day
    arr_s: np.ndarray
    cars: np.ndarray
    seats_per_car: np.ndarray

    @property
    def n(self) -> int:
        return len(self.vehicle_no)


def _km(lon1, lat1, lon2, lat2) -> float:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    return float(6371 * 2 * np.arcsin(np.sqrt(a)))


def station_rows() -> dict[str, list]:
    home = [(c, n, CITY_CODE, lo, la) for c, n, lo, la, _ in HOME_STATIONS]
    ext = [(c, n, cc, lo, la) for c, n, cc, lo, la, _ in EXTERNAL_STATIONS]
    rows = home + ext
    return {"station_code": [r[0] for r in rows], "name": [r[1] for r in rows],
            "city_code": [r[2] for r in rows], "lon": [f"{r[3]:.6f}" for r in rows],
            "lat": [f"{r[4]:.6f}" for r in rows]}


def build_timetable(p: SynthParams) -> Timetable:
    """Services per direction grow with the city so that trains are busy but not overfull."""
    rng = p.rng("timetable")
    city_index = {c[0]: i for i, c in enumerate(EXTERNAL_CITIES)}
    n_rail = int(np.clip(p.persons / 40_000, 2, 14))
    n_air = int(np.clip(p.persons / 150_000, 1, 5))
    rows = []
    used = set()
    for code, _name, cc, lon, lat, airport in EXTERNAL_STATIONS:
        here = HOME_STATIONS[2] if airport else HOME_STATIONS[int(rng.integers(0, 2))]
        km = _km(here[2], here[3], lon, lat) * (1.0 if airport else 1.25)
        fast = "G" if km > 300 else "D"
        kinds = ["F"] * n_air if airport else \
            ["KTZ"[(i // 3) % 3] if i % 3 == 2 and km < 900 else fast for i in range(n_rail)]
        for kind in kinds:
            speed = {"G": 280, "D": 200, "F": 650}.get(kind, 90)
            dur = km / speed * H + (2400 if kind == "F" else 900)
            for outbound in (True, False):
                latest = 23.5 * H - dur
                dep = float(rng.uniform(6.5 * H, max(7 * H, latest)))
                dep = round(dep / 300) * 300
                number = _number(kind, rng, used)
                stations = (here[0], code) if outbound else (code, here[0])
                cars = {"G": 16, "D": 8, "F": 1}.get(kind, 16)
                seats = {"G": 85, "D": 85, "F": 38 * 6}.get(kind, 118)
                rows.append((number, "flight" if kind == "F" else "rail", kind in "GDF",
                             outbound, city_index[cc], *stations, dep, dep + dur, cars, seats))
    cols = list(zip(*rows, strict=True))
    return Timetable(*(np.array(c) for c in cols))


def _number(kind: str, rng: np.random.Generator, used: set) -> str:
    while True:
        if kind == "F":
            v = f"{AIRLINES[int(rng.integers(0, len(AIRLINES)))]}{int(rng.integers(1000, 9999))}"
        else:
            v = f"{kind}{int(rng.integers(10, 2000 if kind in 'GD' else 900))}"
        if v not in used:
            used.add(v)
            return v


def assign_seats(tt: Timetable, vehicle: np.ndarray, party: np.ndarray,
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, pa.Array]:
    """Car number, seat row and seat label per passenger of one travel date; members of
    a party sit next to each other (a block of five seats)."""
    n = len(vehicle)
    car = np.zeros(n, dtype=np.int64)
    slot = np.zeros(n, dtype=np.int64)
    order = np.lexsort((party, vehicle))
    v_sorted, p_sorted = vehicle[order], party[order]
    for v in np.unique(vehicle):
        sel = order[v_sorted == v]
        parties, member = np.unique(p_sorted[v_sorted == v], return_inverse=True)
        blocks = tt.cars[v] * (tt.seats_per_car[v] // 5)
        chosen = rng.choice(blocks, len(parties), replace=len(parties) > blocks)
        rank = np.arange(len(sel)) - np.searchsorted(member, member, side="left")
        flat = chosen[member] * 5 + np.minimum(rank, 4)
        car[sel] = flat // tt.seats_per_car[v] + 1
        slot[sel] = flat % tt.seats_per_car[v]
    if n == 0:
        return car, slot, pa.array([], pa.string())
    flight = tt.mode[vehicle] == "flight"
    sealed = tt.sealed[vehicle] & ~flight
    # hard seats are numbered five abreast: seat k lies in row ceil(k / 5)
    row = np.where(flight, slot // 6 + 1, slot // 5 + 1)
    letter = np.where(flight, np.array(list(FLIGHT_LETTERS))[slot % 6],
                      np.array(list(SEALED_LETTERS))[slot % 5])
    label = np.where(flight, np.char.add(row.astype("U3"), letter),
                     np.where(sealed, np.char.add(np.char.zfill(row.astype("U3"), 2), letter),
                              (slot + 1).astype("U4")))
    return car, row, pa.array(label)
