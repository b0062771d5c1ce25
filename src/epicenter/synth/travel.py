"""Who leaves and enters the city, when and how: the festival exodus and return wave of
households, business trips of workers, and visitors who stay in hotel rooms.

Times are seconds from local midnight of the first simulated day (negative before it).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from epicenter.synth.params import DAY_S, SynthParams
from epicenter.synth.places import Places
from epicenter.synth.population import VISITOR, WORKER, Population
from epicenter.synth.transport import Timetable

H = 3600
CITY_WEIGHTS = np.array([4, 5, 5, 5, 8, 8, 4, 4, 9, 9, 6, 6], dtype=float)  # nearby cities heavier
MODES = ("rail", "flight", "car")


@dataclasses.dataclass
class Travel:
    away0: np.ndarray  # per person: start of absence from the city (nan: none)
    away1: np.ndarray  # end of absence (inf: not back within the window)
    # one row per trip (truth/trips.csv)
    t_person: np.ndarray
    t_depart: np.ndarray
    t_mode: np.ndarray  # index into MODES
    t_out_vehicle: np.ndarray  # -1 for car
    t_in_vehicle: np.ndarray  # return leg vehicle (-1 for car or no return)
    t_city: np.ndarray  # external city index
    t_return: np.ndarray  # arrival of the return leg (nan: not back)
    t_visitor: np.ndarray  # trip of a visitor (origin is the external city)
    t_party: np.ndarray
    # hotel stays of visitors
    h_person: np.ndarray
    h_hotel: np.ndarray  # venue index
    h_room: np.ndarray  # room number
    h_checkin: np.ndarray
    h_checkout: np.ndarray
    h_registered: np.ndarray
    imported_time: np.ndarray  # per person: infection time if infected outside (nan)
    visit0: np.ndarray  # visitors: arrival in the city (residents: -inf)
    visit1: np.ndarray  # visitors: departure from the city (residents: +inf)
    h_checkin_of: np.ndarray  # per person: hotel check-in (nan: none)
    h_checkout_of: np.ndarray


def _service(tt: Timetable, city: np.ndarray, mode: np.ndarray, outbound: bool,
             rng: np.random.Generator) -> np.ndarray:
    """A random service to/from each city of the given mode; rail if there is no flight."""
    out = np.full(len(city), -1)
    for c in np.unique(city):
        for m in (0, 1):
            sel = (city == c) & (mode == m)
            cand = np.flatnonzero((tt.city == c) & (tt.outbound == outbound)
                                  & (tt.mode == MODES[m]))
            if len(cand) == 0:
                cand = np.flatnonzero((tt.city == c) & (tt.outbound == outbound)
                                      & (tt.mode == "rail"))
            out[sel] = cand[rng.integers(0, len(cand), int(sel.sum()))]
    return out


def _actual_mode(tt: Timetable, vehicle: np.ndarray) -> np.ndarray:
    """The mode of the chosen service (a city without an airport is reached by rail)."""
    return np.where(vehicle < 0, 2, np.where(tt.mode[np.maximum(vehicle, 0)] == "flight", 1, 0))


def _leg_times(tt: Timetable, vehicle: np.ndarray, day: np.ndarray,
               rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    car_dep = rng.uniform(7 * H, 16 * H, len(day))
    dep = np.where(vehicle >= 0, tt.dep_s[vehicle], car_dep) + day * DAY_S
    arr = np.where(vehicle >= 0, tt.arr_s[vehicle] - tt.dep_s[vehicle], 4 * H) + dep
    return dep, arr


def plan_travel(p: SynthParams, pop: Population, places: Places, tt: Timetable) -> Travel:
    rng = p.rng("travel")
    n_hh = len(pop.hh_size)
    fest = (p.festival - p.start).days
    # --- festival exodus: whole households travel together ------------------------------
    leave_p = np.where(pop.hh_migrant, p.exodus_share_migrant, p.exodus_share_local)
    leaves = (rng.random(n_hh) < leave_p) & ~pop.hh_vacant
    hh = np.flatnonzero(leaves)
    dep_day = fest - 1 - np.floor(rng.gamma(2.5, 2.0, len(hh))).astype(int)
    back_day = fest + 5 + np.floor(rng.gamma(2.0, 3.5, len(hh))).astype(int)
    stays_away = rng.random(len(hh)) < p.stay_away_share
    mode = rng.choice(3, len(hh), p=[0.6, 0.1, 0.3])
    city = rng.choice(len(CITY_WEIGHTS), len(hh), p=CITY_WEIGHTS / CITY_WEIGHTS.sum())
    out_v = np.where(mode < 2, _service(tt, city, mode, True, rng), -1)
    in_v = np.where(mode < 2, _service(tt, city, mode, False, rng), -1)
    mode = _actual_mode(tt, out_v)
    dep, _ = _leg_times(tt, out_v, dep_day, rng)
    _, ret = _leg_times(tt, in_v, back_day, rng)
    ret = np.where(stays_away, np.nan, ret)
    members = np.flatnonzero(np.isin(pop.household, hh))
    pos = np.searchsorted(hh, pop.household[members])
    trips = [dict(person=members, depart=dep[pos], mode=mode[pos], out_v=out_v[pos],
                  in_v=np.where(stays_away[pos], -1, in_v[pos]), city=city[pos],
                  ret=ret[pos], visitor=np.zeros(len(members), bool), party=hh[pos])]
    # --- business trips of workers from households that stay ---------------------------
    stay = ~np.isin(pop.household, hh) & (pop.role == WORKER)
    stay &= ~pop.hh_vacant[np.maximum(pop.household, 0)]
    traveller = np.flatnonzero(stay & (rng.random(pop.n) < 0.0006 * p.days))
    day = rng.integers(0, p.days, len(traveller))
    bmode = rng.choice(2, len(traveller), p=[0.6, 0.4])
    bcity = rng.choice(len(CITY_WEIGHTS), len(traveller))
    bo = _service(tt, bcity, bmode, True, rng)
    bi = _service(tt, bcity, bmode, False, rng)
    bmode = _actual_mode(tt, bo)
    bdep, _ = _leg_times(tt, bo, day, rng)
    _, bret = _leg_times(tt, bi, day + rng.integers(1, 5, len(traveller)), rng)
    trips.append(dict(person=traveller, depart=bdep, mode=bmode, out_v=bo, in_v=bi, city=bcity,
                      ret=bret, visitor=np.zeros(len(traveller), bool),
                      party=n_hh + np.arange(len(traveller))))
    vis, hotel, (arrive, leave) = _visitors(p, pop, places, tt, rng, n_hh + len(traveller))
    visit0, visit1 = np.full(pop.n, -np.inf), np.full(pop.n, np.inf)
    visit0[vis["person"]], visit1[vis["person"]] = arrive, leave
    trips.append(vis)
    t = {k: np.concatenate([d[k] for d in trips]) for k in trips[0]}
    away0 = np.full(pop.n, np.nan)
    away1 = np.full(pop.n, np.nan)
    res = ~t["visitor"]
    away0[t["person"][res]] = t["depart"][res]
    away1[t["person"][res]] = np.where(np.isnan(t["ret"][res]), np.inf, t["ret"][res])
    vacant = np.flatnonzero((pop.household >= 0) & pop.hh_vacant[np.maximum(pop.household, 0)])
    away0[vacant], away1[vacant] = -np.inf, np.inf
    imported = np.full(pop.n, np.nan)
    back = res & ~np.isnan(t["ret"]) & (rng.random(len(res)) < p.import_prob_resident_return)
    imported[t["person"][back]] = t["ret"][back] - rng.uniform(0.3, 3, int(back.sum())) * DAY_S
    v_inf = t["visitor"] & (rng.random(len(res)) < p.import_prob_visitor)
    imported[t["person"][v_inf]] = t["depart"][v_inf] - rng.uniform(0, 4, int(v_inf.sum())) * DAY_S
    checkin_of, checkout_of = np.full(pop.n, np.nan), np.full(pop.n, np.nan)
    checkin_of[hotel["h_person"]] = hotel["h_checkin"]
    checkout_of[hotel["h_person"]] = hotel["h_checkout"]
    return Travel(away0=away0, away1=away1, t_person=t["person"], t_depart=t["depart"],
                  t_mode=t["mode"], t_out_vehicle=t["out_v"], t_in_vehicle=t["in_v"],
                  t_city=t["city"], t_return=t["ret"], t_visitor=t["visitor"],
                  t_party=t["party"], imported_time=imported, visit0=visit0, visit1=visit1,
                  h_checkin_of=checkin_of, h_checkout_of=checkout_of, **hotel)


def _visitors(p: SynthParams, pop: Population, places: Places, tt: Timetable,
              rng: np.random.Generator, party0: int):
    """Visitors arrive in parties of one or two, fewer around the festival, and sleep in
    hotel rooms; a companion is sometimes not registered at the front desk."""
    v = np.flatnonzero(pop.role == VISITOR)
    fest = (p.festival - p.start).days
    party_of = np.cumsum(np.concatenate([[1], rng.random(len(v) - 1) >= 0.3])) - 1 if len(v) \
        else np.zeros(0, int)
    n_party = int(party_of.max()) + 1 if len(v) else 0
    arrive_day = rng.integers(0, p.days, n_party)
    quiet = np.abs(arrive_day - fest) <= 3
    arrive_day = np.where(quiet & (rng.random(n_party) < 0.6), rng.integers(0, p.days, n_party),
                          arrive_day)
    nights = rng.integers(1, 5, n_party)
    mode = rng.choice(2, n_party, p=[0.7, 0.3])
    city = rng.choice(len(CITY_WEIGHTS), n_party)
    in_v = _service(tt, city, mode, False, rng)
    out_v = _service(tt, city, mode, True, rng)
    mode = _actual_mode(tt, in_v)
    _, arr = _leg_times(tt, in_v, arrive_day, rng)
    dep_home, _ = _leg_times(tt, in_v, arrive_day, rng)
    leave, back_home = _leg_times(tt, out_v, arrive_day + nights, rng)
    hotels = np.array(sorted(places.hotel_rooms))
    hotel = hotels[rng.integers(0, len(hotels), n_party)]
    rooms = np.array([places.hotel_rooms[h] for h in hotel])
    room_idx = (np.arange(n_party) * 37) % rooms
    room_no = (room_idx // 20 + 2) * 100 + room_idx % 20 + 1  # floors from 2, 20 rooms each
    checkin = arr + rng.uniform(0.5 * H, 1.5 * H, n_party)
    checkout = np.maximum(leave - rng.uniform(1.5 * H, 3 * H, n_party), checkin + 4 * H)
    pp = party_of
    trips = dict(person=v, depart=dep_home[pp], mode=mode[pp], out_v=in_v[pp], in_v=out_v[pp],
                 city=city[pp], ret=back_home[pp], visitor=np.ones(len(v), bool),
                 party=party0 + pp)
    first = np.r_[True, pp[1:] != pp[:-1]] if len(v) else np.zeros(0, bool)
    hotel_info = dict(h_person=v, h_hotel=hotel[pp], h_room=room_no[pp],
                      h_checkin=checkin[pp], h_checkout=checkout[pp],
                      h_registered=first | (rng.random(len(v)) < 0.8))
    return trips, hotel_info, (arr[pp], leave[pp])
