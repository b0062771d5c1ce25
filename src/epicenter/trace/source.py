"""Source tracing: rank candidate infectors of a case by a transmission likelihood.

For an infectee X, every known case Y co-present with X in X's acquisition window (from
``acquisition_days`` before onset until onset, or until the first positive report without
onset) is a candidate. Each exposure of the pair scores

    incubation_pdf(onset_X - t) * infectious(Y, t) * setting weight * tier weight
    * (1 - exp(-minutes / duration_scale))

with t searched over the exposure span (6-hour grid), the incubation a lognormal (mean
5.2 d, sd 3.9 d by default; Li et al. 2020) and infectious(Y, t) = 1 from
``infectious_before_onset_days`` before Y's onset (or first positive) until Y's isolation,
else ``outside_infectious_weight``. A candidate's score sums its exposures (a hazard); the
share is its score over the infectee's total. All numbers come from the profile.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

import pyarrow as pa
from scipy.stats import lognorm

from epicenter.engine import Engine
from epicenter.trace.contacts import local_now, run_rules
from epicenter.trace.profile import Profile, SourceWeights, load_profile
from epicenter.trace.windows import SEED_SCHEMA

KNOWN_CASES_SQL = """
SELECT person_key, status, onset_date, first_positive_time, isolation_time, last_report_time
FROM cases
WHERE first_positive_time IS NOT NULL AND first_positive_time <= $as_of
ORDER BY person_key
"""

LINK_SCHEMA = pa.schema([
    ("infectee_key", pa.string()), ("candidate_key", pa.string()), ("rank", pa.int64()),
    ("score", pa.float64()), ("share", pa.float64()), ("setting", pa.string()),
    ("tier", pa.string()), ("exposure_time", pa.timestamp("us")), ("delay_days", pa.float64()),
    ("overlap_minutes", pa.float64()), ("candidate_onset", pa.date32()),
    ("infectee_onset", pa.date32()), ("evidence", pa.string()), ("rule", pa.string()),
])


def reference_time(case: dict) -> dt.datetime:
    """Symptom onset (noon of the onset day), or the first positive report without onset."""
    if case["onset_date"] is not None and case["status"] != "asymptomatic":
        return dt.datetime.combine(case["onset_date"], dt.time(12))
    return case["first_positive_time"]


class Scorer:
    """The per-exposure likelihood, parameterised by the profile's source weights."""

    def __init__(self, w: SourceWeights) -> None:
        self.w = w
        sigma2 = math.log(1 + (w.incubation_sd_days / w.incubation_mean_days) ** 2)
        self.incubation = lognorm(s=math.sqrt(sigma2),
                                  scale=math.exp(math.log(w.incubation_mean_days) - sigma2 / 2))

    def infectious(self, case: dict, t: dt.datetime) -> float:
        start = reference_time(case) - dt.timedelta(days=self.w.infectious_before_onset_days)
        end = case["isolation_time"] or dt.datetime.max
        return 1.0 if start <= t <= end else self.w.outside_infectious_weight

    def exposure(self, row: dict, infectee: dict, infector: dict) -> tuple[float, dt.datetime]:
        """Best score over the exposure span and the time it is reached."""
        a, b = row["first_exposure"], row["last_exposure"]
        steps = max(1, int((b - a) / dt.timedelta(hours=6)))
        ref = reference_time(infectee)
        best, best_t = 0.0, a
        for i in range(steps + 1):
            t = a + (b - a) * (i / steps if steps else 0.5)
            delay = (ref - t).total_seconds() / 86400
            f = float(self.incubation.pdf(delay)) if delay > 0 else 0.0
            score = f * self.infectious(infector, t)
            if score > best:
                best, best_t = score, t
        minutes = row["overlap_minutes"]
        duration = 1.0 if minutes is None or row["setting"] == "household" else (
            1 - math.exp(-max(minutes, 1.0) / self.w.duration_scale_minutes))
        weight = (self.w.setting_weight.get(row["setting"], 0.0)
                  * self.w.tier_weight.get(row["tier"], 0.0) * duration)
        return best * weight, best_t


def acquisition_seeds(infectees: list[dict], w: SourceWeights) -> pa.Table:
    rows = []
    for c in infectees:
        end = reference_time(c)
        rows.append((c["person_key"], c["person_key"],
                     end - dt.timedelta(days=w.acquisition_days), end))
    return pa.table(list(zip(*rows, strict=True)) if rows else [[], [], [], []], schema=SEED_SCHEMA)


def candidate_links(engine: Engine, infectee_keys: Sequence[str] | None = None,
                    profile: Profile | str | None = None, as_of: dt.datetime | None = None,
                    bucket_minutes: int | None = 60) -> pa.Table:
    """Candidate infectors (known cases) of each infectee, ranked; all cases when None."""
    profile = profile if isinstance(profile, Profile) else load_profile(profile or "default")
    as_of = as_of or local_now()
    known = {c["person_key"]: c for c in engine.query(KNOWN_CASES_SQL, {"as_of": as_of}).to_pylist()}
    wanted = list(known) if infectee_keys is None else list(infectee_keys)
    missing = [k for k in wanted if k not in known]
    if missing:
        raise LookupError(f"not a known (positive) case: {', '.join(k[:12] for k in missing)}")
    infectees = [known[k] for k in wanted]
    exposures = run_rules(engine, acquisition_seeds(infectees, profile.source), profile,
                          profile.rules, as_of, targets=list(known), bucket_minutes=bucket_minutes)
    scorer = Scorer(profile.source)
    per_pair: dict[tuple[str, str], dict] = {}
    for row in exposures.to_pylist():
        x, y = row["case_key"], row["contact_key"]
        score, t = scorer.exposure(row, known[x], known[y])
        pair = per_pair.setdefault((x, y), {"score": 0.0, "best": -1.0})
        pair["score"] += score
        if score > pair["best"]:
            pair.update(best=score, row=row, t=t)
    return _rank(per_pair, known)


def _rank(per_pair: dict, known: dict) -> pa.Table:
    by_infectee: dict[str, list] = {}
    for (x, y), p in per_pair.items():
        by_infectee.setdefault(x, []).append((y, p))
    out = []
    for x, cands in sorted(by_infectee.items()):
        total = sum(p["score"] for _, p in cands) or 1.0
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
