"""Contact-tracing accuracy on generator ground truth (``epicenter synth`` + ``ingest-dir``).

    python bench/accuracy_trace.py --delivery DIR --home HOME [--profile NAME_OR_YAML] [--json OUT]
        [--no-secondary] [--no-precision] [--no-source] [--cases N]

Needs the same pseudonymisation secret (EPICENTER_SECRET_FILE) as the ingest, so that the
truth's id_no can be turned into person_keys. Measures, over known cases (a positive
report in the warehouse):

* recall per setting: true infection events whose infector is a known case and whose
  co-presence the delivered sources recorded (truth ``recorded``), found as the infectee
  being a close or secondary contact of the infector; and over all events with a
  known-case infector (what non-compliance and unrecorded settings cost);
* precision of the close tier: listed close contacts truly co-present per the truth
  (same place, overlapping presence intervals around the reported exposure);
* source tracing: the true infector ranked first / in the top 3 among candidates.

A truth person is matched to the contact lists by the key of its id_no and, for a person
whose phone no delivered row links to an id_no (outside the registry, scanning by phone
only), by the key ingestion gave that phone: such a contact is listed, and reachable, by
phone. Every recorded miss is classified (per setting): outside the infector's exposure
window, listed below the close tier (overlap under the threshold), or not listed; the
misses are listed one by one (vehicles apart) (infector status, how far outside its window).

The contacts of all known cases are consumed as a stream (``iter_contacts``, one table per
group of cases): only the rows naming a true (infector, infectee) pair and the close rows
(for precision) are kept, so secondary tracing, ~10^7 rows at 100,000 persons, runs in
bounded memory. Wall and CPU seconds, peak RSS and the load average go into the JSON.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import time
from collections import defaultdict
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from epicenter.engine import Session
from epicenter.privacy import Pseudonymizer
from epicenter.settings import load_settings
from epicenter.trace import index as trace_index
from epicenter.trace import load_profile
from epicenter.trace.contacts import iter_contacts
from epicenter.trace.source import KNOWN_CASES_SQL, candidate_links
from epicenter.trace.windows import exposure_windows

PLACE_SETTINGS = {"household", "hotel_room", "venue", "rail", "flight"}
VEHICLE_SETTINGS = {"rail", "flight"}
CLOSE_COLUMNS = ["case_key", "contact_key", "setting", "place_id", "first_exposure",
                 "last_exposure"]


def _keys(pseudo: Pseudonymizer, ids) -> dict[str, str]:
    return {i: pseudo.id_key(i) for i in sorted({i for i in ids if i})}


def _phone_keys(pseudo: Pseudonymizer, persons: list[dict]) -> dict[str, str]:
    """id_no -> the key ingestion gives the person's phone when no delivered row links that
    phone to the id_no (a resident outside the registry who scans by phone only): such a
    person's scans and cell records carry this key, and a tracer reaches them by the phone,
    so a contact listed under it is the same person."""
    return {p["id_no"]: pseudo.phone_key(p["phone"]) for p in persons if p["id_no"] and p["phone"]}


def _truth_copresence(delivery: Path, close: list[dict], id_of: dict[str, str]) -> list[bool]:
    """For each close row, whether the truth puts both persons at that place overlapping."""
    rows = []
    for r in close:
        place = r["place_id"]
        if r["setting"] in ("rail", "flight"):
            vehicle, date = place.split(" ")
            place = f"{vehicle}/{date}"
        rows.append({"i": len(rows), "a": id_of.get(r["case_key"]), "b": id_of.get(r["contact_key"]),
                     "setting": r["setting"], "place": place,
                     "t0": r["first_exposure"] - dt.timedelta(hours=1),
                     "t1": r["last_exposure"] + dt.timedelta(hours=1)})
    if not rows:
        return []
    with Session() as s:
        s.register("listed", pa.Table.from_pylist(rows))
        s.execute(f"""CREATE TABLE presence AS SELECT * FROM read_csv('{delivery}/truth/presence/*.csv',
                      header=true, all_varchar=true)
                      WHERE id_no IN (SELECT a FROM listed UNION SELECT b FROM listed)""")
        s.execute(f"""CREATE TABLE persons AS SELECT id_no, household_id FROM
                      read_csv('{delivery}/truth/persons.csv', header=true, all_varchar=true)""")
        hits = s.rows("""
            SELECT l.i FROM listed l
            JOIN persons pa ON pa.id_no = l.a JOIN persons pb ON pb.id_no = l.b
            WHERE l.setting = 'household' AND pa.household_id = pb.household_id
            UNION
            SELECT l.i FROM listed l
            JOIN presence x ON x.id_no = l.a JOIN presence y ON y.id_no = l.b
            WHERE l.setting <> 'household' AND x.place_id = y.place_id
              AND (x.place_id = l.place OR x.place_id LIKE l.place || '/%')
              AND CAST(x.start_time AS TIMESTAMP) < CAST(y.end_time AS TIMESTAMP)
              AND CAST(y.start_time AS TIMESTAMP) < CAST(x.end_time AS TIMESTAMP)
              AND CAST(x.start_time AS TIMESTAMP) < l.t1 AND CAST(x.end_time AS TIMESTAMP) > l.t0
        """)
    found = {h[0] for h in hits}
    return [r["i"] in found for r in rows]


class Found:
    """What recall and precision need from the contact stream: the tiers listed for the
    (infector, infectee) pairs of true events, the close rows, and counts."""

    def __init__(self, pairs: set[tuple[str, str]], keep_close: bool):
        self.wanted = pa.array(sorted(f"{a}\x1f{b}" for a, b in pairs), pa.string())
        self.tiers: dict[tuple[str, str], set[str]] = defaultdict(set)
        self.close: list[dict] = []
        self.keep_close = keep_close
        self.rows = 0
        self.by_tier: dict[str, int] = defaultdict(int)
        self.tables = 0

    def add(self, t: pa.Table) -> None:
        self.rows += t.num_rows
        self.tables += 1
        for tier, n in zip(*pc.value_counts(t.column("tier")).flatten(), strict=True):
            self.by_tier[tier.as_py()] += n.as_py()
        key = pc.binary_join_element_wise(t.column("case_key"), t.column("contact_key"), "\x1f")
        hit = t.filter(pc.is_in(key, value_set=self.wanted))
        for r in hit.select(["case_key", "contact_key", "tier"]).to_pylist():
            self.tiers[(r["case_key"], r["contact_key"])].add(r["tier"])
        if self.keep_close:
            close = t.filter(pc.equal(t.column("tier"), "close")).select(CLOSE_COLUMNS)
            self.close.extend(close.to_pylist())

    def listed(self, pair: tuple[str, str], tiers: tuple[str, ...] | None = None) -> bool:
        got = self.tiers.get(pair)
        return bool(got) and (tiers is None or bool(got & set(tiers)))


def _miss(e: dict, reason: str, case: dict, w0, w1, tiers: list[str]) -> dict:
    """One missed event: where its infection time falls against the infector's window."""
    t = dt.datetime.fromisoformat(e["infection_time"])
    before = round((w0 - t).total_seconds() / 86400, 2) if w0 and t < w0 else None
    after = round((t - w1).total_seconds() / 86400, 2) if w1 and t > w1 else None
    return {"setting": e["setting"], "place_id": e["place_id"], "infection_time": e["infection_time"],
            "reason": reason, "infector_status": case.get("status"),
            "infector_onset": str(case.get("onset_date")),
            "infector_first_positive": str(case.get("first_positive_time")),
            "infector_isolation": str(case.get("isolation_time")),
            "days_before_window": before, "days_after_window": after, "tiers_listed": tiers}


PRESENT_SQL = """SELECT count(*) AS n FROM stays WHERE person_key = $who AND place_id = $place
    AND start_time <= $t + INTERVAL 1 DAY AND end_time >= $t - INTERVAL 1 DAY"""


def _unlisted_reason(engine, e: dict, infector: str, infector_phone: str | None) -> str:
    """Why an event inside the window is not listed: the usual cause is that the infector's
    own presence there carries only the key of a phone that no delivered row links to its
    id_no (outside the registry, scanning by phone only). Tracing starts from the case
    report's id_no, so that stay is not the case's; the truth still counts both as scanned."""
    at = {"place": e["place_id"], "t": dt.datetime.fromisoformat(e["infection_time"])}
    def present(who):
        return who and engine.query(PRESENT_SQL, at | {"who": who}).to_pylist()[0]["n"] > 0
    if not present(infector) and present(infector_phone):
        return "infector_present_only_under_unlinked_phone"
    return "not_listed"


def _peak_rss_gb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--delivery", type=Path, required=True)
    ap.add_argument("--home", type=Path, required=True)
    ap.add_argument("--profile", default="default")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--no-secondary", action="store_true",
                    help="Skip secondary contacts (recall then counts close contacts only).")
    ap.add_argument("--no-precision", action="store_true",
                    help="Skip close-tier precision (reads the truth's presence of every close pair).")
    ap.add_argument("--no-source", action="store_true", help="Skip source-tracing ranks.")
    ap.add_argument("--cases", type=int, default=None,
                    help="Trace only N known cases (every k-th in key order, an even spread): "
                         "recall then counts the events whose infector is one of them.")
    args = ap.parse_args()
    started = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    settings = load_settings(home=args.home)
    profile = load_profile(args.profile)
    params = json.loads((args.delivery / "truth/params.json").read_text())
    start = dt.datetime.fromisoformat(params["params"]["start"])
    as_of = start + dt.timedelta(days=params["days"])
    with Session() as s:
        events = s.arrow(f"SELECT * FROM read_csv('{args.delivery}/truth/infections.csv', "
                         "header=true, all_varchar=true)").to_pylist()
        persons = s.arrow(f"SELECT id_no, phone FROM read_csv('{args.delivery}/truth/persons.csv', "
                          "header=true, all_varchar=true)").to_pylist()
    pseudo = Pseudonymizer.from_settings(settings)
    ids = [p["id_no"] for p in persons]
    key = _keys(pseudo, ids + [e["infectee_id_no"] for e in events] + [e["infector_id_no"] for e in events])
    phone_key = _phone_keys(pseudo, persons)
    id_of = {v: k for k, v in phone_key.items()} | {v: k for k, v in key.items()}
    engine = settings.warehouse.open_engine("duckdb")
    # the trace index as the CLI uses it (built first if stale; the answers are the same)
    trace_index.register(engine, settings.warehouse, build=True)
    known = {r["person_key"] for r in engine.query(KNOWN_CASES_SQL, {"as_of": as_of}).to_pylist()}
    all_known = len(known)
    if args.cases:
        # person_keys are keyed hashes: every k-th in key order is a sample unrelated to
        # setting, onset or contact count, the same one in every run
        ordered = sorted(known)
        known = set(ordered[::max(1, len(ordered) // args.cases)][:args.cases])
    # the (infector, infectee) pairs recall asks about: the infectee by its id_no key and by
    # the key of its unlinked phone
    pairs = set()
    for e in events:
        y = key.get(e["infector_id_no"])
        if y in known:
            pairs.update((y, x) for x in (key.get(e["infectee_id_no"]),
                                          phone_key.get(e["infectee_id_no"])) if x)
    found = Found(pairs, keep_close=not args.no_precision)
    load_before = os.getloadavg()[0]
    t, cpu = time.perf_counter(), time.process_time()
    for table in iter_contacts(engine, sorted(known), profile, as_of,
                               secondary=not args.no_secondary):
        found.add(table)
    seconds_contacts, cpu_contacts = time.perf_counter() - t, time.process_time() - cpu
    load_after = os.getloadavg()[0]
    rss_contacts = _peak_rss_gb()
    # the infector's exposure window as the protocol defines it (windows.py): an infection
    # outside it cannot make a close contact, whatever the sources recorded
    window = {w["case_key"]: (w["win_start"], w["win_end"])
              for w in exposure_windows(engine, sorted(known), profile, as_of).to_pylist()}
    status = {r["person_key"]: r for r in engine.query(
        "SELECT person_key, status, onset_date, first_positive_time, isolation_time FROM cases"
    ).to_pylist() if r["person_key"] in known}
    vehicle_misses: list[dict] = []
    other_misses: list[dict] = []
    in_window: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    misses: dict[str, int] = defaultdict(int)
    recall: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    recall_close: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    overall: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    overall_close: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    by_phone = 0
    for e in events:
        x, y = key.get(e["infectee_id_no"]), key.get(e["infector_id_no"])
        if not y or y not in known:
            continue
        # the infectee as listed: by its id_no key, else by the key of its unlinked phone
        xp = phone_key.get(e["infectee_id_no"])
        if not found.listed((y, x)) and found.listed((y, xp)):
            x = xp
            by_phone += int(e["recorded"] == "true")
        hit = int(found.listed((y, x), ("close", "secondary")))
        overall[e["setting"]][0] += hit
        overall[e["setting"]][1] += 1
        overall_close[e["setting"]][0] += int(found.listed((y, x), ("close",)))
        overall_close[e["setting"]][1] += 1
        if e["recorded"] == "true":
            recall[e["setting"]][0] += hit
            recall[e["setting"]][1] += 1
            recall_close[e["setting"]][0] += int(found.listed((y, x), ("close",)))
            recall_close[e["setting"]][1] += 1
            w0, w1 = window.get(y, (None, None))
            inside = w0 is not None and w0 <= dt.datetime.fromisoformat(e["infection_time"]) <= w1
            if inside:
                in_window[e["setting"]][0] += hit
                in_window[e["setting"]][1] += 1
            if not hit:
                reason = ("outside_infector_window" if not inside else
                          "listed_below_close_tier" if found.listed((y, x)) else
                          _unlisted_reason(engine, e, y, phone_key.get(e["infector_id_no"])))
                misses[e["setting"] + ": " + reason] += 1
                detail = _miss(e, reason, status.get(y, {}), w0, w1,
                               sorted(found.tiers.get((y, x), ())))
                (vehicle_misses if e["setting"] in VEHICLE_SETTINGS else other_misses).append(detail)
    close = found.close
    truth_ok = [] if args.no_precision else _truth_copresence(args.delivery, close, id_of)
    precision: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r, ok in zip(close, truth_ok, strict=True):
        precision[r["setting"]][0] += int(ok)
        precision[r["setting"]][1] += 1
    src, seconds_source = [0, 0, 0], None
    if not args.no_source:
        t = time.perf_counter()
        ranked = candidate_links(engine, None, profile, as_of).to_pylist()
        seconds_source = time.perf_counter() - t
        rank_of = {(r["infectee_key"], r["candidate_key"]): r["rank"] for r in ranked}
        for e in events:
            x, y = key.get(e["infectee_id_no"]), key.get(e["infector_id_no"])
            if x in known and y in known:
                rank = rank_of.get((x, y))
                src[0] += int(rank == 1)
                src[1] += int(rank is not None and rank <= 3)
                src[2] += 1

    def share(d):
        out = {k: {"found": v[0], "events": v[1], "share": round(v[0] / v[1], 4) if v[1] else None}
               for k, v in sorted(d.items())}
        tot = [sum(v[0] for v in d.values()), sum(v[1] for v in d.values())]
        out["all"] = {"found": tot[0], "events": tot[1],
                      "share": round(tot[0] / tot[1], 4) if tot[1] else None}
        return out

    report = {
        "delivery": str(args.delivery), "persons": params["persons"], "days": params["days"],
        "profile": profile.ref, "known_cases": all_known,
        "cases_traced": len(known),
        "contact_rows": found.rows, "contact_rows_by_tier": dict(sorted(found.by_tier.items())),
        "streamed_tables": found.tables,
        "seconds_all_cases_contacts": round(seconds_contacts, 2),
        "cpu_seconds_all_cases_contacts": round(cpu_contacts, 2),
        "peak_rss_gb_after_contacts": rss_contacts, "peak_rss_gb": _peak_rss_gb(),
        "load_avg_1min_before_after": [round(load_before, 2), round(load_after, 2)],
        "machine": f"{os.cpu_count()} cores, "
                   f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GB",
        "started_utc": started,
        "secondary_traced": not args.no_secondary,
        "recall_recorded": share(recall), "recall_recorded_close_tier_only": share(recall_close),
        "recall_recorded_in_infector_window": share(in_window),
        "recorded_misses_by_reason": dict(sorted(misses.items())),
        "vehicle_misses": vehicle_misses, "other_misses": other_misses,
        "recorded_hits_listed_by_phone_key": by_phone,
        "recall_all_events": share(overall),
        "recall_all_events_close_tier_only": share(overall_close),
        "close_precision": None if args.no_precision else share(precision),
        "source": None if args.no_source else {"infectees_with_known_infector": src[2],
                   "top1": round(src[0] / src[2], 4) if src[2] else None,
                   "top3": round(src[1] / src[2], 4) if src[2] else None,
                   "seconds": round(seconds_source or 0, 2)},
    }
    text = json.dumps(report, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
