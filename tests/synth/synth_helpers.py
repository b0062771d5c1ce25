"""Reading helpers shared by the generator tests."""

from __future__ import annotations

import csv
from pathlib import Path


def read_rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def read_kind(root: Path, kind: str) -> list[dict]:
    """All rows of a kind: the single file, or every daily file of the kind's folder."""
    single = root / f"{kind}.csv"
    if single.exists():
        return read_rows(single)
    rows = []
    for f in sorted((root / kind).glob("*.csv")):
        rows += read_rows(f)
    return rows


def dirty_lines(root: Path) -> set[tuple[str, int]]:
    return {(r["file"], int(r["line"])) for r in read_rows(root / "truth" / "dirty_rows.csv")}
