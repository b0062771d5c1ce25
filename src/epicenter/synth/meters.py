"""Smart-meter deliveries of the synthetic city: meter.csv and 15-minute readings per day.

``MeterWriter`` is called by the generator core once per simulated day with the true
occupancy of every household (members home / home and awake per 15-minute slot, and the
household's state) and writes:
- ``meter.csv`` (reference template) at construction: one residential meter per household,
  then one enterprise meter per enterprise (its ``household_id`` is the customer account,
  here the enterprise's venue code). ``enterprises`` may carry an optional ``closed_from``
  date (festival closure): the enterprise works normally before it;
- ``meter_reading/YYYY-MM-DD.csv``: the 96 readings of every meter for the intervals that
  START on that date, meter by meter in time order. ``read_time`` is the interval's end,
  so the last reading of a file is stamped next day ``00:00:00``;
- ``truth/enterprise_resumption.csv`` on ``finish()``.
A few defective rows are inserted (see ``meter_dirty``) and listed in ``dirty_rows``.
``dirty_rate`` is the chance that a meter's day carries one defective reading row (and, in
meter.csv, that a row is followed by its exact duplicate).
"""

from __future__ import annotations

import csv
import datetime as dt
import os
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import repeat
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from epicenter.synth import meter_dirty
from epicenter.synth.meter_enterprise import EnterpriseLoad
from epicenter.synth.meter_format import SLOTS, ReadingFormatter, read_times
from epicenter.synth.meter_load import HouseholdLoad, state_codes

METER_COLUMNS = ("meter_id", "household_id", "kind", "area_code", "industry", "address",
                 "registered_persons")
READING_COLUMNS = ("meter_id", "read_time", "kwh")
RESUMPTION_COLUMNS = ("meter_id", "venue_code", "resumption_date")
READING_DIR = "meter_reading"
BLOCK_METERS = 16_384  # meters rendered per step: ~60 MB of text, bounded memory
_MAX_PENDING_WRITES = 2  # rendered blocks waiting for the writer thread


def _column(table: pa.Table, name: str) -> list:
    return table.column(name).to_pylist()


class MeterWriter:
    """Writes the smart-meter sources; see the module docstring for the files."""

    def __init__(self, out_dir: str | os.PathLike, households: pa.Table, enterprises: pa.Table,
                 start: dt.date, days: int, rng: np.random.Generator,
                 dirty_rate: float = 0.002) -> None:
        self.out_dir = Path(out_dir)
        self.start, self.days, self.rng, self.dirty_rate = start, days, rng, dirty_rate
        self.dirty_rows: list[dict] = []
        self._households, self._enterprises = households, enterprises
        self.n_households, self.n_enterprises = households.num_rows, enterprises.num_rows
        self._meter_ids = [str(m) for m in _column(households, "meter_id")] + \
            [str(m) for m in _column(enterprises, "meter_id")]
        self._known = set(self._meter_ids)
        if len(self._known) != len(self._meter_ids):
            raise ValueError("meter_id values must be unique")
        self._load = HouseholdLoad(
            households.column("registered_persons").to_numpy(zero_copy_only=False), rng)
        self._enterprise_load = EnterpriseLoad(
            _column(enterprises, "industry"),
            enterprises.column("n_workers").to_numpy(zero_copy_only=False),
            enterprises.column("resumption_date").to_numpy(zero_copy_only=False), rng,
            closed_from=enterprises.column("closed_from").to_numpy(zero_copy_only=False)
            if "closed_from" in enterprises.column_names else None)
        self._format = ReadingFormatter(self._meter_ids)
        self._days_written: set[int] = set()
        (self.out_dir / READING_DIR).mkdir(parents=True, exist_ok=True)
        self._write_meters()

    # ---- reference file ------------------------------------------------------------------
    def _meter_rows(self) -> list[tuple]:
        h, e = self._households, self._enterprises
        n, ne = h.num_rows, e.num_rows
        # csv writes None as an empty field
        return list(zip(
            _column(h, "meter_id"), _column(h, "household_id"), repeat("residential", n),
            _column(h, "area_code"), repeat(None, n), _column(h, "address"),
            _column(h, "registered_persons"), strict=True,
        )) + list(zip(
            _column(e, "meter_id"), _column(e, "venue_code"), repeat("enterprise", ne),
            _column(e, "area_code"), _column(e, "industry"), repeat(None, ne), repeat(None, ne),
            strict=True,
        ))

    def _write_meters(self) -> None:
        rows = self._meter_rows()
        n = len(rows)
        count = int(self.rng.binomial(n, self.dirty_rate)) if n else 0
        duplicated = np.unique(self.rng.integers(0, max(n, 1), count))
        # physical lines per row: a quoted field may span lines (an address with a newline)
        address = self._households.column("address")
        if address.null_count < len(address) and pc.any(pc.match_substring(address, "\n")).as_py():
            heights = np.array([1 + sum(str(v).count("\n") for v in r if v) for r in rows])
        else:
            heights = np.ones(n, dtype=np.int64)
        ends = 1 + np.cumsum(heights)  # last line of each row before any duplicate
        with open(self.out_dir / "meter.csv", "w", newline="", encoding="utf-8") as f:
            out = csv.writer(f, lineterminator="\n")
            out.writerow(METER_COLUMNS)
            cut = shift = 0  # shift: lines taken by the duplicates written so far
            for i in duplicated.tolist():
                out.writerows(rows[cut:i + 1])
                out.writerow(rows[i])  # the exact duplicate, right after the original
                cut = i + 1
                self.dirty_rows.append({"kind": "meter", "file": "meter.csv",
                                        "line": int(ends[i]) + shift + 1, "defect": "duplicate"})
                shift += int(heights[i])
            out.writerows(rows[cut:])

    # ---- readings ------------------------------------------------------------------------
    def write_day(self, day_index: int, date: dt.date, home_slots: np.ndarray,
                  awake_slots: np.ndarray, states: np.ndarray) -> None:
        """Write ``meter_reading/<date>.csv`` from the day's true occupancy."""
        shape = (self.n_households, SLOTS)
        if home_slots.shape != shape or awake_slots.shape != shape:
            raise ValueError(f"home/awake slots must have shape {shape}")
        if len(states) != self.n_households:
            raise ValueError("one state per household is required")
        if not 0 <= day_index < self.days or date != self.start + dt.timedelta(days=day_index):
            raise ValueError(f"day {day_index} ({date}) is not a day of the record")
        if day_index in self._days_written:
            raise ValueError(f"day {day_index} was already written")
        codes = state_codes(states)
        rng = self.rng
        weather = float(np.clip(rng.normal(1.0, 0.15), 0.6, 1.4))  # a colder or milder day
        n_meters = self.n_households + self.n_enterprises
        plan = meter_dirty.DirtyPlan.draw(n_meters * SLOTS, n_meters, self.dirty_rate, rng)
        rel = f"{READING_DIR}/{date.isoformat()}.csv"
        part = self.out_dir / (rel + ".part")
        try:
            self._write_readings(part, date, day_index, weather, plan, home_slots,
                                 awake_slots, codes)
        except BaseException:
            part.unlink(missing_ok=True)  # never leave a half-written day behind
            raise
        os.replace(part, self.out_dir / rel)
        self._days_written.add(day_index)
        self.dirty_rows += [
            {"kind": "meter_reading", "file": rel, "line": int(line),
             "defect": meter_dirty.DEFECTS[d]}
            for line, d in zip(plan.lines(), plan.defects, strict=True)
        ]

    def _write_readings(self, part: Path, date: dt.date, day_index: int, weather: float,
                        plan: meter_dirty.DirtyPlan, home_slots: np.ndarray,
                        awake_slots: np.ndarray, codes: np.ndarray) -> None:
        rng = self.rng
        self._format.set_day(date)
        times = read_times(date)
        with open(part, "wb") as f, ThreadPoolExecutor(1) as writer:
            pending: deque[Future] = deque()

            def emit(pieces: list) -> None:
                # the writer thread overlaps disk I/O with computing the next block
                pending.append(writer.submit(f.writelines, pieces))
                if len(pending) > _MAX_PENDING_WRITES:
                    pending.popleft().result()

            emit([(",".join(READING_COLUMNS) + "\n").encode()])
            for a in range(0, self.n_households, BLOCK_METERS):
                rows = slice(a, min(a + BLOCK_METERS, self.n_households))
                kwh = self._load.day_kwh(rows, day_index, date.month, weather,
                                         home_slots[rows], awake_slots[rows], codes[rows], rng)
                emit(self._render_block(a, kwh, plan, times))
            if self.n_enterprises:
                kwh = self._enterprise_load.day_kwh(date, rng)
                for a in range(0, self.n_enterprises, BLOCK_METERS):
                    emit(self._render_block(self.n_households + a, kwh[a:a + BLOCK_METERS],
                                            plan, times))
            while pending:
                pending.popleft().result()

    def _render_block(self, first: int, kwh: np.ndarray, plan: meter_dirty.DirtyPlan,
                      times: list[str]) -> list:
        """Text of one block of meters, with the defective rows anchored inside it spliced
        in: a list of buffers to write in order."""
        wh = np.rint(kwh * 1000).astype(np.int64)
        block = self._format.render(first, wh)
        lo, hi = first * SLOTS, (first + wh.shape[0]) * SLOTS
        i0, i1 = np.searchsorted(plan.anchors, [lo, hi])
        pieces: list = []
        cut = 0
        for i in range(i0, i1):
            row = int(plan.anchors[i]) - lo
            pieces.append(block.data[block.offset(cut):block.offset(row + 1)])
            cut = row + 1
            meter, slot = divmod(row, SLOTS)
            pieces.append(meter_dirty.render(
                int(plan.defects[i]), self._meter_ids[first + meter], times[slot],
                int(wh[meter, slot]), float(plan.u1[i]), float(plan.u2[i]), self._known))
        pieces.append(block.data[block.offset(cut):block.offset(wh.shape[0] * SLOTS)])
        return pieces

    # ---- ground truth --------------------------------------------------------------------
    def finish(self) -> list[dict]:
        """Write the enterprise resumption truth; returns the dirty rows of every file."""
        e = self._enterprises
        truth = self.out_dir / "truth"
        truth.mkdir(parents=True, exist_ok=True)
        with open(truth / "enterprise_resumption.csv", "w", newline="", encoding="utf-8") as f:
            out = csv.writer(f, lineterminator="\n")
            out.writerow(RESUMPTION_COLUMNS)
            for m, venue, date in zip(_column(e, "meter_id"), _column(e, "venue_code"),
                                      _column(e, "resumption_date"), strict=True):
                out.writerow((m, venue, "" if date is None else date.isoformat()))
        return self.dirty_rows
