"""Contact-tracing accuracy on generator ground truth (``epicenter synth`` + ``ingest-dir``).

    python bench/accuracy_trace.py --delivery DIR --home HOME [--profile default] [--json OUT]

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
window, listed below the close tier (overlap under the threshold), or not listed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from collections import defaultdict
from pathlib import Path

import pyarrow as pa

from epicenter.engine import Session
from epicenter.privacy import Pseudonymizer
from epicenter.settings import load_settings
from epicenter.trace import find_contacts, load_profile
from epicenter.trace import index as trace_index
from epicenter.trace.source import KNOWN_CASES_SQL, candidate_links
from epicenter.trace.windows import exposure_windows

PLACE_SETTINGS = {"household", "hotel_room", "venue", "rail", "flight"}


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--delivery", type=Path, required=True)
    ap.add_argument("--home", type=Path, required=True)
    ap.add_argument("--profile", default="default")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--no-secondary", action="store_true",
                    help="Skip secondary contacts (recall then counts close contacts only).")
    args = ap.parse_args()
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
    t = time.perf_counter()
    contacts = find_contacts(engine, sorted(known), profile, as_of,
                             secondary=not args.no_secondary)
    seconds_contacts = time.perf_counter() - t
    rows = contacts.to_pylist()
    close_only = {(r["case_key"], r["contact_key"]) for r in rows if r["tier"] == "close"}
    any_tier = {(r["case_key"], r["contact_key"]) for r in rows}
    # the infector's exposure window as the protocol defines it (windows.py): an infection
    # outside it cannot make a close contact, whatever the sources recorded
    window = {w["case_key"]: (w["win_start"], w["win_end"])
              for w in exposure_windows(engine, sorted(known), profile, as_of).to_pylist()}
    in_window: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    misses: dict[str, int] = defaultdict(int)
    listed = {(r["case_key"], r["contact_key"]) for r in rows if r["tier"] in ("close", "secondary")}
    recall: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    recall_close: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    overall: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    by_phone = 0
    for e in events:
        x, y = key.get(e["infectee_id_no"]), key.get(e["infector_id_no"])
        if not y or y not in known:
            continue
        # the infectee as listed: by its id_no key, else by the key of its unlinked phone
        xp = phone_key.get(e["infectee_id_no"])
        if (y, x) not in any_tier and (y, xp) in any_tier:
            x = xp
            by_phone += int(e["recorded"] == "true")
        hit = int((y, x) in listed)
        overall[e["setting"]][0] += hit
        overall[e["setting"]][1] += 1
        if e["recorded"] == "true":
            recall[e["setting"]][0] += hit
            recall[e["setting"]][1] += 1
            recall_close[e["setting"]][0] += int((y, x) in close_only)
            recall_close[e["setting"]][1] += 1
            w0, w1 = window.get(y, (None, None))
            inside = w0 is not None and w0 <= dt.datetime.fromisoformat(e["infection_time"]) <= w1
            if inside:
                in_window[e["setting"]][0] += hit
                in_window[e["setting"]][1] += 1
            if not hit:
                misses[e["setting"] + ": " + ("outside_infector_window" if not inside else
                       "listed_below_close_tier" if (y, x) in any_tier else "not_listed")] += 1
    close = [r for r in rows if r["tier"] == "close"]
    truth_ok = _truth_copresence(args.delivery, close, id_of)
    precision: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r, ok in zip(close, truth_ok, strict=True):
        precision[r["setting"]][0] += int(ok)
        precision[r["setting"]][1] += 1
    t = time.perf_counter()
    ranked = candidate_links(engine, None, profile, as_of).to_pylist()
    seconds_source = time.perf_counter() - t
    rank_of = {(r["infectee_key"], r["candidate_key"]): r["rank"] for r in ranked}
    src = [0, 0, 0]
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
        "profile": f"{profile.name}@{profile.version}", "known_cases": len(known),
        "contact_rows": contacts.num_rows, "seconds_all_cases_contacts": round(seconds_contacts, 2),
        "secondary_traced": not args.no_secondary,
        "recall_recorded": share(recall), "recall_recorded_close_tier_only": share(recall_close),
        "recall_recorded_in_infector_window": share(in_window),
        "recorded_misses_by_reason": dict(sorted(misses.items())),
        "recorded_hits_listed_by_phone_key": by_phone,
        "recall_all_events": share(overall),
        "close_precision": share(precision),
        "source": {"infectees_with_known_infector": src[2],
                   "top1": round(src[0] / src[2], 4) if src[2] else None,
                   "top3": round(src[1] / src[2], 4) if src[2] else None,
                   "seconds": round(seconds_source, 2)},
    }
    text = json.dumps(report, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
