"""Source tracing: rank candidate infectors of a case by a transmission likelihood.

For an infectee X, every known case Y co-present with X in X's acquisition window (from
``acquisition_days`` before onset until onset, or until the first positive report without
onset) is a candidate. Exposures are taken **per day** (one row per pair, setting and day:
the acquisition window is cut into calendar days before the rules run), so the timing of
each day's contact is scored at that day and not anywhere in a span of weeks. Each
exposure scores

    delay_pdf(ref_X - t) * infectious(Y, t) * profile(Y, t)
        * (1 - exp(-hazard[setting] * hours * dilution))

with t the best point of the day's exposure span (6-hour grid); delay_pdf the incubation
(lognormal, mean 5.2 d, sd 3.9 d; Li et al. 2020) for an infectee with onset, else the
delay from infection to the first positive test (``test_delay_*``); infectious(Y, t) a
window around Y's onset (lower and before the positive test when Y has no onset;
``outside_infectious_weight`` outside or after isolation); profile(Y, t) a weight by days
from Y's onset to t (fitted bins: low more than 2 days before onset, highest in the days
after it); a per-hour hazard per setting (and tier); dilution = (capacity / reference) **
-exponent for a venue with a delivered capacity (one pair's share of a big crowd is
smaller; the reference is a typical venue, which a venue without capacity counts as). A
pair's score sums its exposures; the share is its score over the infectee's total plus
``unknown_source_weight`` (someone who is not a candidate). The hazards, profile and
windows are fitted on training cities (bench/fit_source.py); every number is in the
profile.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections.abc import Sequence

import pyarrow as pa
import pyarrow.compute as pc

from epicenter.engine import Engine
from epicenter.trace.contacts import empty_contacts, local_now, run_rules
from epicenter.trace.profile import Profile, SourceWeights, load_profile
from epicenter.trace.windows import SEED_SCHEMA

_DAY_SEP = "|"  # joins an infectee's key and a day in a per-day seed's case_key
# seeds per query of the rules with an index. Each seed is one infectee-day and its contacts
# are semi-joined to the known cases, so a batch of 2,500 holds about as many candidate
# stays as 100 contact-tracing cases; batched like those (100 seeds), the 1M city's 23,000
# seeds cost 230 query plans (200 infectees: 22.0 s; 2,500 a batch: 2.5 s, same rows)
SEEDS_PER_QUERY = 2_500
MAX_TIMING_STEPS = 24
COMMUNITY = "community"  # the setting of a candidate known only to live in the same area

KNOWN_CASES_SQL = """
SELECT person_key, status, onset_date, first_positive_time, isolation_time, last_report_time,
       area_code
FROM cases
WHERE first_positive_time IS NOT NULL AND first_positive_time <= $as_of
ORDER BY person_key
"""

VENUE_CAPACITY_SQL = "SELECT venue_code, capacity FROM venue WHERE capacity > 0"

LINK_SCHEMA = pa.schema([
    ("infectee_key", pa.string()), ("candidate_key", pa.string()), ("rank", pa.int64()),
    ("score", pa.float64()), ("share", pa.float64()), ("setting", pa.string()),
    ("tier", pa.string()), ("exposure_time", pa.timestamp("us")), ("delay_days", pa.float64()),
    ("overlap_minutes", pa.float64()), ("candidate_onset", pa.date32()),
    ("infectee_onset", pa.date32()), ("evidence", pa.string()), ("rule", pa.string()),
])


def has_onset(case: dict) -> bool:
    return case["onset_date"] is not None and case["status"] != "asymptomatic"


def reference_time(case: dict) -> dt.datetime:
    """Symptom onset (noon of the onset day), or the first positive report without onset."""
    if has_onset(case):
        return dt.datetime.combine(case["onset_date"], dt.time(12))
    return case["first_positive_time"]


def _lognormal(mean: float, sd: float) -> tuple[float, float]:
    """(mu, sigma) of the lognormal with this mean and standard deviation."""
    sigma2 = math.log(1 + (sd / mean) ** 2)
    return math.log(mean) - sigma2 / 2, math.sqrt(sigma2)


def _lognormal_pdf(days: float, mu: float, sigma: float) -> float:
    if days <= 0:
        return 0.0
    z = (math.log(days) - mu) / sigma
    return math.exp(-0.5 * z * z) / (days * sigma * math.sqrt(2 * math.pi))


class Scorer:
    """The per-exposure likelihood, parameterised by the profile's source weights.

    An exposure of infectee X to candidate Y over [a, b] (one day) scores
    ``max_t(delay_pdf(ref_X - t) * infectious(Y, t)) * (1 - exp(-hazard * hours))``:
    how well the timing fits (X's incubation or test delay at t, Y's infectiousness at t)
    times the chance that this much contact in this setting transmits at all.
    """

    def __init__(self, w: SourceWeights) -> None:
        self.w = w
        self.mu, self.sigma = _lognormal(w.incubation_mean_days, w.incubation_sd_days)
        self.test_delay = None
        if w.test_delay_mean_days is not None and w.test_delay_sd_days is not None:
            self.test_delay = _lognormal(w.test_delay_mean_days, w.test_delay_sd_days)

    def incubation_pdf(self, days: float) -> float:
        """Lognormal density (written out: scipy's per-call overhead dominated the scoring)."""
        return _lognormal_pdf(days, self.mu, self.sigma)

    def delay_pdf(self, infectee: dict, days: float) -> float:
        """Density of the time from infection to the infectee's reference time: the
        incubation up to onset, or the infection-to-test delay for a case without onset."""
        if self.test_delay is not None and not has_onset(infectee):
            return _lognormal_pdf(days, *self.test_delay)
        return self.incubation_pdf(days)

    def infectious(self, case: dict, t: dt.datetime) -> float:
        """Relative infectiousness of a known case at t (1 = symptomatic case near onset)."""
        w, ref = self.w, reference_time(case)
        if case["isolation_time"] is not None and t > case["isolation_time"]:
            return w.outside_infectious_weight
        if has_onset(case):
            lo, hi, level = w.infectious_before_onset_days, w.infectious_after_onset_days, 1.0
        else:  # no onset: infectious at some unknown time before the positive test
            lo, hi, level = w.asymptomatic_window_days, 0.0, w.asymptomatic_infectiousness
        days = (t - ref).total_seconds() / 86400
        return level if -lo <= days <= hi else w.outside_infectious_weight

    def timing(self, row: dict, infectee: dict, infector: dict) -> tuple[float, dt.datetime]:
        """Best timing likelihood over the exposure span (6-hour steps) and when it is reached
        (the best point ranked better on the training city than the mean over the span)."""
        a, b = row["first_exposure"], row["last_exposure"]
        # a long span (a community row covers the whole window) is sampled about daily
        steps = min(max(1, math.ceil((b - a) / dt.timedelta(hours=6))), MAX_TIMING_STEPS)
        ref = reference_time(infectee)
        best, best_t = -1.0, a
        for i in range(steps):
            t = a + (b - a) * ((i + 0.5) / steps)
            score = (self.delay_pdf(infectee, (ref - t).total_seconds() / 86400)
                     * self.infectious(infector, t))
            if score > best:
                best, best_t = score, t
        return best, best_t

    def hazard_key(self, row: dict) -> str:
        """The hazard that applies: "<setting>/long" for a day's exposure past the setting's
        long_exposure_minutes, else "<setting>/<tier>", else "<setting>" (most specific wins)."""
        h, setting = self.w.hazard_per_hour, row["setting"]
        long = self.w.long_exposure_minutes.get(setting)
        if long is not None and (row["overlap_minutes"] or 0) > long and f"{setting}/long" in h:
            return f"{setting}/long"
        key = f"{setting}/{row['tier']}"
        return key if key in h else setting

    def hazard(self, row: dict) -> float:
        """Per-hour transmission hazard of the exposure (see hazard_key)."""
        return self.w.hazard_per_hour.get(self.hazard_key(row), 0.0)

    @staticmethod
    def hours(row: dict) -> float:
        """Contact hours: the summed overlap, or the span for a shared home."""
        if row["overlap_minutes"] is not None:
            return max(row["overlap_minutes"], 1.0) / 60
        return max((row["last_exposure"] - row["first_exposure"]).total_seconds() / 3600, 1.0)

    def profile_bin(self, case: dict, t: dt.datetime) -> int | None:
        """Index of the ``infectiousness_edges_days`` bin holding t (days from the case's
        onset; an edge belongs to the bin below), None for a case without onset."""
        if not has_onset(case):
            return None
        days = (t - reference_time(case)).total_seconds() / 86400
        return bisect.bisect_left(self.w.infectiousness_edges_days, days)

    def profile(self, case: dict, t: dt.datetime) -> float:
        """The fitted infectiousness weight of a known case at t, by days from its onset;
        ``asymptomatic_profile_weight`` without onset."""
        w = self.w
        if not w.infectiousness_weights:
            return 1.0
        b = self.profile_bin(case, t)
        return w.asymptomatic_profile_weight if b is None else w.infectiousness_weights[b]

    def dilution(self, row: dict, capacity: dict[str, float] | None) -> float:
        """(capacity / reference) ** -exponent for a venue whose capacity was delivered, else 1."""
        w = self.w
        cap = (capacity or {}).get(row["place_id"]) if row["setting"] == "venue" else None
        if not cap or not w.venue_capacity_exponent:
            return 1.0
        return (cap / w.venue_capacity_reference) ** -w.venue_capacity_exponent

    def exposure(self, row: dict, infectee: dict, infector: dict,
                 capacity: dict[str, float] | None = None) -> tuple[float, dt.datetime]:
        timing, t = self.timing(row, infectee, infector)
        contact = self.hazard(row) * self.hours(row) * self.dilution(row, capacity)
        return timing * self.profile(infector, t) * -math.expm1(-contact), t


def acquisition_seeds(infectees: list[dict], w: SourceWeights) -> pa.Table:
    """One seed per infectee and calendar day of its acquisition window. The rules then
    return one exposure row per (pair, setting, day): the day's timing is scored at that
    day, where one row over the whole window would let a contact on day 1 borrow the best
    timing of day 20. The day rides in the case_key (``<key>|<date>``) and is cut off after."""
    rows = []
    for c in infectees:
        end = reference_time(c)
        start = end - dt.timedelta(days=w.acquisition_days)
        day = dt.datetime.combine(start.date(), dt.time())
        while day < end:
            rows.append((f"{c['person_key']}{_DAY_SEP}{day.date().isoformat()}", c["person_key"],
                         max(day, start), min(day + dt.timedelta(days=1), end)))
            day += dt.timedelta(days=1)
    return pa.table(list(zip(*rows, strict=True)) if rows else [[], [], [], []], schema=SEED_SCHEMA)


def candidate_exposures(engine: Engine, infectee_keys: Sequence[str] | None, profile: Profile,
                        as_of: dt.datetime, bucket_minutes: int | None = 60) -> tuple[pa.Table, dict]:
    """Every exposure of each infectee to a known case in its acquisition window, and the
    known cases by key (what ``score_candidates`` ranks; kept apart so weights can be fitted
    on one set of exposures)."""
    known = {c["person_key"]: c for c in engine.query(KNOWN_CASES_SQL, {"as_of": as_of}).to_pylist()}
    wanted = list(known) if infectee_keys is None else list(infectee_keys)
    missing = [k for k in wanted if k not in known]
    if missing:
        raise LookupError(f"not a known (positive) case: {', '.join(k[:12] for k in missing)}")
    infectees = [known[k] for k in wanted]
    exposures = run_rules(engine, acquisition_seeds(infectees, profile.source), profile,
                          profile.rules, as_of, targets=list(known), bucket_minutes=bucket_minutes,
                          seeds_per_query=SEEDS_PER_QUERY)
    infectee = pc.list_element(pc.split_pattern(exposures.column("case_key"), _DAY_SEP), 0)
    exposures = exposures.set_column(0, "case_key", infectee.cast(pa.string()))
    community = community_exposures(infectees, known, profile)
    return pa.concat_tables([exposures, community]) if community.num_rows else exposures, known


def community_exposures(infectees: list[dict], known: dict, profile: Profile) -> pa.Table:
    """One row per infectee and known case of the same area (the first
    ``community_area_digits`` of the case reports' area codes: 6 = district) over the
    acquisition window. No source records where community infections (bus, lift, street)
    happen, so without this the infector of such a case is not a candidate at all; the
    fitted ``community`` hazard keeps these rows below any recorded co-presence."""
    digits, w = profile.source.community_area_digits, profile.source
    schema = empty_contacts().schema
    if not digits:
        return schema.empty_table()
    by_area: dict[str, list[str]] = {}
    for key, c in known.items():
        if c.get("area_code"):
            by_area.setdefault(c["area_code"][:digits], []).append(key)
    rows = []
    for x in infectees:
        area = (x.get("area_code") or "")[:digits]
        end = reference_time(x)
        for y in by_area.get(area, []) if area else []:
            if y != x["person_key"]:
                rows.append({"case_key": x["person_key"], "contact_key": y, "tier": "general",
                             "setting": COMMUNITY, "place_id": area, "place_name": f"area {area}",
                             "first_exposure": end - dt.timedelta(days=w.acquisition_days),
                             "last_exposure": end, "overlap_minutes": None,
                             "evidence": f"case_report area_code {area}* (both cases)",
                             "rule": profile.rule_ref("source_community")})
    return pa.Table.from_pylist(rows, schema=schema)


def candidate_links(engine: Engine, infectee_keys: Sequence[str] | None = None,
                    profile: Profile | str | None = None, as_of: dt.datetime | None = None,
                    bucket_minutes: int | None = 60) -> pa.Table:
    """Candidate infectors (known cases) of each infectee, ranked; all cases when None."""
    profile = profile if isinstance(profile, Profile) else load_profile(profile or "default")
    exposures, known = candidate_exposures(engine, infectee_keys, profile, as_of or local_now(),
                                           bucket_minutes)
    return score_candidates(exposures.to_pylist(), known, profile.source,
                            venue_capacities(engine))


def venue_capacities(engine: Engine) -> dict[str, float]:
    """venue_code -> capacity, for the venues whose capacity was delivered (optional column)."""
    rows = engine.query(VENUE_CAPACITY_SQL).to_pylist()
    return {r["venue_code"]: float(r["capacity"]) for r in rows}


def score_candidates(exposures: list[dict], known: dict, w: SourceWeights,
                     capacity: dict[str, float] | None = None) -> pa.Table:
    """Rank each infectee's candidates from its exposure rows (dicts of a contacts table);
    ``capacity`` (venue_code -> capacity) dilutes venue hazards (see Scorer.dilution)."""
    scorer = Scorer(w)
    per_pair: dict[tuple[str, str], dict] = {}
    for row in exposures:
        x, y = row["case_key"], row["contact_key"]
        score, t = scorer.exposure(row, known[x], known[y], capacity)
        pair = per_pair.setdefault((x, y), {"score": 0.0, "best": -1.0})
        pair["score"] += score
        if score > pair["best"]:
            pair.update(best=score, row=row, t=t)
    return _rank(per_pair, known, w.unknown_source_weight)


def _rank(per_pair: dict, known: dict, unknown: float) -> pa.Table:
    by_infectee: dict[str, list] = {}
    for (x, y), p in per_pair.items():
        by_infectee.setdefault(x, []).append((y, p))
    out = []
    for x, cands in sorted(by_infectee.items()):
        # the prior mass of "infected by someone not among the candidates" keeps shares honest
        total = sum(p["score"] for _, p in cands) + unknown
        cands.sort(key=lambda c: (-c[1]["score"], c[0]))
        ref = reference_time(known[x])
        for rank, (y, p) in enumerate(cands, start=1):
            r = p["row"]
            out.append({
                "infectee_key": x, "candidate_key": y, "rank": rank, "score": p["score"],
                "share": p["score"] / total, "setting": r["setting"], "tier": r["tier"],
                "exposure_time": p["t"], "delay_days": round((ref - p["t"]).total_seconds() / 86400, 2),
                "overlap_minutes": r["overlap_minutes"],
                "candidate_onset": known[y]["onset_date"], "infectee_onset": known[x]["onset_date"],
                "evidence": r["evidence"], "rule": r["rule"],
            })
    return pa.Table.from_pylist(out, schema=LINK_SCHEMA)
