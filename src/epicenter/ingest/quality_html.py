"""The quality report as one self-contained HTML page (no scripts, no external assets)."""

from __future__ import annotations

import html
from typing import Any

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:0.5em 0 1.5em}
th,td{border:1px solid #ccc;padding:0.25em 0.6em;text-align:right}
th{background:#f3f3f3} td.l,th.l{text-align:left}
.bad{color:#b00020;font-weight:bold} .ok{color:#1b5e20}
"""


def _pct(v: float | None) -> str:
    return "" if v is None else f"{100 * v:.1f}%"


def _row(cells: list[str], header: bool = False) -> str:
    tag = "th" if header else "td"
    return "<tr>" + "".join(
        f"<{tag}{' class=l' if i == 0 else ''}>{c}</{tag}>" for i, c in enumerate(cells)) + "</tr>"


def render_html(report: dict[str, Any]) -> str:
    e = html.escape
    out = [f"<!doctype html><html><head><meta charset='utf-8'><title>Epicenter data quality"
           f"</title><style>{_STYLE}</style></head><body><h1>Data quality</h1>",
           f"<p>{report['batches']} batches; {report['registered_persons']} registered persons.</p>",
           "<h2>Sources</h2><table>",
           _row(["source", "batches", "read", "loaded", "quarantined", "duplicates", "invariant",
                 "validity", "lag p50 h", "coverage", "linkage"], header=True)]
    for s in report["sources"]:
        lag = s["delivery_lag_hours"]
        inv = "<span class=ok>holds</span>" if s["invariant_holds"] else "<span class=bad>broken</span>"
        out.append(_row([e(s["source"]), str(s["batches"]), f"{s['rows_read']:,}",
                         f"{s['rows_loaded']:,}", f"{s['rows_quarantined']:,}",
                         f"{s['rows_duplicate']:,}", inv, _pct(s["validity"]),
                         "" if not lag else f"{lag['p50']:.1f}", _pct(s["coverage"]),
                         _pct(s["identity_linkage"])]))
    out.append("</table>")
    for s in report["sources"]:
        out.append(f"<h2>{e(s['source'])}</h2><table>")
        out.append(_row(["field", "completeness", "unresolved references"], header=True))
        for col, v in s["completeness"].items():
            out.append(_row([e(col), _pct(v), str(s["unresolved_references"].get(col, ""))]))
        out.append("</table>")
        if s["warnings"]:
            out.append("<ul>" + "".join(f"<li>{e(w)}</li>" for w in s["warnings"]) + "</ul>")
        if s["quarantine_reasons"]:
            out.append("<table>" + _row(["quarantine reason", "disposition", "rows"], header=True))
            out.extend(_row([e(r["reason"]), e(r["disposition"]), f"{r['rows']:,}"])
                       for r in s["quarantine_reasons"])
            out.append("</table>")
        if s["volume_by_day"]:
            out.append("<table>" + _row(["day", "rows"], header=True))
            out.extend(_row([e(d), f"{n:,}"]) for d, n in s["volume_by_day"].items())
            out.append("</table>")
    out.append("</body></html>")
    return "\n".join(out)
