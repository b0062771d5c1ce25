"""Writing the delivery: CSV files in the reference templates (header row, comma, UTF-8,
local times `YYYY-MM-DD HH:MM:SS`), dirty rows injected and listed with their physical
line numbers, and the manifest naming every file's kind."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import yaml

from epicenter.synth import dirty
from epicenter.synth.params import SynthParams

WRITE = pacsv.WriteOptions(include_header=False, quoting_style="none")


def times(values, epoch: int) -> pa.Array:
    """Seconds from the first local midnight (NaN or inf: empty) as local time text."""
    v = np.asarray(values, dtype=np.float64)
    bad = ~np.isfinite(v)
    secs = np.where(bad, 0, np.floor(v)).astype(np.int64) + epoch
    arr = pa.array(secs, pa.timestamp("s"), mask=bad).cast(pa.string())
    return arr.fill_null("")


def to_strings(columns: dict, time_cols: tuple, epoch: int) -> pa.Table:
    out = {}
    for name, v in columns.items():
        if name in time_cols:
            out[name] = times(v, epoch)
        elif isinstance(v, pa.Array | pa.ChunkedArray):
            out[name] = v.cast(pa.string()).fill_null("")
        else:
            out[name] = pa.array(np.asarray(v).astype(str))
    return pa.table(out)


class CsvSink:
    """One CSV file written in chunks; remembers how many physical lines it holds."""

    def __init__(self, out: Delivery, kind: str, rel: str, columns: list[str]):
        self.out, self.kind, self.rel, self.columns = out, kind, rel, columns
        path = out.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        self.fh = open(path, "wb")
        self.fh.write((",".join(columns) + "\n").encode())
        self.lines = 1
        out.manifest.append({"path": rel, "kind": kind})

    def append(self, columns: dict, time_cols: tuple = (), offset_s: int = 0,
               inject: bool = True) -> None:
        table = to_strings(columns, time_cols, self.out.p.epoch + offset_s)
        table = table.select(self.columns)
        if inject:
            force = self.kind not in self.out.dirty_kinds
            table, found = dirty.inject(table, self.out.p.dirty_rate, self.out.rng, force,
                                         self.kind)
            for pos, defect in found:
                self.out.dirty.append({"kind": self.kind, "file": self.rel,
                                       "line": self.lines + 1 + pos, "defect": defect})
            if found:
                self.out.dirty_kinds.add(self.kind)
        self.out.counts[self.kind] = self.out.counts.get(self.kind, 0) + table.num_rows
        if table.num_rows:
            pacsv.write_csv(table, self.fh, write_options=WRITE)
        self.lines += table.num_rows

    def close(self) -> None:
        self.fh.close()


class Delivery:
    """The output folder: sources, manifest and the dirty-row register."""

    def __init__(self, root: Path, p: SynthParams):
        self.root, self.p = Path(root), p
        self.root.mkdir(parents=True, exist_ok=True)
        self.rng = p.rng("dirty")
        self.manifest: list[dict] = []
        self.dirty: list[dict] = []
        self.dirty_kinds: set[str] = set()
        self.counts: dict[str, int] = {}
        self.sinks: dict[str, CsvSink] = {}

    def write(self, kind: str, rel: str, columns: dict, time_cols: tuple = (),
              offset_s: int = 0, inject: bool = True) -> None:
        sink = CsvSink(self, kind, rel, list(columns))
        sink.append(columns, time_cols, offset_s, inject)
        sink.close()

    def sink(self, kind: str, columns: list[str]) -> CsvSink:
        if kind not in self.sinks:
            self.sinks[kind] = CsvSink(self, kind, f"{kind}.csv", columns)
        return self.sinks[kind]

    def add_external(self, rel: str, kind: str, dirty_rows: list[dict] | None = None) -> None:
        """A file written by another module (meters, syndromic)."""
        if not any(m["path"] == rel for m in self.manifest):
            self.manifest.append({"path": rel, "kind": kind})
        self.dirty.extend(dirty_rows or [])

    def close(self) -> None:
        for s in self.sinks.values():
            s.close()
        files = sorted(self.manifest, key=lambda m: m["path"])
        (self.root / "manifest.yaml").write_text(
            yaml.safe_dump({"files": files}, sort_keys=False, allow_unicode=True), encoding="utf-8")


def write_truth(root: Path, name: str, columns: dict, time_cols: tuple = (), epoch: int = 0
                ) -> None:
    """A ground-truth table (never dirty)."""
    table = to_strings(columns, time_cols, epoch)
    path = root / "truth" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        fh.write((",".join(table.column_names) + "\n").encode())
        if table.num_rows:
            pacsv.write_csv(table, fh, write_options=WRITE)


class TruthSink:
    """A truth CSV written in chunks (presence by day is separate files; this is for the
    ones that grow across days, such as venue occupancy)."""

    def __init__(self, root: Path, name: str, columns: list[str], epoch: int):
        path = root / "truth" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        self.fh = open(path, "wb")
        self.fh.write((",".join(columns) + "\n").encode())
        self.columns, self.epoch = columns, epoch

    def append(self, columns: dict, time_cols: tuple = ()) -> None:
        table = to_strings(columns, time_cols, self.epoch).select(self.columns)
        if table.num_rows:
            pacsv.write_csv(table, self.fh, write_options=WRITE)

    def close(self) -> None:
        self.fh.close()

