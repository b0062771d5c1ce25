"""Fit the source-tracing weights (profile ``source:``) by maximum likelihood on training cities.

    python bench/fit_source.py --train CITY HOME SECRET [--train ...] \
                               [--eval CITY HOME SECRET ...] [--json OUT] [--leave-one-out]

CITY is an ``epicenter synth`` delivery, HOME the warehouse it was ingested into, SECRET the
EPICENTER_SECRET_FILE of that ingest (so the truth's id_no map to person_keys). Training
and evaluation cities must be different syntheses (other ``--seed``): the figures reported
in docs/trace.md are out of sample.

Model (trace/source.py): a pair's score is the sum over its daily exposures of
timing(t) * profile[bin(t)] * (1 - exp(-hazard[key] * hours * dilution)), key one of
CLASSES (setting, setting/tier, or cell/long for a long day in one cell), bin the days from
the candidate's onset to t (EDGES; a last bin for candidates without onset), dilution =
(venue capacity / 180) ** -exponent; an infectee's true infector is one of its candidates
with probability score / (sum of scores + unknown). The per-hour hazards, the profile
weights and ``unknown`` maximise the conditional log-likelihood of the true infectors
(L-BFGS-B on log parameters, bounded, weak ridges so a class seen once stays finite and the
profile stays near 1 where data are thin); the capacity exponent and the timing parameters
(infectiousness window, infection-to-test delay of infectees without onset) are a grid
search on the same likelihood. ``--community-digits`` adds known cases of the same area as
candidates (off in the shipped profile: it ranked worse out of sample, docs/trace.md).
``--leave-one-out`` ranks each training city with weights fitted on the other training
cities: the figure a model change is judged on before the evaluation city is used once.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import math
import os
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

from epicenter.engine import Session
from epicenter.privacy import Pseudonymizer
from epicenter.settings import load_settings
from epicenter.trace import load_profile
from epicenter.trace.source import (
    Scorer,
    candidate_exposures,
    venue_capacities,
)

# hazard keys: a setting, or "setting/tier" where the tier tells apart contacts of one setting
# (an adjacent and a distant seat). A venue's tiers differ only by duration, which the hours
# already carry: one venue class (separate tiers let a handful of 5-minute contacts fit a
# per-hour hazard 5x the close tier's, so a brush in passing outranked a dinner together)
CLASSES = ("household", "hotel_room", "venue", "rail/close", "rail/general",
           "flight/close", "flight/general", "cell", "cell/long", "payment", "community")
# infectiousness profile: 2-day bins over the infectious period, by days from the candidate's
# onset to the exposure; one more weight for candidates without onset
EDGES = (-2.0, 0.0, 2.0, 4.0, 6.0, 8.0)
NBINS = len(EDGES) + 2
# (mean, sd) of the infection-to-positive-test delay of infectees without onset; None: incubation
TEST_DELAYS = (None, (15, 9))
GRID = {"infectious_before_onset_days": (2, 3, 4), "infectious_after_onset_days": (12,),
        "asymptomatic_window_days": (14,), "outside_infectious_weight": (0.01,),
        "test_delay": TEST_DELAYS, "long_exposure_minutes": ({"cell": 240},),
        "venue_capacity_exponent": (0.0, 0.5, 1.0, 1.5, 2.0, 2.5),
        # about the median capacity of the training cities' venues: a venue without a
        # delivered capacity counts as a typical one, not as a small shop
        "venue_capacity_reference": (180.0,)}
BOUNDS = (math.log(1e-4), math.log(20.0))  # per-hour hazards: a weak bound keeps the fit finite
PROFILE_BOUNDS = (-5.0, 5.0)


def _timing_weights(values: dict) -> dict:
    """Grid point -> SourceWeights fields (the test delay is one grid axis, two fields)."""
    out = {k: v for k, v in values.items() if k != "test_delay"}
    delay = values.get("test_delay")
    out["test_delay_mean_days"], out["test_delay_sd_days"] = delay if delay else (None, None)
    return out


def collect(city: Path, home: Path, secret: Path, profile) -> dict:
    """Exposures of every known case, the known cases, venue capacities and each one's true
    infector key."""
    os.environ["EPICENTER_SECRET_FILE"] = str(secret)
    settings = load_settings(home=home)
    params = json.loads((city / "truth/params.json").read_text())
    as_of = dt.datetime.fromisoformat(params["params"]["start"]) + dt.timedelta(days=params["days"])
    with Session() as s:
        events = s.arrow(f"SELECT infectee_id_no, infector_id_no FROM read_csv("
                         f"'{city}/truth/infections.csv', header=true, all_varchar=true)").to_pylist()
    pseudo = Pseudonymizer.from_settings(settings)
    infector = {pseudo.id_key(e["infectee_id_no"]): pseudo.id_key(e["infector_id_no"])
                for e in events if e["infector_id_no"]}
    engine = settings.warehouse.open_engine("duckdb")
    exposures, known = candidate_exposures(engine, None, profile, as_of)
    return {"name": city.name, "exposures": exposures.to_pylist(), "known": known,
            "infector": infector, "capacity": venue_capacities(engine)}


def prepare(data: dict, timing: dict) -> dict:
    """Arrays for one grid point: per exposure (pair, class, timing, diluted hours, bin)."""
    # every class gets a (dummy) hazard, so the scorer's hazard_key names the class of a row
    scorer = Scorer(load_profile("default").source.model_copy(
        update={**_timing_weights(timing), "hazard_per_hour": dict.fromkeys(CLASSES, 1.0),
                "infectiousness_edges_days": list(EDGES),
                "infectiousness_weights": [1.0] * (NBINS - 1)}))
    pairs: dict[tuple[str, str], int] = {}
    rows = []
    for r in data["exposures"]:
        x, y = r["case_key"], r["contact_key"]
        infector = data["known"][y]
        tm, t = scorer.timing(r, data["known"][x], infector)
        b = scorer.profile_bin(infector, t)
        rows.append((pairs.setdefault((x, y), len(pairs)), CLASSES.index(scorer.hazard_key(r)),
                     tm, scorer.hours(r) * scorer.dilution(r, data["capacity"]),
                     NBINS - 1 if b is None else b))
    arr = np.array(rows, dtype=float).reshape(-1, 5)
    infectees = sorted(data["known"])
    index = {x: i for i, x in enumerate(infectees)}
    # the infectees whose infector is a known case; target = that pair, or -1 (not a candidate)
    relevant = [x for x in infectees if data["infector"].get(x) in data["known"]]
    return {"pair": arr[:, 0].astype(int), "cls": arr[:, 1].astype(int), "timing": arr[:, 2],
            "hours": arr[:, 3], "bin": arr[:, 4].astype(int),
            "pair_x": np.array([index[x] for x, _ in pairs], dtype=int),
            "relevant": np.array([index[x] for x in relevant], dtype=int),
            "target": np.array([pairs.get((x, data["infector"][x]), -1) for x in relevant], dtype=int),
            "npairs": len(pairs), "nx": len(infectees)}


def _split(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    n = len(CLASSES)
    return theta[:n], theta[n:n + NBINS], float(theta[-1])


def pair_scores(d: dict, log_h: np.ndarray, log_w: np.ndarray) -> np.ndarray:
    s = d["timing"] * np.exp(log_w[d["bin"]]) * -np.expm1(-np.exp(log_h[d["cls"]]) * d["hours"])
    return np.bincount(d["pair"], s, d["npairs"])


def neg_log_likelihood(theta: np.ndarray, ds: list[dict]) -> float:
    log_h, log_w, log_u = _split(theta)
    nll = 0.01 * float(np.sum((log_h - log_h.mean()) ** 2)) + 0.1 * float(np.sum(log_w ** 2))
    for d in ds:
        ps = pair_scores(d, log_h, log_w) + 1e-300
        total = np.bincount(d["pair_x"], ps, d["nx"]) + math.exp(log_u)
        hit = d["target"] >= 0
        nll -= np.log(ps[d["target"][hit]]).sum() + log_u * np.sum(~hit)
        nll += np.log(total[d["relevant"]]).sum()
    return nll


def top_counts(d: dict, log_h: np.ndarray, log_w: np.ndarray) -> tuple[int, int, int]:
    """How many relevant infectees rank their true infector 1st / in the top 3 (ties count
    against it), and how many relevant infectees there are."""
    ps = pair_scores(d, log_h, log_w)
    top1 = top3 = 0
    for x, tg in zip(d["relevant"], d["target"], strict=True):
        if tg < 0:
            continue
        rank = int(np.sum(ps[d["pair_x"] == x] >= ps[tg]))
        top1, top3 = top1 + (rank == 1), top3 + (rank <= 3)
    return top1, top3, len(d["relevant"])


def top_k(d: dict, log_h: np.ndarray, log_w: np.ndarray) -> tuple[float, float, int]:
    """Share of relevant infectees whose true infector ranks 1st / in the top 3 (ties: worst)."""
    top1, top3, n = top_counts(d, log_h, log_w)
    return round(top1 / n, 4), round(top3 / n, 4), n


def fit_point(ds: list[dict]):
    """Maximum likelihood hazards, profile weights and unknown weight on prepared cities
    (one grid point); the scipy result (x: log parameters, fun: -log L)."""
    theta0 = np.array([math.log(0.01)] * len(CLASSES) + [0.0] * NBINS + [math.log(1e-3)])
    return minimize(neg_log_likelihood, theta0, args=(ds,), method="L-BFGS-B",
                    bounds=[BOUNDS] * len(CLASSES) + [PROFILE_BOUNDS] * NBINS + [(None, None)])


def grid_search(train: list[dict]) -> tuple[float, dict, np.ndarray]:
    """(-log L, grid point, log parameters) of the best grid point."""
    best = None
    for values in itertools.product(*GRID.values()):
        timing = dict(zip(GRID, values, strict=True))
        res = fit_point([prepare(t, timing) for t in train])
        print(f"grid {timing}: -log L {res.fun:.2f}", flush=True)
        if best is None or res.fun < best[0]:
            best = (res.fun, timing, res.x)
    return best


def leave_one_out(ds: list[dict], names: list[str]) -> dict:
    """Each training city ranked with weights fitted on the other training cities (at one
    grid point): an out-of-sample top-1 / top-3 that spends no evaluation city, so a model
    change can be judged before the evaluation city is looked at once."""
    out, pooled = {}, np.zeros(3, dtype=int)
    for i, (d, name) in enumerate(zip(ds, names, strict=True)):
        log_h, log_w, _ = _split(fit_point(ds[:i] + ds[i + 1:]).x)
        counts = top_counts(d, log_h, log_w)
        pooled += counts
        out[name] = [round(counts[0] / counts[2], 4), round(counts[1] / counts[2], 4), counts[2]]
    n = int(pooled[2])
    out["pooled"] = [round(int(pooled[0]) / n, 4), round(int(pooled[1]) / n, 4), n]
    return out


def fit(train: list[dict]) -> dict:
    return summarise(grid_search(train), train)


def summarise(best: tuple[float, dict, np.ndarray], train: list[dict]) -> dict:
    """The fitted weights as a profile's ``source`` fields (plus diagnostics)."""
    nll, timing, theta = best
    log_h, log_w, log_u = _split(theta)
    # a class without a single training exposure has only the ridge's estimate (the mean of
    # the others on the log scale): kept, so such a contact still scores, and named
    seen = set(np.concatenate([d["cls"] for d in (prepare(t, timing) for t in train)]).tolist())
    community = any(t["exposures"] and any(r["setting"] == "community" for r in t["exposures"])
                    for t in train)
    weights = [float(f"{math.exp(v):.2g}") for v in log_w]
    return {"neg_log_likelihood": round(float(nll), 3), **_timing_weights(timing),
            "hazard_per_hour": {c: float(f"{math.exp(v):.2g}")
                                for c, v in zip(CLASSES, log_h, strict=True)
                                if c != "community" or community},
            "classes_without_training_exposures": [c for i, c in enumerate(CLASSES)
                                                   if i not in seen and c != "community"],
            "infectiousness_edges_days": list(EDGES), "infectiousness_weights": weights[:-1],
            "asymptomatic_profile_weight": weights[-1],
            "unknown_source_weight": float(f"{math.exp(log_u):.2g}")}


def evaluate(data: dict, w: dict) -> tuple[float, float, int]:
    """Top-1 / top-3 of one weight set (a profile's ``source`` as a dict) on one city."""
    timing = {k: w[k] for k in GRID if k != "test_delay"}
    mean, sd = w.get("test_delay_mean_days"), w.get("test_delay_sd_days")
    timing["test_delay"] = (mean, sd) if mean and sd else None
    h = w["hazard_per_hour"]
    log_h = np.log([max(h.get(k, h.get(k.split("/")[0], 0.0)), 1e-300) for k in CLASSES])
    profile = list(w.get("infectiousness_weights") or [])
    if profile and tuple(w["infectiousness_edges_days"]) != EDGES:
        raise ValueError("evaluate() scores the profile on EDGES only")
    log_w = np.log((profile + [w.get("asymptomatic_profile_weight", 1.0)]) if profile
                   else [1.0] * NBINS)
    return top_k(prepare(data, timing), log_h, log_w)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--train", nargs=3, action="append", type=Path, required=True)
    ap.add_argument("--eval", nargs=3, action="append", type=Path, default=[])
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--community-digits", type=int, default=None,
                    help="Also make known cases of the same area (this many leading digits of "
                         "the area code, 6 = district) candidates, with a fitted 'community' hazard.")
    ap.add_argument("--leave-one-out", action="store_true",
                    help="Also rank each training city with weights fitted on the others (at the "
                         "chosen grid point): the out-of-sample figure to compare models on.")
    args = ap.parse_args()
    profile = load_profile("default")
    profile = profile.model_copy(update={"source": profile.source.model_copy(
        update={"community_area_digits": args.community_digits})})
    train = [collect(*c, profile) for c in args.train]
    best = grid_search(train)
    fitted = {**summarise(best, train), "community_area_digits": args.community_digits}
    report = {"train": [t["name"] for t in train], "fitted": fitted, "eval": {}}
    if args.leave_one_out and len(train) > 1:
        report["leave_one_city_out"] = leave_one_out([prepare(t, best[1]) for t in train],
                                                     [t["name"] for t in train])
    for c in args.eval:
        data = collect(*c, profile)
        for label, w in (("shipped_profile", profile.source.model_dump()), ("fitted", fitted)):
            report["eval"].setdefault(data["name"], {})[label] = evaluate(data, w)
    text = json.dumps(report, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
