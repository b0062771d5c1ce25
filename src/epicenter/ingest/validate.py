"""Row validation in SQL: typed values, every failing rule collected per row.

The file's rows (temp table ``src``) become temp table ``t`` with, per reference column,
the delivered text ``r_<col>`` (trimmed, value-mapped) and the typed value ``v_<col>``,
a 128-bit content hash ``h`` for duplicate detection, and ``ok``. Checks are SQL
expressions, so the whole file is validated in one vectorised pass; the reasons of the
failing rows are spelled out only for those rows (:func:`reasons_sql`).
"""

from __future__ import annotations

from dataclasses import dataclass

from epicenter.ingest.errors import IngestError
from epicenter.ingest.kinds import DATE, FLOAT, ID_NO, INT, PHONE, TIME, Col, Kind
from epicenter.ingest.mapping import Mapping
from epicenter.ingest.reader import Source

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)  # GB 11643, ISO 7064 MOD 11-2
ID_CHECK_CHARS = "10X98765432"


# The line of a row of t0: stored, or (fast CSV path, see reader.open_source) its
# position in t0, which was filled in file order; the header is line 1
LINE_SQL = "coalesce(t0.line_no, t0.rowid + 2)"


def lit(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def quoted(expr: str) -> str:
    """SQL text of a value in single quotes, for reasons people read."""
    return f"concat(chr(39), {expr}, chr(39))"


def _fmt_list(formats: tuple[str, ...]) -> str:
    return lit(formats[0]) if len(formats) == 1 else "[" + ", ".join(lit(f) for f in formats) + "]"


def id_check_sql(v: str, n: str) -> str:
    """True when ``v`` (upper-cased) has a valid GB 11643 check digit; ``n`` is its first
    17 characters as an integer (computed once per row), split arithmetically: far
    cheaper than 17 substrings."""
    total = " + ".join(f"({n} // {10 ** (16 - i)}) % 10 * {w}" for i, w in enumerate(ID_WEIGHTS))
    # CASE: the arithmetic runs only on rows with an id number (often a minority)
    return (f"(CASE WHEN {n} IS NOT NULL THEN substr({lit(ID_CHECK_CHARS)}, "
            f"CAST(({total}) % 11 AS INTEGER) + 1, 1) = substr({v}, 18, 1) END)")


def id_number_sql(r: str) -> str:
    return f"TRY_CAST(substr({r}, 1, 17) AS BIGINT)"


def id_format_sql(r: str) -> str:
    """17 digits, then a digit or X (NULL when ``r`` is: a missing value is not
    malformed). A regular expression beats stripping digits with ltrim() here, and the
    result is kept as column ``f_<col>`` so both id_no checks read it."""
    return f"(CASE WHEN {r} IS NOT NULL THEN regexp_full_match({r}, '[0-9]{{17}}[0-9X]') END)"


# A phone's format as an integer round trip: text of digits only is exactly the text that
# survives BIGINT -> text unchanged (a sign, a decimal point, an exponent or a blank would
# not). Short text is stored inline, so this is cheaper than ltrim() with a digit set or
# a regular expression.
def phone_number_sql(r: str) -> str:
    return f"TRY_CAST({r} AS BIGINT)"


def phone_ok_sql(v: str, n: str) -> str:
    """``n`` is :func:`phone_number_sql` of ``v``: 11 digits starting with 1 (NULL when
    ``v`` is: a missing value is not malformed)."""
    return (f"(CASE WHEN {v} IS NOT NULL THEN coalesce(length({v}) = 11 AND starts_with({v}, '1') "
            f"AND CAST({n} AS VARCHAR) = {v}, false) END)")


@dataclass
class Check:
    fails: str  # SQL boolean, never NULL
    reason: str  # SQL text expression, evaluated only where ``fails``
    reference: bool = False  # applied after materialising (see materialise_sql)


@dataclass
class Plan:
    """What validation of one file needs: column sources, typed expressions, checks."""

    kind: Kind
    present: dict[str, str]  # reference column -> src column (c<i>)
    typed: dict[str, str]  # reference column -> SQL typing r_<col>
    checks: list[Check]
    refs: dict[str, str]  # reference column -> temp table of known codes
    width: int


def resolve_columns(kind: Kind, mapping: Mapping, source: Source, path: str) -> dict[str, str]:
    """Reference column -> src column; a missing required column fails the whole file."""
    present: dict[str, str] = {}
    for col in kind.cols:
        src_col = source.column(mapping.delivered(col.name))
        if src_col:
            present[col.name] = src_col
    missing = [c for c in kind.required_columns if c not in present]
    if kind.one_of and not any(c in present for c in kind.one_of):
        missing.append(" or ".join(kind.one_of))
    if missing:
        shown = [f"{m} (delivered as {mapping.delivered(m)!r})" if mapping.delivered(m) != m else m
                 for m in missing]
        raise IngestError(f"{path}: missing required column(s) for {kind.name}: "
                          f"{', '.join(shown)}; the file has: {', '.join(source.header)}")
    return present


def _parse(col_type: str, r: str, mapping: Mapping, first_alone: bool = True) -> str:
    if col_type == INT:
        return f"TRY_CAST({r} AS BIGINT)"
    if col_type == FLOAT:
        return f"TRY_CAST({r} AS DOUBLE)"
    formats = mapping.date_formats if col_type == DATE else mapping.time_formats
    parsed = f"try_strptime({r}, {_fmt_list(formats)})"
    if first_alone and len(formats) > 1:  # the first format alone is much faster than the list
        parsed = f"coalesce(try_strptime({r}, {lit(formats[0])}), {parsed})"
    return f"CAST({parsed} AS DATE)" if col_type == DATE else parsed


def _typed(col_type: str, r: str, mapping: Mapping, local_tz: str) -> str:
    if col_type in (INT, FLOAT, DATE, TIME):
        # values are not trimmed up front (costly on wide text): retry trimmed on failure.
        # The retry names trim(r) once: written twice, DuckDB hoists it as a common
        # subexpression and trims every row instead of only the failed ones
        retry = _parse(col_type, f"trim({r})", mapping, first_alone=False)
        expr = f"coalesce({_parse(col_type, r, mapping)}, {retry})"
        if col_type == TIME and mapping.timezone and mapping.timezone != local_tz:
            expr = f"timezone({lit(local_tz)}, timezone({lit(mapping.timezone)}, {expr}))"
        return expr
    return r  # text; an id_no's 'x' check digit is upper-cased with the delivered text


def _absent(c: Col) -> str:
    """No value delivered (valid rows keep only the typed value of parsed columns)."""
    if c.type in (INT, FLOAT, DATE, TIME):
        return f"(r_{c.name} IS NULL AND v_{c.name} IS NULL)"
    return f"r_{c.name} IS NULL"


def build_plan(kind: Kind, mapping: Mapping, source: Source, path: str, local_tz: str,
               refs: dict[str, str]) -> Plan:
    present = resolve_columns(kind, mapping, source, path)
    typed = {c.name: _typed(c.type, f"r_{c.name}", mapping, local_tz) for c in kind.cols}
    checks = [Check(f"coalesce(nf <> {len(source.header)}, false)",
                    f"concat('row has ', nf, ' fields, header has {len(source.header)}')")]
    for c in kind.cols:
        r, v = f"r_{c.name}", f"v_{c.name}"
        if c.required and c.name not in kind.one_of:
            checks.append(Check(_absent(c), lit(f"missing {c.name}")))
        if c.type == ID_NO:
            fmt = f"f_{c.name}"  # see id_format_sql
            checks.append(Check(f"coalesce(NOT {fmt}, false)",
                                lit("id_no malformed: expected 17 digits and a check digit")))
            checks.append(Check(f"coalesce({fmt} AND NOT {id_check_sql(v, 'n_' + c.name)}, false)",
                                lit("id_no check digit does not match (GB 11643)")))
        elif c.type == PHONE:
            checks.append(Check(f"coalesce(NOT {phone_ok_sql(v, 'n_' + c.name)}, false)",
                                lit(f"{c.name} malformed: expected 11 digits starting with 1")))
        elif c.type in (INT, FLOAT, DATE, TIME):
            checks.append(Check(f"({r} IS NOT NULL AND {v} IS NULL)",
                                f"concat({lit(c.name + ': cannot parse ')}, {quoted(r)}, "
                                f"{lit(' as ' + c.type)})"))
        if c.enum:
            checks.append(Check(f"coalesce({r} NOT IN ({', '.join(lit(e) for e in c.enum)}), false)",
                                f"concat({lit(c.name + ': ')}, {quoted(r)}, "
                                f"{lit(' is not one of ' + ', '.join(c.enum))})"))
        if c.min is not None or c.max is not None:
            lo = f"{v} < {c.min}" if c.min is not None else "false"
            hi = f"{v} > {c.max}" if c.max is not None else "false"
            bounds = f"[{'' if c.min is None else c.min}, {'' if c.max is None else c.max}]"
            checks.append(Check(f"coalesce({lo} OR {hi}, false)",
                                f"concat({lit(c.name + ': ')}, {r}, {lit(' out of range ' + bounds)})"))
        if c.name in refs:
            checks.append(Check(f"coalesce(m_{c.name}, false)",
                                f"concat({lit(c.name + ': unknown ' + c.ref[0] + ' ')}, {quoted(r)})",
                                reference=True))
    if kind.one_of:
        nulls = " AND ".join(_absent(kind.col(c)) for c in kind.one_of)
        checks.append(Check(f"({nulls})", lit(f"neither {' nor '.join(kind.one_of)} given")))
    for earlier, later in kind.ordered:
        checks.append(Check(f"coalesce(v_{later} < v_{earlier}, false)",
                            lit(f"{later} is before {earlier}")))
    if kind.coords:
        checks.append(Check("coalesce(v_lon = 0 AND v_lat = 0, false)",
                            lit("lon/lat is (0, 0): no real position")))
    return Plan(kind, present, typed, checks, refs, len(source.header))


def _raw(plan: Plan, mapping: Mapping, name: str) -> str:
    src_col = plan.present.get(name)
    if src_col is None:
        return "CAST(NULL AS VARCHAR)"
    parsed = plan.kind.col(name).type in (INT, FLOAT, DATE, TIME)
    expr = src_col if parsed else f"nullif(trim({src_col}), '')"
    if plan.kind.col(name).type == ID_NO:
        expr = f"upper({expr})"
    vmap = mapping.values.get(name)
    if vmap:
        whens = " ".join(f"WHEN {lit(a)} THEN {lit(b)}" for a, b in vmap.items())
        expr = f"CASE {expr} {whens} ELSE {expr} END"
    return expr


def parsed_columns(kind: Kind) -> tuple[str, ...]:
    """Columns whose typed value differs from the delivered text."""
    return tuple(c.name for c in kind.cols if c.type in (INT, FLOAT, DATE, TIME))


def materialise_sql(plan: Plan, mapping: Mapping) -> list[str]:
    """SQL creating temp table ``t0`` from ``src`` and view ``t`` over it.

    ``t0`` holds the delivered text ``r_<col>``, typed ``v_<col>`` of parsed columns,
    reference misses ``m_<col>``, the content hash (h1, h2) and ``ok``. The text of a
    parsed column is kept only where the row failed (for its reasons): wide text columns
    such as times are the bulk of a file, and valid rows need only their typed values.
    View ``t`` adds ``v_<col>`` for text columns (the text itself)."""
    names = plan.kind.names
    parsed = set(parsed_columns(plan.kind))
    raws = ", ".join(f"{_raw(plan, mapping, n)} AS r_{n}" for n in names)
    typed = ", ".join(f"{plan.typed[n]} AS v_{n}" for n in names)  # text: v_ is r_
    # identifiers as integers: for the format checks, and for joining identity keys
    # (a BIGINT join is much cheaper than one on text)
    id_cols = [c.name for c in plan.kind.cols if c.type in (ID_NO, PHONE)]
    typed += "".join(f", {id_number_sql('x.r_' + c.name)} AS n_{c.name}, "
                     f"{id_format_sql('x.r_' + c.name)} AS f_{c.name}" for c in plan.kind.cols
                     if c.type == ID_NO)
    typed += "".join(f", {phone_number_sql('x.r_' + c.name)} AS n_{c.name}" for c in plan.kind.cols
                     if c.type == PHONE)
    # reference checks run afterwards as anti-joins over the materialised rows: inside
    # the big typing query a join costs several times more
    misses = [f"false AS m_{name}, " for name in sorted(plan.refs)]
    # two 64-bit hashes over the columns in opposite orders: a 128-bit content key
    h1 = "hash(" + ", ".join(f"x.r_{n}" for n in names) + ")"
    h2 = "hash('epicenter-row', " + ", ".join(f"x.r_{n}" for n in reversed(names)) + ")"
    fails = " OR ".join(f"({c.fails})" for c in plan.checks if not c.reference)
    text_as_typed = ", ".join(f"r_{n} AS v_{n}" for n in names if n not in parsed)
    keep = ", ".join(
        [f"CASE WHEN ok THEN NULL ELSE r_{n} END AS r_{n}" if n in parsed else f"r_{n}" for n in names]
        + [f"v_{n}" for n in names if n in parsed])
    rest = "".join(f"m_{n}, " for n in sorted(plan.refs)) + "".join(f"n_{n}, " for n in id_cols) + \
        "".join(f"f_{c.name}, " for c in plan.kind.cols if c.type == ID_NO)
    inner = (f"SELECT y.*, NOT ({fails}) AS ok FROM ("
             f"SELECT x.*, {typed}, {''.join(misses)}{h1} AS h1, {h2} AS h2 "
             f"FROM (SELECT line_no, nf, {raws} FROM src) AS x) AS y")
    return [
        f"CREATE OR REPLACE TEMP TABLE t0 AS SELECT line_no, nf, {keep}, {rest}h1, h2, ok, "
        f"false AS dup, CAST(NULL AS VARCHAR) AS extra_reason FROM ({inner})",
        *(f"UPDATE t0 SET m_{name} = true, ok = false WHERE r_{name} IS NOT NULL "
          f"AND r_{name} NOT IN (SELECT code FROM {table})" for name, table in sorted(plan.refs.items())),
        f"CREATE OR REPLACE TEMP VIEW t AS SELECT * REPLACE ({LINE_SQL} AS line_no)"
        f"{', ' + text_as_typed if text_as_typed else ''} FROM t0",
    ]


def delivered_sql(kind: Kind, name: str) -> str:
    """The delivered text of a column: kept for failed rows, else the typed value as text."""
    if name in parsed_columns(kind):
        return f"coalesce(r_{name}, CAST(v_{name} AS VARCHAR))"
    return f"r_{name}"


def delivered_count_sql(kind: Kind, name: str) -> str:
    """How many rows delivered a value in the column: ``count(delivered_sql)`` without
    turning every typed value back into text."""
    if name in parsed_columns(kind):
        return f"count(*) FILTER (WHERE r_{name} IS NOT NULL OR v_{name} IS NOT NULL)"
    return f"count(r_{name})"


def reasons_sql(plan: Plan) -> str:
    items = ", ".join(f"CASE WHEN {c.fails} THEN {c.reason} END" for c in plan.checks)
    return f"list_filter([{items}, extra_reason], lambda x: x IS NOT NULL)"
