"""Smart-meter writer: templates, occupancy signal, enterprise resumption, dirty rows."""

from __future__ import annotations

import csv
import datetime as dt

import numpy as np
import pyarrow as pa
import pytest

from epicenter.synth import meter_format
from epicenter.synth.meter_enterprise import EnterpriseLoad
from epicenter.synth.meter_load import STATES, HouseholdLoad, state_codes
from epicenter.synth.meters import MeterWriter

START = dt.date(2020, 1, 13)  # a Monday in January (heating season)
DAYS = 3
PER_STATE = 4
# occupied households: the first half keep someone home all day, the second half are all
# out at work 08:00-18:00 (same pattern the quarantined and left households are given)
HOUSEHOLD_STATES = [s for s in STATES for _ in range(PER_STATE)]
N = len(HOUSEHOLD_STATES)
SLOT = np.arange(96)
DAYTIME = (SLOT >= 36) & (SLOT < 68)  # 09:00-17:00
MEMBERS = 3


def households() -> pa.Table:
    return pa.table({
        "household_id": [f"H{i:05d}" for i in range(N)],
        "meter_id": [f"EM{i:08d}" for i in range(N)],
        "area_code": ["420102001001"] * N,
        "address": [f"{i} Jiefang Road, Room {i}" for i in range(N)],
        "registered_persons": [MEMBERS] * N,
    })


def enterprises() -> pa.Table:
    return pa.table({
        "meter_id": ["EE00000001", "EE00000002", "EE00000003"],
        "venue_code": ["420102V000001", "420102V000002", "420102V000003"],
        "area_code": ["420102", "420102", "420103"],
        "industry": ["manufacturing", "finance", "information technology"],
        "n_workers": [200, 40, 60],
        "resumption_date": pa.array([START + dt.timedelta(days=1), START + dt.timedelta(days=1),
                                     None], pa.date32()),
    })


def occupancy() -> tuple[np.ndarray, np.ndarray]:
    """All members home at night; awake 06:30-23:00; the 'all out' households leave
    08:00-18:00, the others keep one member home and awake."""
    home = np.full((N, 96), MEMBERS, dtype=np.int16)
    all_out = np.array([i % PER_STATE >= PER_STATE // 2 for i in range(N)])
    work = (SLOT >= 32) & (SLOT < 72)
    home[np.ix_(all_out, work)] = 0
    home[np.ix_(~all_out, work)] = 1
    awake = np.where((SLOT >= 26) & (SLOT < 92), home, 0).astype(np.int16)
    return home, awake


def generate(out, seed: int = 1, dirty_rate: float = 0.0, ents: pa.Table | None = None):
    rng = np.random.default_rng(seed)
    w = MeterWriter(out, households(), enterprises() if ents is None else ents, START, DAYS,
                    rng, dirty_rate=dirty_rate)
    home, awake = occupancy()
    states = np.array(HOUSEHOLD_STATES, dtype=object)
    for d in range(DAYS):
        w.write_day(d, START + dt.timedelta(days=d), home, awake, states)
    w.finish()
    return w


def read_lines(path) -> list[str]:
    return path.read_text(encoding="utf-8").split("\n")[:-1]


def clean_readings(out, day: int, dirty: list[dict]) -> dict[str, np.ndarray]:
    """kWh per meter (96 slots in time order) of one day file, listed dirty lines removed."""
    rel = f"meter_reading/{START + dt.timedelta(days=day)}.csv"
    skip = {r["line"] for r in dirty if r["file"] == rel}
    lines = read_lines(out / rel)
    by_meter: dict[str, list[tuple[str, float]]] = {}
    for n, line in enumerate(lines[1:], start=2):
        if n not in skip:
            meter, time, kwh = line.split(",")
            by_meter.setdefault(meter, []).append((time, float(kwh)))
    return {m: np.array([k for _, k in sorted(v)]) for m, v in by_meter.items()}


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    out = tmp_path_factory.mktemp("meters")
    return out, generate(out)


def _stats(readings: dict[str, np.ndarray], state: str) -> list[tuple[float, float, float]]:
    """(mean, std, daytime mean) per household of one state."""
    out = []
    for i, s in enumerate(HOUSEHOLD_STATES):
        if s == state:
            k = readings[f"EM{i:08d}"]
            out.append((k.mean(), k.std(), k[DAYTIME].mean()))
    return out


def test_headers_and_reference_rows(city):
    out, _ = city
    assert read_lines(out / "meter.csv")[0] == \
        "meter_id,household_id,kind,area_code,industry,address,registered_persons"
    rows = list(csv.DictReader(open(out / "meter.csv", encoding="utf-8")))
    assert len(rows) == N + 3
    assert rows[0] == {"meter_id": "EM00000000", "household_id": "H00000", "kind": "residential",
                       "area_code": "420102001001", "industry": "",
                       "address": "0 Jiefang Road, Room 0", "registered_persons": "3"}
    assert rows[N]["kind"] == "enterprise" and rows[N]["household_id"] == "420102V000001"
    assert rows[N]["industry"] == "manufacturing"
    for d in range(DAYS):
        day = START + dt.timedelta(days=d)
        assert read_lines(out / f"meter_reading/{day}.csv")[0] == "meter_id,read_time,kwh"
    truth = read_lines(out / "truth/enterprise_resumption.csv")
    assert truth == ["meter_id,venue_code,resumption_date",
                     "EE00000001,420102V000001,2020-01-14", "EE00000002,420102V000002,2020-01-14",
                     "EE00000003,420102V000003,"]


def test_96_readings_per_meter_per_day_ending_at_next_midnight(city):
    out, w = city
    meters = [r["meter_id"] for r in csv.DictReader(open(out / "meter.csv", encoding="utf-8"))]
    for d in range(DAYS):
        day = START + dt.timedelta(days=d)
        lines = read_lines(out / f"meter_reading/{day}.csv")[1:]
        assert len(lines) == 96 * len(meters)
        first = [x.split(",") for x in lines[:96]]
        assert {m for m, _, _ in (x.split(",") for x in lines)} == set(meters)
        assert first[0][1] == f"{day} 00:15:00"
        assert first[-1][1] == f"{day + dt.timedelta(days=1)} 00:00:00"
        assert [t for _, t, _ in first] == meter_format.read_times(day)
        assert all(len(k.split(".")[1]) == 3 and float(k) >= 0 for _, _, k in first)


def test_occupied_and_vacant_households_are_separable(city):
    out, w = city
    for d in range(DAYS):
        r = clean_readings(out, d, w.dirty_rows)
        occupied = _stats(r, "occupied") + _stats(r, "returned")
        vacant_like = _stats(r, "vacant_long") + _stats(r, "away_festival")
        assert min(s[0] for s in occupied) > 1.5 * max(s[0] for s in vacant_like)
        assert min(s[1] for s in occupied) > 3 * max(s[1] for s in vacant_like)
        long_vacant = np.concatenate([r[f"EM{i:08d}"] for i, s in enumerate(HOUSEHOLD_STATES)
                                      if s == "vacant_long"])
        assert long_vacant.max() <= 0.002  # near-zero, flat: mains mostly off
        away = _stats(r, "away_festival")
        # the fridge keeps an away household clearly above a long-vacant one
        assert min(s[0] for s in away) > 5 * max(long_vacant.mean(), 0.001)


def test_quarantined_shows_daytime_load_and_left_looks_vacant(city):
    out, w = city
    for d in range(DAYS):
        r = clean_readings(out, d, w.dirty_rows)
        all_out = [s for i, s in enumerate(_stats(r, "occupied")) if i >= PER_STATE // 2]
        quarantined = _stats(r, "quarantined")
        left = _stats(r, "quarantined_left")
        away = _stats(r, "away_festival")
        # same given schedule (all out in the day), but isolation keeps them home
        assert min(q[2] for q in quarantined) > 2 * max(o[2] for o in all_out)
        # a quarantined household that left looks vacant (base and fridge only), unlike
        # any household whose members are really home
        home = _stats(r, "occupied") + _stats(r, "returned") + quarantined
        assert max(s[0] for s in left) < min(s[0] for s in home)
        assert max(s[1] for s in left) < min(s[1] for s in home) / 3
        assert max(s[2] for s in left) < min(q[2] for q in quarantined)
        assert max(s[1] for s in left) < 2 * max(s[1] for s in away)


def test_cooking_peaks_and_winter_heating():
    rng = np.random.default_rng(3)
    n = 400
    load = HouseholdLoad(np.full(n, 3), rng)
    home = np.full((n, 96), 2, dtype=np.int16)
    awake = home.copy()
    codes = state_codes(np.array(["occupied"] * n))
    jan = load.day_kwh(slice(0, n), 0, 1, 1.0, home, awake, codes, rng).mean(axis=0)
    may = load.day_kwh(slice(0, n), 0, 5, 1.0, home, awake, codes, rng).mean(axis=0)
    assert jan.mean() > 1.5 * may.mean()
    at = {h: may[int(h * 4)] for h in (7.0, 12.0, 18.5, 10.0, 15.0, 3.0)}
    assert min(at[7.0], at[12.0], at[18.5]) > 2 * max(at[10.0], at[15.0])
    assert at[18.5] > 2 * at[3.0]


def test_fridge_cycles_match_duty_and_continue_across_days():
    load = HouseholdLoad(np.full(50, 2), np.random.default_rng(4))
    two_days = np.concatenate([load.fridge_fraction(slice(0, 50), 0),
                               load.fridge_fraction(slice(0, 50), 1)], axis=1)
    assert two_days.min() >= -1e-5 and two_days.max() <= 1 + 1e-5
    duty = load.fridge_on / load.fridge_period
    assert np.allclose(two_days.mean(axis=1), duty, atol=0.03)
    # on-time of a 45-minute window spanning midnight equals the continuous formula
    t = np.array([1440.0 - 30, 1440.0 + 15])
    x = t[None, :] - load.fridge_phase[:, None]
    c = np.floor(x / load.fridge_period[:, None])
    cum = c * load.fridge_on[:, None] + np.minimum(x - c * load.fridge_period[:, None],
                                                   load.fridge_on[:, None])
    span = (two_days[:, 94] + two_days[:, 95] + two_days[:, 96]) * 15
    assert np.allclose(span, cum[:, 1] - cum[:, 0], atol=0.02)


def test_enterprise_ramps_after_resumption(city):
    out, w = city
    work = (SLOT >= 40) & (SLOT < 64)  # 10:00-16:00
    night = SLOT < 16
    per_day = [clean_readings(out, d, w.dirty_rows) for d in range(DAYS)]
    for meter in ("EE00000001", "EE00000002"):
        before = per_day[0][meter]
        assert before[work].mean() < 1.2 * before[night].mean()  # standby only
        ratios = [r[meter][work].mean() / r[meter][night].mean() for r in per_day[1:]]
        assert ratios[0] > 1.3 and ratios[1] > ratios[0] * 1.05  # resumed, ramping up
    never = [r["EE00000003"] for r in per_day]
    assert all(k[work].mean() < 1.2 * k[night].mean() for k in never)


def test_enterprise_works_normally_before_its_festival_closure():
    load = EnterpriseLoad(["finance"], np.array([50]), np.array(["2020-02-10"], "datetime64[D]"),
                          np.random.default_rng(5), np.array(["2020-01-20"], "datetime64[D]"))
    monday = dt.date(2020, 1, 13)
    assert load.activity(monday)[0] == 1.0
    assert load.activity(dt.date(2020, 1, 27))[0] == 0.0
    assert 0 < load.activity(dt.date(2020, 2, 10))[0] < 1.0
    assert load.activity(dt.date(2020, 3, 2))[0] == 1.0
    kwh = load.day_kwh(monday, np.random.default_rng(6))[0]
    assert kwh[(SLOT >= 40) & (SLOT < 64)].mean() > 2 * kwh[SLOT < 16].mean()


def test_determinism_by_seed(tmp_path):
    a, b, c = (generate(tmp_path / n, seed=s, dirty_rate=0.05) for n, s in
               (("a", 7), ("b", 7), ("c", 8)))
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.csv"))
    assert len(files) == DAYS + 2
    for f in files:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()
    assert a.dirty_rows == b.dirty_rows
    day = f"meter_reading/{START}.csv"
    assert (tmp_path / "a" / day).read_bytes() != (tmp_path / "c" / day).read_bytes()


def test_dirty_rows_are_listed_exactly_and_really_defective(tmp_path):
    w = generate(tmp_path, seed=11, dirty_rate=0.3)
    listed = w.dirty_rows
    assert {r["defect"] for r in listed if r["kind"] == "meter_reading"} == \
        {"duplicate", "bad_time", "bad_value", "unknown_code"}
    meter_rows = read_lines(tmp_path / "meter.csv")
    known = {line.split(",")[0] for line in meter_rows[1:]}
    for r in (r for r in listed if r["kind"] == "meter"):
        assert r["defect"] == "duplicate" and r["file"] == "meter.csv"
        assert meter_rows[r["line"] - 1] in meter_rows[: r["line"] - 1]
    files = {r["file"] for r in listed if r["kind"] == "meter_reading"}
    assert len(files) == DAYS
    for rel in files:
        lines = read_lines(tmp_path / rel)
        bad = {r["line"]: r["defect"] for r in listed if r["file"] == rel}
        seen: set[str] = set()
        for n, line in enumerate(lines[1:], start=2):
            meter, time, kwh = line.split(",")
            defect = bad.get(n)
            valid_time = _parses(time)
            if defect == "duplicate":
                assert line in seen
            elif defect == "bad_time":
                assert not valid_time
            elif defect == "bad_value":
                assert float(kwh) < 0 or float(kwh) > 1e4
            elif defect == "unknown_code":
                assert meter not in known and valid_time
            else:  # every row not listed is clean
                assert valid_time and meter in known and 0 <= float(kwh) < 1e4
                assert line not in seen
            seen.add(line)
        assert len(lines) - 1 - len(bad) == 96 * (N + 3)


def _parses(text: str) -> bool:
    try:
        dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return False
    return True


def test_formatter_renders_any_id_width_and_large_values():
    ids = ["M1", "METER-000002", "M3"]
    fmt = meter_format.ReadingFormatter(ids)
    fmt.set_day(dt.date(2020, 2, 28))
    rng = np.random.default_rng(9)
    wh = rng.integers(0, 9_999, (3, 96))
    wh[1, 5], wh[2, 0], wh[0, 95] = 123_456_789, 10_000, 0
    for first, block in ((0, wh), (1, wh[1:]), (0, wh[:1] % 9_999)):
        rendered = fmt.render(first, block)
        times = meter_format.read_times(dt.date(2020, 2, 28))
        expected = "".join(f"{ids[first + i]},{times[s]},{block[i, s] // 1000}."
                           f"{block[i, s] % 1000:03d}\n"
                           for i in range(block.shape[0]) for s in range(96))
        assert rendered.data.tobytes().decode() == expected
        assert rendered.offset(block.size) == len(expected)
    assert times[-1] == "2020-02-29 00:00:00"


def test_city_without_enterprises(tmp_path):
    empty = enterprises().slice(0, 0)
    w = generate(tmp_path, seed=2, dirty_rate=0.0, ents=empty)
    assert w.dirty_rows == []
    lines = read_lines(tmp_path / f"meter_reading/{START}.csv")
    assert len(lines) == 1 + 96 * N
    assert read_lines(tmp_path / "truth/enterprise_resumption.csv") == [
        "meter_id,venue_code,resumption_date"]


def test_meter_duplicates_listed_at_physical_lines_even_with_multiline_addresses(tmp_path):
    hh = households()
    addresses = [f"{i} Jiefang Road\nRoom {i}" if i % 3 == 0 else f"Room {i}" for i in range(N)]
    hh = hh.set_column(hh.schema.get_field_index("address"), "address", pa.array(addresses))
    w = MeterWriter(tmp_path, hh, enterprises(), START, DAYS, np.random.default_rng(3),
                    dirty_rate=0.5)
    listed = {r["line"] for r in w.dirty_rows}
    assert len(listed) > 5
    with open(tmp_path / "meter.csv", encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        starts, previous, last_line = {}, None, 1
        next(reader)
        for row in reader:
            first_line = last_line + 1
            last_line = reader.line_num
            starts[first_line] = row == previous
            previous = row
    assert {line for line, dup in starts.items() if dup} == listed
    assert sum(1 for dup in starts.values() if not dup) == N + 3


def test_rejects_bad_inputs(tmp_path):
    w = MeterWriter(tmp_path, households(), enterprises(), START, DAYS,
                    np.random.default_rng(1))
    home, awake = occupancy()
    with pytest.raises(ValueError, match="shape"):
        w.write_day(0, START, home[:3], awake, np.array(HOUSEHOLD_STATES))
    with pytest.raises(ValueError, match="unknown household states"):
        w.write_day(0, START, home, awake, np.array(["occupied"] * (N - 1) + ["asleep"]))
    states = np.array(HOUSEHOLD_STATES)
    with pytest.raises(ValueError, match="not a day of the record"):
        w.write_day(1, START, home, awake, states)
    with pytest.raises(ValueError, match="not a day of the record"):
        w.write_day(DAYS, START + dt.timedelta(days=DAYS), home, awake, states)


def test_failed_day_leaves_no_file(tmp_path, monkeypatch):
    w = MeterWriter(tmp_path, households(), enterprises(), START, DAYS,
                    np.random.default_rng(1))
    home, awake = occupancy()

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(w._enterprise_load, "day_kwh", broken)
    with pytest.raises(RuntimeError):
        w.write_day(0, START, home, awake, np.array(HOUSEHOLD_STATES))
    assert list((tmp_path / "meter_reading").iterdir()) == []
