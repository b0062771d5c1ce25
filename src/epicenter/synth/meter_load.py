"""Household electricity load from true occupancy, per 15-minute slot (vectorised).

The load is the sum of appliances whose use follows who is home and awake:
- standby (router, chargers, appliances on standby): a small constant that grows with
  household size; a long-vacant home has the mains mostly switched off (near zero);
- the fridge compressor: periodic on/off cycles (40-90 min period, 30-50 % duty), running
  whether anyone is home or not, except in long-vacant homes (emptied and unplugged);
- activity per awake person (lights, devices), plus a little per sleeping person;
- cooking peaks around 07:00, 12:00 and 18:30 when someone is awake at home;
- evening TV and lighting (18:00-23:00);
- heating (or air conditioning) by month, only while someone is home, with a daily
  weather factor shared by the whole city;
- short random appliance events (kettle, washing machine, water heater) while awake.
Quarantined households are home all day; a quarantined household that left shows no
activity at all (it looks vacant although it should be occupied).
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np

from epicenter.synth.meter_format import SLOT_MIN, SLOTS

STATES = ("occupied", "vacant_long", "away_festival", "returned", "quarantined",
          "quarantined_left")
OCCUPIED, VACANT_LONG, AWAY_FESTIVAL, RETURNED, QUARANTINED, QUARANTINED_LEFT = range(6)
# states whose members are really at home (the others show no activity at all)
_PRESENT = np.array([True, False, False, True, True, False])

HOURS = (np.arange(SLOTS) + 0.5) * SLOT_MIN / 60  # slot midpoints, hours after midnight
MEALS = np.array([7.0, 12.0, 18.5])  # cooking peak hours
MEAL_PROB = np.array([0.55, 0.5, 0.85])  # chance a household cooks that meal when home
MEAL_SPREAD_H = 0.3  # width of a cooking peak (hours)
# heating (Nov-Mar) or cooling (Jun-Sep) intensity by month; January is the coldest
CLIMATE = np.array([1.0, 0.8, 0.4, 0.0, 0.0, 0.4, 0.8, 0.8, 0.3, 0.0, 0.3, 0.8])
QUARANTINE_AWAKE = slice(28, 92)  # quarantined members are up from 07:00 to 23:00


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


F32 = np.float32
EVENING = (_sigmoid((HOURS - 18.0) / 0.4) * _sigmoid((23.0 - HOURS) / 0.4)).astype(F32)
# per-slot factors looked up by the number of members (0..MAX_MEMBERS) instead of computed
MAX_MEMBERS = 16
_N = np.arange(MAX_MEMBERS + 1)
PERSON_POWER = (_N ** 0.8).astype(F32)  # activity grows less than linearly with people
CROWD = np.where(_N > 0, 1.0 + 0.2 * (np.minimum(_N, 5) - 1), 0.0).astype(F32)
APPLIANCE_USERS = np.minimum(_N, 3).astype(F32)
HVAC_DUTY = np.array([0.0, 0.25, 0.5], dtype=F32)  # nobody / only sleepers / someone awake
SLEEPER_KW = F32(0.01)
MEAL_HALF_WIDTH = 4  # slots either side of a cooking peak that get any load
# Per-slot noise is drawn as random bytes mapped through 256 quantiles of its distribution:
# ~10x cheaper than drawing normals for 33.6 million slots a day, and just as random.
_QUANTILES = [NormalDist().inv_cdf((q + 0.5) / 256) for q in range(256)]
ACTIVITY_NOISE = np.exp(0.25 * np.array(_QUANTILES)).astype(F32)  # lognormal, sigma 0.25
METER_ERROR = (1.0 + 0.01 * np.array(_QUANTILES)).astype(F32)  # accuracy class 1: ~1 %


def _random_bytes(rng: np.random.Generator, m: int) -> np.ndarray:
    return np.frombuffer(rng.bytes(m * SLOTS), dtype=np.uint8).reshape(m, SLOTS)


def state_codes(states: np.ndarray) -> np.ndarray:
    """Occupancy state names as small integer codes (raises on an unknown state)."""
    names, inverse = np.unique(np.asarray(states).astype(str), return_inverse=True)
    unknown = set(names) - set(STATES)
    if unknown:
        raise ValueError(f"unknown household states: {sorted(unknown)}")
    lookup = np.array([STATES.index(n) for n in names], dtype=np.int8)
    return lookup[inverse.reshape(-1)]


class HouseholdLoad:
    """Per-household appliance parameters, drawn once, and the daily load they produce."""

    def __init__(self, registered_persons: np.ndarray, rng: np.random.Generator) -> None:
        size = np.nan_to_num(np.asarray(registered_persons, dtype=np.float64), nan=2.0)
        size = np.clip(size, 1, 8)
        n = size.shape[0]
        self.n = n
        self.base_kw = ((0.025 + 0.008 * size) * rng.lognormal(0.0, 0.35, n)).astype(F32)
        self.off_kw = (self.base_kw * rng.uniform(0.02, 0.1, n)).astype(F32)  # mains mostly off
        self.fridge_kw = rng.uniform(0.09, 0.16, n).astype(F32)
        self.fridge_period = rng.uniform(40.0, 90.0, n)  # minutes
        self.fridge_on = self.fridge_period * rng.uniform(0.3, 0.5, n)
        self.fridge_phase = rng.uniform(0.0, 1.0, n) * self.fridge_period
        self.person_kw = (0.09 * rng.lognormal(0.0, 0.3, n)).astype(F32)
        self.cook_kw = rng.uniform(0.8, 2.2, n)
        self.evening_kw = rng.uniform(0.1, 0.35, n).astype(F32)
        self.hvac_kw = np.where(rng.random(n) < 0.7, rng.uniform(0.8, 2.0, n), 0.0).astype(F32)
        # appliance events (kettle, washer, water heater) per awake member and slot
        self.appliance_rate = (rng.uniform(0.5, 1.5, n) * 0.03).astype(F32)

    def fridge_fraction(self, rows: slice, day_index: int) -> np.ndarray:
        """Share of each slot the compressor runs: exact overlap of its on-phases.

        Cycles continue across days; the position in the cycle at midnight is computed in
        float64, the rest in float32 on small numbers (minutes within the day)."""
        period = self.fridge_period[rows]
        at_midnight = np.mod(day_index * 1440.0 - self.fridge_phase[rows], period)
        x = at_midnight.astype(F32)[:, None] + (SLOT_MIN * np.arange(SLOTS + 1, dtype=F32))
        period32 = period.astype(F32)[:, None]
        on = self.fridge_on[rows].astype(F32)[:, None]
        cycles = np.floor(x / period32)
        # cumulative on-time since the cycle that was running at midnight, differenced
        cum = cycles * on + np.minimum(x - cycles * period32, on)
        return np.diff(cum, axis=1) / F32(SLOT_MIN)

    @staticmethod
    def occupancy(home: np.ndarray, awake: np.ndarray,
                  codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Members home and awake per slot after the state overrides (small ints)."""
        present = _PRESENT[codes][:, None]
        home = np.where(present, np.clip(home, 0, MAX_MEMBERS), 0).astype(np.int8)
        awake = np.where(present, np.clip(awake, 0, home), 0).astype(np.int8)
        quarantined = codes == QUARANTINED
        if quarantined.any():
            # isolation at home: somebody is in all day, up from morning to late evening
            q_n = np.maximum(home[quarantined].max(axis=1, keepdims=True), 1).astype(np.int8)
            home[quarantined] = np.maximum(home[quarantined], q_n)
            day = awake[quarantined]
            day[:, QUARANTINE_AWAKE] = np.maximum(day[:, QUARANTINE_AWAKE], q_n)
            awake[quarantined] = day
        return home, awake

    def _cooking(self, load: np.ndarray, rows: slice, rng: np.random.Generator) -> None:
        """Add the three meal peaks to ``load`` (only the ~9 slots around each peak)."""
        m = load.shape[0]
        centres = MEALS[None, :] + rng.normal(0.0, 0.33, (m, 3))
        cooks = rng.random((m, 3)) < MEAL_PROB
        near = np.arange(-MEAL_HALF_WIDTH, MEAL_HALF_WIDTH + 1)
        flat = load.reshape(-1)
        row_start = (np.arange(m) * SLOTS)[:, None]
        for k in range(3):
            slots = np.clip(np.floor(centres[:, k] * 4).astype(np.int64)[:, None] + near,
                            0, SLOTS - 1)
            peak = np.exp(-0.5 * ((HOURS[slots] - centres[:, k:k + 1]) / MEAL_SPREAD_H) ** 2)
            flat[row_start + slots] += (peak * (self.cook_kw[rows] * cooks[:, k])[:, None]
                                       ).astype(F32)

    def day_kwh(self, rows: slice, day_index: int, month: int, weather: float,
                home: np.ndarray, awake: np.ndarray, codes: np.ndarray,
                rng: np.random.Generator) -> np.ndarray:
        """kWh per slot [households in rows x 96] for one day (float32)."""
        m = codes.shape[0]
        home, awake = self.occupancy(home, awake, codes)
        # household-level activity (evening TV/lights, cooking), only while someone is up
        load = self.evening_kw[rows, None] * EVENING[None, :]
        self._cooking(load, rows, rng)
        load *= CROWD[awake]
        load += self.person_kw[rows, None] * PERSON_POWER[awake]
        load += SLEEPER_KW * (home - awake)
        users = (home > 0).view(np.int8)
        users += awake > 0
        hvac = self.hvac_kw[rows] * F32(CLIMATE[month - 1] * weather)
        load += hvac[:, None] * HVAC_DUTY[users]
        load *= ACTIVITY_NOISE[_random_bytes(rng, m)]  # behaviour varies from slot to slot

        vacant = (codes == VACANT_LONG)[:, None]
        load += np.where(vacant, self.off_kw[rows, None], self.base_kw[rows, None])
        fridge = self.fridge_fraction(rows, day_index)
        fridge *= np.where(vacant, F32(0), self.fridge_kw[rows, None])
        load += fridge
        load *= F32(SLOT_MIN / 60)  # kW averaged over the slot -> kWh

        rate = self.appliance_rate[rows, None] * APPLIANCE_USERS[awake]
        chance = np.frombuffer(rng.bytes(2 * m * SLOTS), dtype=np.uint16).reshape(m, SLOTS)
        events = chance < rate * F32(65536)
        load[events] += np.minimum(rng.exponential(0.2, int(events.sum())), 1.0).astype(F32)
        load *= METER_ERROR[_random_bytes(rng, m)]
        return np.maximum(load, F32(0), out=load)
