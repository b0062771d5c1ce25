"""Deliveries: which files hold which kind, in which order they load.

A delivery is a folder; its files are listed in ``manifest.yaml`` or recognised by name
(``<kind>.csv``, ``<kind>.parquet``, ``area_shape.geojson``, any file under ``<kind>/``).
Reference data loads first (areas before what refers to areas, venues before
merchants, the person registry before events), whatever the order in the folder.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from epicenter.ingest.errors import IngestError
from epicenter.ingest.kinds import EVENT_KINDS, KINDS, REFERENCE_ORDER
from epicenter.ingest.mapping import Mapping, load_mapping
from epicenter.ingest.pipeline import ingest_file
from epicenter.settings import Settings

DATA_SUFFIXES = (".csv", ".parquet", ".txt", ".tsv", ".geojson", ".json")
LOAD_ORDER = {k: i for i, k in enumerate((*REFERENCE_ORDER, *EVENT_KINDS))}


@dataclass(frozen=True)
class Item:
    kind: str
    path: Path
    mapping: Mapping | None = None


def data_files(path: Path) -> list[Path]:
    """A file, or every data file in a folder (sorted, hidden files skipped)."""
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")
                      and p.suffix.lower() in DATA_SUFFIXES)
    if not path.exists():
        raise IngestError(f"{path}: no such file or folder")
    return [path]


def _from_manifest(root: Path, manifest: Path) -> list[Item]:
    try:
        data = yaml.safe_load(manifest.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as err:
        raise IngestError(f"{manifest}: cannot read manifest: {err}") from err
    entries = data.get("files") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise IngestError(f"{manifest}: expected a 'files:' list of {{path, kind, mapping}}")
    items = []
    for n, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict) or "path" not in entry or "kind" not in entry:
            raise IngestError(f"{manifest}: entry {n} needs 'path' and 'kind'")
        kind = str(entry["kind"])
        if kind not in KINDS:
            raise IngestError(f"{manifest}: entry {n}: unknown kind {kind!r}")
        mapping = load_mapping(root / entry["mapping"], kind) if entry.get("mapping") else None
        pattern = str(entry["path"])
        paths = sorted(root.glob(pattern)) if any(c in pattern for c in "*?[") else [root / pattern]
        for p in paths:
            items.extend(Item(kind, f, mapping) for f in data_files(p))
    return items


def _by_name(root: Path) -> tuple[list[Item], list[Path]]:
    items, ignored = [], []
    for p in sorted(root.iterdir()):
        if p.name.startswith(".") or p.name == "manifest.yaml":
            continue
        kind = p.name if p.is_dir() else p.stem
        if kind not in KINDS or (p.is_file() and p.suffix.lower() not in (".csv", ".parquet", ".geojson")):
            ignored.append(p)
            continue
        items.extend(Item(kind, f) for f in data_files(p))
    return items, ignored


def plan_delivery(root: Path) -> tuple[list[Item], list[Path]]:
    """The files of a delivery in load order, and the paths that are not data."""
    root = Path(root)
    if not root.is_dir():
        raise IngestError(f"{root}: not a folder")
    manifest = root / "manifest.yaml"
    items, ignored = (_from_manifest(root, manifest), []) if manifest.exists() else _by_name(root)
    items.sort(key=lambda i: (LOAD_ORDER[i.kind], str(i.path)))
    return items, ignored


def ingest_items(settings: Settings, items: Iterable[Item],
                 on_done: Callable[[Item, dict[str, Any] | None, str | None], None] | None = None,
                 progress: Callable[[Item, str], None] | None = None) -> list[dict[str, Any]]:
    """Ingest in order; a file that fails as a whole is reported and the rest continue."""
    results = []
    settings.warehouse.init().recover()  # once: what a killed earlier run left behind
    for item in items:
        try:
            step = (lambda msg, _i=item: progress(_i, msg)) if progress else None
            record = ingest_file(settings, item.kind, item.path, item.mapping, step, recover=False)
            results.append({"kind": item.kind, "path": str(item.path), "record": record})
            if on_done:
                on_done(item, record, None)
        except IngestError as err:
            results.append({"kind": item.kind, "path": str(item.path), "error": str(err)})
            if on_done:
                on_done(item, None, str(err))
    return results
