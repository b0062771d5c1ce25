"""Transmission chains: case-to-case links assembled into clusters, with chain statistics.

Each known case is linked to its most likely infector (top-1 of source tracing) when that
exposure reached a linking tier (close or companion by default: a shared cabin or a
payment alone does not join two clusters). Links are added strongest first and a link that
would close a cycle (A infected B and B infected A) is dropped, so every cluster is a tree
rooted at its index case.
"""

from __future__ import annotations

import datetime as dt
from xml.sax.saxutils import escape

import pyarrow as pa

from epicenter.engine import Engine
from epicenter.trace.contacts import local_now
from epicenter.trace.profile import Profile, load_profile
from epicenter.trace.source import KNOWN_CASES_SQL, candidate_links, reference_time

LONG_GAP_DAYS = 14  # an onset-to-onset gap beyond the longest plausible serial interval


def build_chains(engine: Engine, profile: Profile | str | None = None,
                 as_of: dt.datetime | None = None,
                 link_tiers: tuple[str, ...] = ("close", "companion")) -> dict:
    """Links, clusters and statistics over every known case."""
    profile = profile if isinstance(profile, Profile) else load_profile(profile or "default")
    as_of = as_of or local_now()
    cases = {c["person_key"]: c for c in engine.query(KNOWN_CASES_SQL, {"as_of": as_of}).to_pylist()}
    ranked = candidate_links(engine, None, profile, as_of)
    top = [r for r in ranked.to_pylist() if r["rank"] == 1 and r["tier"] in link_tiers]
    top.sort(key=lambda r: (-r["score"], r["infectee_key"]))
    parent: dict[str, str] = {}
    links = []
    for r in top:
        x, y = r["infectee_key"], r["candidate_key"]
        if _root(parent, y) == x:  # y descends from x already: the link would close a cycle
            continue
        parent[x] = y
        links.append(r)
    links.sort(key=lambda r: (reference_time(cases[r["infectee_key"]]), r["infectee_key"]))
    return _summarise(cases, parent, links)


def _root(parent: dict[str, str], k: str) -> str:
    while k in parent:
        k = parent[k]
    return k


def _depth(parent: dict[str, str], k: str) -> int:
    d = 0
    while k in parent:
        k, d = parent[k], d + 1
    return d


def _summarise(cases: dict, parent: dict, links: list[dict]) -> dict:
    members: dict[str, list[str]] = {}
    for k in sorted(cases):
        members.setdefault(_root(parent, k), []).append(k)
    settings_of: dict[str, set] = {}
    for r in links:
        settings_of.setdefault(_root(parent, r["infectee_key"]), set()).add(r["setting"])
    clusters = []
    for i, (root, keys) in enumerate(sorted(members.items(), key=lambda kv: (-len(kv[1]), kv[0]))):
        refs = [reference_time(cases[k]) for k in keys]
        clusters.append({
            "cluster_id": i + 1, "index_case": root, "size": len(keys),
            "generations": 1 + max(_depth(parent, k) for k in keys),
            "settings": ",".join(sorted(settings_of.get(root, set()))),
            "first_onset": min(refs), "last_onset": max(refs),
            "span_days": round((max(refs) - min(refs)).total_seconds() / 86400, 1),
            "members": keys,
        })
    cluster_of = {k: c["cluster_id"] for c in clusters for k in c["members"]}
    for r in links:
        r["cluster_id"] = cluster_of[r["infectee_key"]]
        gap = (reference_time(cases[r["infectee_key"]]) - reference_time(cases[r["candidate_key"]]))
        r["onset_gap_days"] = round(gap.total_seconds() / 86400, 2)
    n = len(cases)
    return {
        "clusters": clusters,
        "links": links,
        "statistics": {
            "cases": n,
            "independent_chains": len(clusters),
            "clusters_of_2_or_more": sum(1 for c in clusters if c["size"] > 1),
            "largest_cluster": max((c["size"] for c in clusters), default=0),
            "max_generations": max((c["generations"] for c in clusters), default=0),
            # new cases that had been a close contact of an earlier case (known before onset)
            "share_known_contacts": round(
                sum(1 for r in links if r["tier"] == "close") / n, 4) if n else 0.0,
            "long_onset_gaps": sum(1 for r in links if r["onset_gap_days"] > LONG_GAP_DAYS),
            # a secondary case whose onset precedes its primary's: a data-quality flag
            "onset_before_primary": sum(1 for r in links if r["onset_gap_days"] < 0),
        },
    }


def links_table(chains: dict) -> pa.Table:
    cols = ("cluster_id", "infectee_key", "candidate_key", "setting", "tier", "score", "share",
            "exposure_time", "onset_gap_days", "evidence", "rule")
    rows = [{c: r[c] for c in cols} for r in chains["links"]]
    if rows:
        return pa.Table.from_pylist(rows)
    return pa.table({c: pa.array([], pa.string()) for c in cols})


def to_graphml(chains: dict) -> str:
    """GraphML: a node per case (cluster id), a directed edge infector -> infectee."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">',
           '<key id="cluster" for="node" attr.name="cluster_id" attr.type="int"/>',
           '<key id="setting" for="edge" attr.name="setting" attr.type="string"/>',
           '<key id="tier" for="edge" attr.name="tier" attr.type="string"/>',
           '<key id="score" for="edge" attr.name="score" attr.type="double"/>',
           '<key id="gap" for="edge" attr.name="onset_gap_days" attr.type="double"/>',
           '<graph id="chains" edgedefault="directed">']
    for c in chains["clusters"]:
        for k in c["members"]:
            out.append(f'<node id="{escape(k)}"><data key="cluster">{c["cluster_id"]}</data></node>')
    for i, r in enumerate(chains["links"]):
        out.append(f'<edge id="e{i}" source="{escape(r["candidate_key"])}" '
                   f'target="{escape(r["infectee_key"])}"><data key="setting">{r["setting"]}</data>'
                   f'<data key="tier">{r["tier"]}</data><data key="score">{r["score"]:.6g}</data>'
                   f'<data key="gap">{r["onset_gap_days"]}</data></edge>')
    out += ["</graph>", "</graphml>"]
    return "\n".join(out) + "\n"
