"""Dirty rows: defective copies of real rows (bad times, reversed intervals, unknown codes,
malformed identifiers, wrong check digits, duplicates...), inserted next to the row they
were copied from, as a re-sent or mistyped record would be. Real rows stay intact, so
the truth stays consistent with the clean part of every source."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from epicenter.synth.idcard import CHECK_CHARS, check_char

TIME_COLS = {"start_time", "end_time", "event_time", "scan_time", "dep_time", "arr_time",
             "checkin_time", "checkout_time", "txn_time", "report_time", "isolation_time",
             "read_time"}
DATE_COLS = {"travel_date", "flight_date", "onset_date", "date"}
CODE_COLS = {"venue_code", "cell_id", "merchant_id", "area_code", "home_area_code",
             "from_station", "to_station", "parent_code", "origin_code", "destination_code",
             "city_code", "station_code", "meter_id", "household_id"}
ENUM_COLS = {"level", "category", "direction", "status", "sex", "indicator", "kind"}
NUMBER_COLS = {"amount", "trips", "count", "population", "capacity", "radius_m", "kwh",
               "registered_persons", "birth_year"}
PAIRS = (("start_time", "end_time"), ("dep_time", "arr_time"), ("checkin_time", "checkout_time"))
BAD_TIMES = ("2020-02-30 25:61:00", "N/A", "00:00:00", "2020/13/45 08:00", "1900-01-00 00:00:00")


# A reference table's own key: replacing it makes a new valid entry, not a defect.
OWN_KEYS = {"area": "area_code", "cell_tower": "cell_id", "venue": "venue_code",
            "merchant": "merchant_id", "station": "station_code", "meter": "meter_id"}


def _options(row: dict, own_key: str | None = None) -> list[tuple[str, str]]:
    """(defect, column) pairs applicable to this row."""
    opts = [("duplicate", "")]
    for col, value in row.items():
        if not value or col == own_key:
            continue
        if col in TIME_COLS:
            opts.append(("bad_time", col))
        elif col in DATE_COLS:
            opts.append(("bad_date", col))
        elif col in CODE_COLS:
            opts.append(("unknown_code", col))
        elif col in ENUM_COLS:
            opts.append(("bad_enum", col))
        elif col in NUMBER_COLS:
            opts.append(("bad_number", col))
        elif col in ("lon", "lat"):
            opts.append(("bad_coordinate", col))
        elif col == "id_no" and len(value) == 18:
            opts += [("malformed_id", col), ("bad_check_digit", col)]
        elif col == "phone":
            opts.append(("malformed_phone", col))
    for a, b in PAIRS:
        if row.get(a) and row.get(b) and row[a] < row[b]:
            opts.append(("end_before_start", a))
    return opts


def _corrupt(row: dict, defect: str, col: str, rng: np.random.Generator) -> dict:
    row = dict(row)
    v = row.get(col, "")
    if defect == "bad_time":
        row[col] = BAD_TIMES[int(rng.integers(0, len(BAD_TIMES)))]
    elif defect == "bad_date":
        row[col] = ("2020-13-40", "2020-02-31", "yesterday")[int(rng.integers(0, 3))]
    elif defect == "unknown_code":
        row[col] = f"ZZ{int(rng.integers(10**6, 10**7))}"
    elif defect == "bad_enum":
        row[col] = ("unknown", "其他", "N")[int(rng.integers(0, 3))] + "?"
    elif defect == "bad_number":
        row[col] = ("abc", "-", "1e+999x")[int(rng.integers(0, 3))]
    elif defect == "bad_coordinate":
        row[col] = ("999.000000", "-181.5", "0.0abc")[int(rng.integers(0, 3))]
    elif defect == "malformed_id":
        row[col] = (v[:17], v[:10] + "AB" + v[12:], v + "9")[int(rng.integers(0, 3))]
    elif defect == "bad_check_digit":
        good = check_char(v[:17])
        row[col] = v[:17] + next(c for c in CHECK_CHARS[int(rng.integers(0, 11)):] + CHECK_CHARS
                                 if c != good)
    elif defect == "malformed_phone":
        row[col] = (v[:10], v[:3] + "-" + v[3:], "0" + v[1:] + "1")[int(rng.integers(0, 3))]
    elif defect == "end_before_start":
        b = dict(PAIRS)[col]
        row[col], row[b] = row[b], row[col]
    return row


def inject(table: pa.Table, rate: float, rng: np.random.Generator, force: bool,
           kind: str | None = None) -> tuple[pa.Table, list[tuple[int, str]]]:
    """Insert defective copies; returns the new table and (row position, defect) pairs."""
    n = table.num_rows
    if n == 0:
        return table, []
    k = int(rng.binomial(n, rate))
    if force:
        k = max(k, 1)
    if k == 0:
        return table, []
    src = np.sort(rng.choice(n, min(k, n), replace=False))
    rows = table.take(pa.array(src)).to_pylist()
    new, defects = [], []
    for row in rows:
        opts = _options(row, OWN_KEYS.get(kind or ""))
        defect, col = opts[int(rng.integers(0, len(opts)))]
        new.append(row if defect == "duplicate" else _corrupt(row, defect, col, rng))
        defects.append(defect)
    extra = pa.Table.from_pylist(new, schema=table.schema)
    combined = pa.concat_tables([table, extra])
    after = np.concatenate([np.arange(n), src])  # a copy follows the row it came from
    tie = np.concatenate([np.zeros(n, int), np.arange(1, len(src) + 1)])
    order = np.lexsort((tie, after))
    out = combined.take(pa.array(order))
    pos = np.empty(len(order), dtype=np.int64)
    pos[order] = np.arange(len(order))
    return out, [(int(pos[n + i]), d) for i, d in enumerate(defects)]
