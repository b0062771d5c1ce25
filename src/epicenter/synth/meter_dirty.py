"""Defective meter-reading rows: where they go and what they look like.

Each defect is an extra row inserted right after a clean "anchor" reading, so removing the
listed rows gives back exactly the clean readings (96 per meter per day):
- ``duplicate``: an exact copy of the anchor row (the listed line is the second occurrence);
- ``bad_time``: the anchor's meter and kWh with a read_time that is not a valid time;
- ``bad_value``: the anchor's meter and time with a negative or absurd kWh;
- ``unknown_code``: a plausible reading for a meter id that is not in meter.csv.
All randomness is drawn when the day is planned, so the rows depend only on the rng state.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from epicenter.synth.meter_format import kwh_text

DEFECTS = ("duplicate", "bad_time", "bad_value", "unknown_code")
# templates of invalid read_time values: hour 24+, month 13, day 32, minute 70+, blanks
_BAD_TIMES = (
    "{d} 24:{mm}:00", "{y}-13-{dd} {hh}:{mm}:00", "{y}-{mo}-32 {hh}:{mm}:00",
    "{d} {hh}:7{m1}:00", "", "#VALUE!",
)


@dataclass
class DirtyPlan:
    """The defective rows of one file: anchor row indices (sorted, unique) and their draws."""

    anchors: np.ndarray
    defects: np.ndarray  # index into DEFECTS
    u1: np.ndarray  # uniform draws choosing the variant of each defect
    u2: np.ndarray

    @classmethod
    def draw(cls, n_rows: int, n_units: int, rate: float, rng: np.random.Generator) -> DirtyPlan:
        """About ``rate * n_units`` defects among ``n_rows`` clean rows."""
        count = int(rng.binomial(n_units, rate)) if n_rows and rate > 0 else 0
        anchors = np.unique(rng.integers(0, max(n_rows, 1), count))
        k = anchors.size
        return cls(anchors, rng.integers(0, len(DEFECTS), k), rng.random(k), rng.random(k))

    def lines(self) -> np.ndarray:
        """Physical line of every defective row: header, clean rows up to the anchor, and
        the defective rows inserted before it."""
        return self.anchors + np.arange(self.anchors.size) + 3


def unknown_id(meter_id: str, u: float, known: set[str]) -> str:
    """A plausible-looking meter id that is not in ``known`` (a mistyped or foreign id)."""
    stem, start = meter_id[:-3], int(u * 1000)
    for j in range(1000):
        candidate = f"{stem}{(start + j) % 1000:03d}"
        if candidate not in known:
            return candidate
    suffix = 0
    while f"{meter_id}{suffix}" in known:
        suffix += 1
    return f"{meter_id}{suffix}"


def bad_time(read_time: str, u: float) -> str:
    """An invalid read_time derived from a valid ``YYYY-MM-DD HH:MM:SS`` one."""
    when = dt.datetime.strptime(read_time, "%Y-%m-%d %H:%M:%S")
    template = _BAD_TIMES[int(u * len(_BAD_TIMES))]
    return template.format(
        d=when.date().isoformat(), y=f"{when.year:04d}", mo=f"{when.month:02d}",
        dd=f"{when.day:02d}", hh=f"{when.hour:02d}", mm=f"{max(when.minute, 15):02d}",
        m1=when.minute % 10,
    )


def bad_wh(u1: float, u2: float) -> int:
    """A negative reading (a register reset) or an absurd one (a unit or parsing error)."""
    if u1 < 0.5:
        return -int(1 + u2 * 5000)
    return int(1e8 + u2 * 1e10)  # 100,000 .. 10,000,000 kWh in 15 minutes


def render(defect: int, meter_id: str, read_time: str, wh: int, u1: float, u2: float,
           known: set[str]) -> bytes:
    """The CSV text of one defective row anchored on a clean reading."""
    name = DEFECTS[defect]
    if name == "bad_time":
        read_time = bad_time(read_time, u2)
    elif name == "bad_value":
        wh = bad_wh(u1, u2)
    elif name == "unknown_code":
        meter_id = unknown_id(meter_id, u2, known)
    return f"{meter_id},{read_time},{kwh_text(wh)}\n".encode()
