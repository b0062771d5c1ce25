"""Mapping files: how a department's template becomes a reference template.

A mapping is YAML (see ``docs/ingest.md``): encoding, delimiter, time zone, strptime
formats for times and dates, column renames (reference column: delivered column) and
value maps per reference column. A new template is onboarded with a file, never code.
"""

from __future__ import annotations

import codecs
import datetime as dt
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from epicenter.ingest.errors import IngestError
from epicenter.ingest.kinds import KINDS

# reference templates: seconds optional; Parquet timestamps cast to text carry fractions
DEFAULT_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S.%f",
                        "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M")
DEFAULT_DATE_FORMATS = ("%Y-%m-%d",)
_KEYS = {"kind", "encoding", "delimiter", "timezone", "time_format", "date_format", "columns",
         "values"}


@dataclass(frozen=True)
class Mapping:
    kind: str | None = None
    encoding: str = "utf-8"
    delimiter: str = ","
    timezone: str | None = None  # None: the settings' local zone (no conversion)
    time_formats: tuple[str, ...] = DEFAULT_TIME_FORMATS
    date_formats: tuple[str, ...] = DEFAULT_DATE_FORMATS
    columns: dict[str, str] = field(default_factory=dict)  # reference column -> delivered
    values: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def is_utf8(self) -> bool:
        return codecs.lookup(self.encoding).name in ("utf-8", "utf-8-sig", "ascii")

    def delivered(self, column: str) -> str:
        """The delivered column name holding a reference column."""
        return self.columns.get(column, column)


def _formats(value: object, default: tuple[str, ...], what: str, source: str) -> tuple[str, ...]:
    if value is None:
        return default
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) and "%" in v for v in items):
        raise IngestError(f"{source}: {what} must be a strptime format such as '%Y-%m-%d'")
    for fmt in items:  # fail early on a format Python cannot even apply
        dt.datetime(2020, 1, 2, 3, 4, 5).strftime(fmt)
    return tuple(items)


def load_mapping(path: Path | str, kind: str | None = None) -> Mapping:
    """Read and check a mapping file; ``kind`` (from the command line) must agree with it."""
    path = Path(path)
    source = str(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as err:
        raise IngestError(f"{source}: cannot read mapping: {err}") from err
    if not isinstance(data, dict):
        raise IngestError(f"{source}: a mapping file is a YAML dictionary")
    unknown = set(data) - _KEYS
    if unknown:
        raise IngestError(f"{source}: unknown mapping keys {sorted(unknown)}; allowed {sorted(_KEYS)}")
    mkind = data.get("kind")
    if mkind and kind and mkind != kind:
        raise IngestError(f"{source}: mapping is for kind {mkind!r}, ingesting {kind!r}")
    mkind = mkind or kind
    if mkind not in KINDS:
        raise IngestError(f"{source}: kind {mkind!r} is not a known source kind")
    encoding = str(data.get("encoding", "utf-8"))
    try:
        codecs.lookup(encoding)
    except LookupError as err:
        raise IngestError(f"{source}: unknown encoding {encoding!r}") from err
    delimiter = data.get("delimiter", ",")
    if delimiter == "\\t":
        delimiter = "\t"
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise IngestError(f"{source}: delimiter must be one character, got {delimiter!r}")
    tz = data.get("timezone")
    if tz is not None:
        try:
            zoneinfo.ZoneInfo(str(tz))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as err:
            raise IngestError(f"{source}: unknown timezone {tz!r}") from err
    columns = {str(k): str(v) for k, v in (data.get("columns") or {}).items()}
    values = {str(k): {str(a): str(b) for a, b in (v or {}).items()}
              for k, v in (data.get("values") or {}).items()}
    allowed = set(KINDS[mkind].names)
    for what, names in (("columns", columns), ("values", values)):
        bad = set(names) - allowed
        if bad:
            raise IngestError(f"{source}: {what} names {sorted(bad)} are not columns of "
                              f"{mkind} (its columns: {', '.join(KINDS[mkind].names)})")
    return Mapping(
        kind=mkind, encoding=encoding, delimiter=delimiter,
        timezone=str(tz) if tz is not None else None,
        time_formats=_formats(data.get("time_format"), DEFAULT_TIME_FORMATS, "time_format", source),
        date_formats=_formats(data.get("date_format"), DEFAULT_DATE_FORMATS, "date_format", source),
        columns=columns, values=values,
    )
