"""Enterprise electricity load: standby until work resumes, then a ramp to working hours.

Before its resumption date (and, when a ``closed_from`` date is known, from that date on;
before it the enterprise works normally) an enterprise draws only standby power (security lighting,
servers, refrigeration). From that date its working-hours load comes back, starting at
20-50 % of staff and reaching full activity over 3-10 days, with the daily shape and
intensity of its industry. The industry string is matched by keyword, so the core
generator may use any naming; an unmatched industry gets the generic profile.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from epicenter.synth.meter_format import SLOT_MIN, SLOTS
from epicenter.synth.meter_load import HOURS


@dataclass(frozen=True)
class Profile:
    kw_per_worker: float
    opens: float  # hour
    closes: float  # hour
    weekend: float  # weekend activity relative to a weekday
    lunch_dip: float  # share of the load that pauses 12:00-13:00


GENERIC = Profile(0.4, 8, 18, 0.2, 0.1)
# first keyword found in the lower-cased industry string wins
PROFILES: tuple[tuple[tuple[str, ...], Profile], ...] = (
    (("factory", "manufactur", "industr", "plant", "workshop", "processing", "automotive"), Profile(1.2, 8, 18, 0.5, 0.15)),
    (("construct", "logistic", "warehouse", "transport"), Profile(0.6, 7, 19, 0.6, 0.1)),
    (("restaurant", "catering", "food", "canteen"), Profile(0.7, 10, 22, 1.1, 0.0)),
    (("retail", "market", "shop", "store", "mall"), Profile(0.5, 9, 21, 1.1, 0.0)),
    (("hotel", "hospital", "clinic", "health", "care"), Profile(0.4, 0, 24, 1.0, 0.0)),
    (("entertain", "cinema", "gym", "leisure", "bar"), Profile(0.5, 14, 24, 1.3, 0.0)),
    (("school", "educat", "university", "kindergarten"), Profile(0.15, 8, 17, 0.05, 0.1)),
    (("office", "financ", "tech", "service", "government", "admin"), Profile(0.25, 8, 18, 0.1, 0.1)),
)


def profile_of(industry: str | None) -> Profile:
    text = (industry or "").lower()
    for keywords, profile in PROFILES:
        if any(k in text for k in keywords):
            return profile
    return GENERIC


def _shape(profile: Profile) -> np.ndarray:
    """Working-hours shape over the 96 slots: soft start and end, optional lunch dip."""
    edge = 0.3  # hours for staff arriving / leaving
    opens = 1 / (1 + np.exp(-(HOURS - profile.opens) / edge)) if profile.opens > 0 else 1.0
    closes = 1 / (1 + np.exp(-(profile.closes - HOURS) / edge)) if profile.closes < 24 else 1.0
    lunch = np.where((HOURS >= 12) & (HOURS < 13), 1.0 - profile.lunch_dip, 1.0)
    return np.asarray(opens * closes * lunch, dtype=np.float64)


class EnterpriseLoad:
    """Per-enterprise parameters, drawn once, and the daily load they produce."""

    def __init__(self, industry: list, n_workers: np.ndarray, resumption: np.ndarray,
                 rng: np.random.Generator, closed_from: np.ndarray | None = None) -> None:
        n = len(industry)
        workers = np.clip(np.nan_to_num(np.asarray(n_workers, dtype=np.float64)), 1, None)
        self.n = n
        profiles = [profile_of(i) for i in industry]
        shapes = {p: _shape(p) for p in set(profiles)}
        self.shapes = np.array([shapes[p] for p in profiles]).reshape(n, SLOTS)
        self.weekend = np.array([p.weekend for p in profiles])
        self.work_kw = workers * np.array([p.kw_per_worker for p in profiles]) * \
            rng.lognormal(0.0, 0.25, n)
        self.standby_kw = (0.5 + 0.05 * workers) * rng.uniform(0.7, 1.3, n)
        self.ramp_start = rng.uniform(0.2, 0.5, n)
        self.ramp_days = rng.uniform(3.0, 10.0, n)
        # resumption as days since 1970 (NaT: never resumes within the record)
        self.resumption = np.asarray(resumption, dtype="datetime64[D]")
        # closed_from NaT (or not given): closed since before the record starts
        self.closed_from = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]") \
            if closed_from is None else np.asarray(closed_from, dtype="datetime64[D]")

    def activity(self, date: dt.date) -> np.ndarray:
        """Share of normal working activity on ``date``: 1 before the closure, 0 while
        closed, then the ramp from the resumption date."""
        day = np.datetime64(date, "D")
        since = (day - self.resumption).astype(np.float64)
        since[np.isnat(self.resumption)] = -1.0
        ramp = np.minimum(1.0, self.ramp_start + (1 - self.ramp_start) * since / self.ramp_days)
        before_closure = ~np.isnat(self.closed_from) & (day < self.closed_from)
        return np.where(before_closure, 1.0, np.where(since >= 0, ramp, 0.0))

    def day_kwh(self, date: dt.date, rng: np.random.Generator) -> np.ndarray:
        """kWh per slot [enterprises x 96] for one day."""
        day = np.where(date.weekday() >= 5, self.weekend, 1.0) * self.activity(date)
        work = (self.work_kw * day)[:, None] * self.shapes
        work *= np.exp(0.08 * rng.standard_normal((self.n, SLOTS)))
        standby = self.standby_kw[:, None] * (1 + 0.03 * rng.standard_normal((self.n, SLOTS)))
        return np.maximum(work + standby, 0.0) * (SLOT_MIN / 60)
