"""Natural history and surveillance of each infection: incubation, asymptomatic share,
infectious window, detection, reports (suspected -> confirmed), isolation, recovery,
and the household quarantine and contact testing that a confirmed case triggers."""

from __future__ import annotations

import numpy as np

from epicenter.synth.params import DAY_S, SynthParams

H = 3600
SETTINGS = ("household", "hotel_room", "venue", "rail", "flight", "workplace", "school", "other")
S = {s: i for i, s in enumerate(SETTINGS)}


class Disease:
    """Per-person infection state; times are absolute seconds from the first midnight."""

    def __init__(self, p: SynthParams, n: int, household: np.ndarray, n_households: int):
        self.p = p
        self.rng = p.rng("disease")
        self.household = household
        nan = np.full(n, np.nan)
        self.inf_time = nan.copy()
        self.incubation = nan.copy()  # days
        self.asymptomatic = np.zeros(n, dtype=bool)
        self.onset = nan.copy()
        self.report0 = nan.copy()  # first report (suspected, or asymptomatic positive)
        self.confirm = nan.copy()  # positive report of a symptomatic case
        self.release = nan.copy()  # recovered / released / excluded
        self.excluded = np.zeros(n, dtype=bool)  # a suspect that tested negative
        self.iso0 = np.full(n, np.inf)
        self.iso1 = np.full(n, np.inf)
        self.q_day0 = np.full(n_households, 1 << 30)
        self.q_day1 = np.full(n_households, 1 << 30)
        self.q_left = self.rng.random(n_households) < p.quarantine_leave_share
        self.events: list[dict] = []  # infection events, in order

    # ---- infection --------------------------------------------------------------------------
    def infect(self, who: np.ndarray, when: np.ndarray) -> None:
        p, rng, k = self.p, self.rng, len(who)
        if not k:
            return
        inc = rng.lognormal(p.incubation_mu, p.incubation_sigma, k)
        asym = rng.random(k) < p.asymptomatic_share
        self.inf_time[who] = when
        self.incubation[who] = inc
        self.asymptomatic[who] = asym
        onset = when + inc * DAY_S
        self.onset[who] = np.where(asym, np.nan, onset)
        detected = ~asym & (rng.random(k) < p.symptomatic_detection)
        delay = rng.gamma(2.0, p.report_delay_mean_days / 2.0, k) * DAY_S
        report = _daytime(onset + delay, rng)
        confirm = report + rng.uniform(0.5, 3.0, k) * DAY_S
        sel = who[detected]
        self.report0[sel] = report[detected]
        self.confirm[sel] = confirm[detected]
        self.release[sel] = confirm[detected] + rng.uniform(14, 21, int(detected.sum())) * DAY_S
        self.iso0[sel] = report[detected]
        self.iso1[sel] = self.release[sel]

    def infectious_window(self, who: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        p = self.p
        inc = self.incubation[who]
        t = self.inf_time[who]
        start = t + np.maximum(0.5, inc - p.presymptomatic_days) * DAY_S
        return start, t + (inc + p.infectious_after_onset_days) * DAY_S

    def relative_infectiousness(self, who: np.ndarray) -> np.ndarray:
        return np.where(self.asymptomatic[who], self.p.asymptomatic_infectiousness, 1.0)

    def susceptible(self, who: np.ndarray) -> np.ndarray:
        return np.isnan(self.inf_time[who])

    # ---- surveillance -------------------------------------------------------------------------
    def end_of_day(self, d: int, in_city: np.ndarray) -> None:
        """Confirmations of the day quarantine households and test their members; false
        suspects (fevers of other causes) are reported and later excluded."""
        p, rng = self.p, self.rng
        lo, hi = d * DAY_S, (d + 1) * DAY_S
        conf = np.flatnonzero((self.confirm >= lo) & (self.confirm < hi))
        hh = self.household[conf]
        hh = hh[hh >= 0]
        fresh = hh[self.q_day0[hh] > d + 1]
        self.q_day0[fresh] = d + 1
        self.q_day1[fresh] = d + 15
        members = np.flatnonzero(np.isin(self.household, hh) & (self.household >= 0))
        asym = members[self.asymptomatic[members] & np.isnan(self.report0[members])
                       & (self.inf_time[members] < hi)]
        found = asym[rng.random(len(asym)) < p.asymptomatic_detection]
        when = _daytime(hi + rng.uniform(0.3, 2.5, len(found)) * DAY_S, rng)
        self.report0[found] = when
        self.iso0[found] = when
        self.release[found] = when + rng.uniform(14, 21, len(found)) * DAY_S
        self.iso1[found] = self.release[found]
        # false suspects among people in the city who are not infected
        k = rng.poisson(p.excluded_suspects_per_100k_day * self.p.persons / 100_000)
        cand = np.flatnonzero(in_city & np.isnan(self.inf_time) & np.isnan(self.report0))
        if k and len(cand):
            who = rng.choice(cand, min(k, len(cand)), replace=False)
            t = lo + rng.uniform(8 * H, 20 * H, len(who))
            self.report0[who] = t
            self.excluded[who] = True
            self.release[who] = t + rng.uniform(1.0, 3.0, len(who)) * DAY_S
            self.iso0[who] = t
            self.iso1[who] = self.release[who]

    def record(self, **event) -> None:
        self.events.append(event)


def _daytime(t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Move times into office hours of their day (reports are filed 08:00-20:00)."""
    day = np.floor(t / DAY_S) * DAY_S
    tod = t - day
    return np.where((tod < 8 * H) | (tod > 20 * H), day + rng.uniform(8 * H, 20 * H, len(t)), t)
