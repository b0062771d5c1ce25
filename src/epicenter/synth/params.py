"""Generator parameters: everything that shapes the synthetic city, in one place.

Scale-dependent counts derive from the number of persons so that a 2,000-person test city
and a 1,000,000-person benchmark city have the same per-capita structure.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import zlib

import numpy as np

DAY_S = 86_400
SLOTS_PER_DAY = 96  # 15-minute meter slots

# Spring Festival (lunar new year) dates; the exodus and the return wave are placed
# relative to the festival nearest the simulated window.
FESTIVALS = tuple(dt.date.fromisoformat(d) for d in (
    "2018-02-16", "2019-02-05", "2020-01-25", "2021-02-12", "2022-02-01", "2023-01-22",
    "2024-02-10", "2025-01-29", "2026-02-17", "2027-02-06", "2028-01-26",
))


@dataclasses.dataclass(frozen=True)
class SynthParams:
    persons: int
    days: int
    seed: int
    start: dt.date = dt.date(2020, 1, 10)
    dirty_rate: float = 0.002

    # --- epidemic (per-hour hazards are per pair of co-present persons) -----------------
    incubation_mu: float = 1.425  # lognormal: mean 5.2 d, 95th percentile 12.5 d (Li 2020)
    incubation_sigma: float = 0.67
    asymptomatic_share: float = 0.3
    asymptomatic_infectiousness: float = 0.5
    presymptomatic_days: float = 2.0  # infectious this long before onset
    infectious_after_onset_days: float = 8.0
    report_delay_mean_days: float = 5.0  # onset -> first (suspected) report
    symptomatic_detection: float = 0.85
    asymptomatic_detection: float = 0.6  # tested as household contacts of a reported case
    seed_share: float = 0.0012  # residents already infected at the start
    import_prob_resident_return: float = 0.01
    import_prob_visitor: float = 0.01
    household_daily_prob: float = 0.03  # ~20-25 % secondary attack rate
    hotel_room_daily_prob: float = 0.12
    team_hazard_per_h: float = 0.0016
    venue_hazard_per_h: float = 0.0025  # scaled down by venue crowd size
    vehicle_hazard_per_h: float = 0.05
    community_daily_prob: float = 0.02  # unobserved contacts (bus, lift, street)
    excluded_suspects_per_100k_day: float = 3.0

    # --- behaviour -----------------------------------------------------------------------
    scan_compliance_mean: float = 0.7
    scan_out_prob: float = 0.35
    payment_prob: float = 0.6
    address_missing_share: float = 0.03
    unregistered_phone_share: float = 0.06
    ping_carrier_share: float = 0.12  # phones whose carrier delivers raw pings
    vacant_household_share: float = 0.03
    migrant_household_share: float = 0.25
    exodus_share_migrant: float = 0.75
    exodus_share_local: float = 0.12
    stay_away_share: float = 0.35  # of festival leavers who do not return within ~3 weeks
    quarantine_leave_share: float = 0.1
    visitors_per_1000_day: float = 1.5

    def rng(self, stream: str) -> np.random.Generator:
        """An independent generator per named stream: adding a stream never shifts another."""
        return np.random.default_rng([self.seed, zlib.crc32(stream.encode())])

    @property
    def festival(self) -> dt.date:
        mid = self.start + dt.timedelta(days=self.days // 2)
        return min(FESTIVALS, key=lambda f: abs((f - mid).days))

    def date(self, day_index: int) -> dt.date:
        return self.start + dt.timedelta(days=day_index)

    @property
    def epoch(self) -> int:
        """Seconds of local midnight of the start date, counted from 1970-01-01 local."""
        return (self.start - dt.date(1970, 1, 1)).days * DAY_S

    def as_dict(self) -> dict:
        out = dataclasses.asdict(self)
        out["start"] = self.start.isoformat()
        out["festival"] = self.festival.isoformat()
        return out
