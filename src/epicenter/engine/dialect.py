"""SQL written once in DuckDB's dialect, carried to Spark by sqlglot."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import sqlglot
from sqlglot import exp


def _literal(value: Any) -> exp.Expression:
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int | float):
        return exp.Literal.number(value)
    if isinstance(value, dt.datetime):
        return exp.Cast(this=exp.Literal.string(value.isoformat(sep=" ")), to=exp.DataType.build("TIMESTAMP"))
    if isinstance(value, dt.date):
        return exp.Cast(this=exp.Literal.string(value.isoformat()), to=exp.DataType.build("DATE"))
    if isinstance(value, list | tuple):
        return exp.Array(expressions=[_literal(v) for v in value])
    return exp.Literal.string(str(value))


def bind(sql: str, params: Mapping[str, Any] | None) -> exp.Expression:
    """Parse DuckDB SQL and replace ``$name`` placeholders by literals."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    if not params:
        return tree

    def substitute(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Placeholder | exp.Parameter):
            key = node.name
            if key not in params:
                raise KeyError(f"query parameter ${key} was not given")
            return _literal(params[key])
        return node

    return tree.transform(substitute)


def _spark_fixes(node: exp.Expression) -> exp.Expression:
    """Rewrite DuckDB idioms that sqlglot carries over literally but Spark reads otherwise."""
    # epoch(a - b): DuckDB takes the seconds of an interval; Spark's unix_timestamp only
    # takes timestamps, so distribute it: epoch(a) - epoch(b).
    if isinstance(node, exp.TimeToUnix) and isinstance(node.this, exp.Sub):
        left, right = node.this.this, node.this.expression
        return exp.Paren(this=exp.Sub(this=exp.TimeToUnix(this=left.copy()),
                                      expression=exp.TimeToUnix(this=right.copy())))
    return node


def to_spark(sql: str, params: Mapping[str, Any] | None = None) -> str:
    """Transpile DuckDB SQL (with parameters bound) to Spark SQL."""
    return bind(sql, params).transform(_spark_fixes).sql(dialect="spark")
