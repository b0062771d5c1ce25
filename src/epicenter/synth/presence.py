"""One day of true presence for everybody: travel days, isolation and quarantine shape
the day; persons free all day get a full schedule from the Scheduler."""

from __future__ import annotations

import dataclasses

import numpy as np

from epicenter.synth.schedule import (
    COMMUTE,
    DAY,
    OUTSIDE,
    P_ISOLATION,
    P_STATION,
    VEHICLE,
    VENUE,
    H,
    Scheduler,
    Segments,
    seg,
)

STATION_BEFORE = {"rail": 3600, "flight": 5400}
STATION_AFTER = 1200


@dataclasses.dataclass
class Legs:
    """Ticketed legs of trains and flights (all days); leaving = leaving the city."""
    person: np.ndarray
    vehicle: np.ndarray
    party: np.ndarray
    dep: np.ndarray  # absolute seconds from the first midnight
    arr: np.ndarray
    leaving: np.ndarray
    hub: np.ndarray  # the city's station venue used

    def on_day(self, d: int) -> np.ndarray:
        return np.flatnonzero((self.dep >= d * DAY) & (self.dep < (d + 1) * DAY))


@dataclasses.dataclass
class Restrictions:
    """Isolation windows per person and quarantine windows per household (absolute s)."""
    iso0: np.ndarray
    iso1: np.ndarray
    q_day0: np.ndarray  # first full quarantine day index of a household (large: none)
    q_day1: np.ndarray  # first day after quarantine
    q_left: np.ndarray  # the quarantined household leaves the city on its first day


def day_segments(d: int, sched: Scheduler, legs: Legs, seats: dict, travel, rest: Restrictions,
                 hospital_of: np.ndarray, day_flags: dict, rng: np.random.Generator) -> Segments:
    pop = sched.pop
    n = pop.n
    D = d * DAY
    parts: list[dict] = []
    everyone = np.arange(n)
    handled = np.zeros(n, dtype=bool)
    # isolation (in hospital) overrides any planned trip: an isolated resident does not
    # leave town, board a booked train or flight, or drive off (the tickets stay sold)
    isolated = (rest.iso0 < D + DAY) & (rest.iso1 > D)
    # --- away all day (trips, vacant homes, visitors not in town) -----------------------
    away = (travel.away0 <= D) & (travel.away1 >= D + DAY) & ~isolated
    away |= (travel.visit0 >= D + DAY) | (travel.visit1 <= D)
    hh = np.maximum(pop.household, 0)
    q_today = (pop.household >= 0) & (rest.q_day0[hh] <= d) & (d < rest.q_day1[hh])
    # a quarantined household that leaves stays away; its isolated members stay isolated
    q_gone = (pop.household >= 0) & rest.q_left[hh] & (d > rest.q_day0[hh]) & ~isolated
    away |= q_gone
    parts.append(seg(everyone[away], OUTSIDE, -1, 0, DAY))
    handled |= away
    # --- ticketed legs today: station, vehicle and outside segments -----------------------
    lo = np.zeros(n)
    hi = np.full(n, float(DAY))
    today = legs.on_day(d)
    boards = ~((rest.iso0[legs.person[today]] <= legs.dep[today])
               & (legs.dep[today] < rest.iso1[legs.person[today]]))
    today, seat_key, seat_row = today[boards], seats["key"][boards], seats["row"][boards]
    lp, lv = legs.person[today], legs.vehicle[today]
    dep, arr = legs.dep[today] - D, legs.arr[today] - D
    flight = seats["flight"][lv]
    before = np.where(flight, STATION_BEFORE["flight"], STATION_BEFORE["rail"])
    out = legs.leaving[today]
    parts.append(seg(lp, VEHICLE, seat_key, dep, arr, row=seat_row))
    parts.append(seg(lp[out], VENUE, legs.hub[today][out], dep[out] - before[out], dep[out], P_STATION))
    parts.append(seg(lp[out], OUTSIDE, -1, arr[out], DAY))
    parts.append(seg(lp[~out], OUTSIDE, -1, 0, dep[~out]))
    parts.append(seg(lp[~out], VENUE, legs.hub[today][~out], arr[~out], arr[~out] + STATION_AFTER,
                     P_STATION))
    hi[lp[out]] = np.minimum(hi[lp[out]], dep[out] - before[out] - COMMUTE)
    lo[lp[~out]] = np.maximum(lo[lp[~out]], arr[~out] + STATION_AFTER + COMMUTE)
    travelling = np.zeros(n, dtype=bool)
    travelling[lp] = True
    # --- trips by car and visitors' arrival/departure windows ----------------------------
    car_out = (~travelling & ~isolated & (travel.away0 >= D) & (travel.away0 < D + DAY))
    car_in = (~travelling & ~isolated & (travel.away1 >= D) & (travel.away1 < D + DAY))
    parts.append(seg(everyone[car_out], OUTSIDE, -1, travel.away0[car_out] - D, DAY))
    parts.append(seg(everyone[car_in], OUTSIDE, -1, 0, travel.away1[car_in] - D))
    hi[car_out] = np.minimum(hi[car_out], travel.away0[car_out] - D)
    lo[car_in] = np.maximum(lo[car_in], travel.away1[car_in] - D)
    v_in = (travel.h_checkin_of >= D) & (travel.h_checkin_of < D + DAY)
    v_out = (travel.h_checkout_of >= D) & (travel.h_checkout_of < D + DAY)
    lo[v_in] = np.maximum(lo[v_in], travel.h_checkin_of[v_in] - D)
    hi[v_out] = np.minimum(hi[v_out], travel.h_checkout_of[v_out] - D)
    # a quarantined household that leaves goes by car on its first quarantine day
    q_leave = q_today & rest.q_left[hh] & (d == rest.q_day0[hh]) & ~handled & ~isolated
    parts.append(seg(everyone[q_leave], OUTSIDE, -1, 10 * H, DAY))
    hi[q_leave] = np.minimum(hi[q_leave], 10 * H)
    partial = (travelling | car_out | car_in | v_in | v_out | q_leave) & ~handled
    handled |= partial
    # --- isolation (in hospital) ----------------------------------------------------------
    iso = ~handled & (rest.iso0 < D + DAY) & (rest.iso1 > D)
    i0 = np.clip(rest.iso0 - D, 0, DAY)
    i1 = np.clip(rest.iso1 - D, 0, DAY)
    ip = everyone[iso]
    kind, place = sched.base(ip)
    parts.append(seg(ip, kind, place, 0, i0[iso]))
    parts.append(seg(ip, VENUE, hospital_of[ip], i0[iso], i1[iso], P_ISOLATION))
    parts.append(seg(ip, kind, place, np.minimum(i1[iso] + H, DAY), DAY))
    handled |= iso
    # --- home quarantine and partial days: at the base, no outings ------------------------
    stay = (q_today | partial) & ~iso & ~away
    sp = everyone[stay]
    kind, place = sched.base(sp)
    parts.append(seg(sp, kind, place, lo[stay], hi[stay]))
    handled |= stay
    free = everyone[~handled]
    parts += sched.activities(free, rng=rng, **day_flags)
    return Segments.concat(parts)

