"""One day of transmission: every infectious person's presence segments are paired with
the segments of others at the same place (home, venue, hotel room, train car or flight),
and each overlap transmits with a setting-specific hazard. Unobserved community contacts
(buses, lifts, streets) add infections that no source records."""

from __future__ import annotations

import numpy as np

from epicenter.synth.disease import Disease, S
from epicenter.synth.params import DAY_S
from epicenter.synth.places import CAT
from epicenter.synth.scans import VenueRecords
from epicenter.synth.schedule import (
    HOME,
    HOTEL_ROOM,
    OUTSIDE,
    P_ISOLATION,
    P_SCHOOL,
    P_WORK,
    VEHICLE,
    VENUE,
    Segments,
)

H = 3600.0
KEY_SHIFT = 1 << 40


def _ranges(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flattened [lo, hi) index ranges and the position of the range each index came from."""
    counts = hi - lo
    owner = np.repeat(np.arange(len(lo)), counts)
    starts = np.repeat(lo - (np.cumsum(counts) - counts), counts)
    return owner, starts + np.arange(counts.sum())


def transmit(d: int, s: Segments, rec: VenueRecords, dis: Disease, ctx, rng) -> None:
    p = dis.p
    D = d * DAY_S
    cand = np.flatnonzero(dis.inf_time < D + DAY_S)
    w0, w1 = dis.infectious_window(cand)
    live = (w0 < D + DAY_S) & (w1 > D)
    infectious = np.zeros(len(dis.inf_time), dtype=bool)
    infectious[cand[live]] = True
    win0 = np.full(len(dis.inf_time), np.inf)
    win1 = np.full(len(dis.inf_time), -np.inf)
    win0[cand[live]], win1[cand[live]] = w0[live] - D, w1[live] - D
    mixing = (s.kind != OUTSIDE) & (s.purpose != P_ISOLATION)
    idx = np.flatnonzero(mixing)
    key = s.kind[idx] * KEY_SHIFT + s.place[idx]
    order = np.argsort(key, kind="stable")
    skey, sidx = key[order], idx[order]
    src = idx[infectious[s.person[idx]]]
    src_key = s.kind[src] * KEY_SHIFT + s.place[src]
    owner, flat = _ranges(np.searchsorted(skey, src_key, "left"),
                          np.searchsorted(skey, src_key, "right"))
    i, j = src[owner], sidx[flat]
    pi, pj = s.person[i], s.person[j]
    ok = (pi != pj) & dis.susceptible(pj)
    i, j, pi, pj = i[ok], j[ok], pi[ok], pj[ok]
    o0 = np.maximum(np.maximum(s.start[i], win0[pi]), s.start[j])
    o1 = np.minimum(np.minimum(s.end[i], win1[pi]), s.end[j])
    ok = o1 > o0
    i, j, pi, pj, o0, o1 = i[ok], j[ok], pi[ok], pj[ok], o0[ok], o1[ok]
    setting, rate = _hazard(s, i, j, pi, pj, ctx, p)
    lam = rate * (o1 - o0) / H * dis.relative_infectiousness(pi)
    hit = rng.random(len(i)) < -np.expm1(-lam)
    i, j, pi, pj, setting = i[hit], j[hit], pi[hit], pj[hit], setting[hit]
    t = o0[hit] + rng.random(int(hit.sum())) * (o1[hit] - o0[hit])
    recorded, reason = _recorded(s, rec, i, j, pi, pj, setting, t, ctx)
    place = ctx.labels.place_ids(s.kind[j], s.place[j], d)
    comm = _community(d, s, infectious, win0, win1, dis, ctx, rng)
    _resolve(d, dis, pj, pi, t, setting, place, recorded, reason, comm)


def _hazard(s: Segments, i, j, pi, pj, ctx, p) -> tuple[np.ndarray, np.ndarray]:
    kind = s.kind[i]
    per_day = lambda prob: -np.log1p(-prob) / 12.0  # noqa: E731 - a day at home ~ 12 h together
    setting = np.full(len(i), S["venue"])
    rate = np.zeros(len(i))
    home, hotel, veh, ven = kind == HOME, kind == HOTEL_ROOM, kind == VEHICLE, kind == VENUE
    setting[home], rate[home] = S["household"], per_day(p.household_daily_prob)
    setting[hotel], rate[hotel] = S["hotel_room"], per_day(p.hotel_room_daily_prob)
    flight = ctx.vehicle_is_flight(s.place[i])
    setting[veh] = np.where(flight[veh], S["flight"], S["rail"])
    rows = np.abs(s.row[i] - s.row[j]).astype(float)
    rate[veh] = p.vehicle_hazard_per_h * np.exp(-rows[veh] / 1.5)
    venue = np.where(ven, s.place[i], 0)
    colleagues = (np.isin(s.purpose[i], (P_WORK, P_SCHOOL)) & np.isin(s.purpose[j], (P_WORK, P_SCHOOL))
                  & ven)
    team = colleagues & (ctx.team[pi] == ctx.team[pj])
    school = ctx.places.category[venue] == CAT["school"]
    setting[colleagues] = np.where(school[colleagues], S["school"], S["workplace"])
    crowd = np.sqrt(np.maximum(1.0, ctx.places.capacity[venue] / 50.0))
    rate[ven] = p.venue_hazard_per_h / crowd[ven]
    rate[colleagues] = p.team_hazard_per_h * 0.03
    rate[team] = p.team_hazard_per_h
    rate[colleagues & school] *= 0.3  # children are less susceptible and classes keep apart
    return setting, rate


def _recorded(s, rec: VenueRecords, i, j, pi, pj, setting, t, ctx):
    """Whether the delivered sources put both persons at that place at that time."""
    n = len(i)
    recorded = np.zeros(n, dtype=bool)
    reason = np.full(n, "", dtype=object)
    hh = setting == S["household"]
    both_listed = ctx.address_listed[pi] & ctx.address_listed[pj]
    recorded[hh] = both_listed[hh]
    reason[hh & ~both_listed] = "home_address_missing"
    room = setting == S["hotel_room"]
    both_reg = ctx.hotel_registered[pi] & ctx.hotel_registered[pj]
    recorded[room] = both_reg[room]
    reason[room & ~both_reg] = "not_registered_at_hotel"
    veh = (setting == S["rail"]) | (setting == S["flight"])
    recorded[veh] = True  # real-name tickets with car and seat
    ven = s.kind[i] == VENUE
    scanned = rec.scanned[i] & rec.scanned[j]
    within = ((rec.d0[i] <= t) & (t <= rec.d1[i]) & (rec.d0[j] <= t) & (t <= rec.d1[j]))
    recorded[ven] = (scanned & within)[ven]
    reason[ven & ~scanned] = "not_scanned"
    reason[ven & scanned & ~within] = "scan_interval_misses_time"
    return recorded, reason


def _community(d, s: Segments, infectious, win0, win1, dis: Disease, ctx, rng) -> dict:
    """Unobserved contacts: an infectious person in town infects a random resident of the
    same district who is in town that day."""
    D = d * DAY_S
    out_ok = (s.kind != OUTSIDE) & (s.purpose != P_ISOLATION)
    in_town = np.zeros(len(infectious), dtype=bool)
    in_town[s.person[out_ok]] = True
    src = np.flatnonzero(infectious & in_town & (ctx.home_district >= 0))
    hit = rng.random(len(src)) < dis.p.community_daily_prob * dis.relative_infectiousness(src)
    src = src[hit]
    district = ctx.home_district[src]
    pool_off, pool_cnt = ctx.district_off[district], ctx.district_cnt[district]
    target = ctx.district_members[pool_off + (rng.random(len(src)) * pool_cnt).astype(int)]
    ok = in_town[target] & dis.susceptible(target) & (target != src)
    src, target = src[ok], target[ok]
    lo = np.clip(np.maximum(win0[src], 8 * H), 0, DAY_S)
    hi = np.clip(np.minimum(win1[src], 20 * H), 0, DAY_S)
    ok = hi > lo
    t = lo[ok] + rng.random(int(ok.sum())) * (hi[ok] - lo[ok])
    return {"infector": src[ok], "infectee": target[ok], "t": t + D}


def _resolve(d, dis: Disease, pj, pi, t, setting, place, recorded, reason, comm) -> None:
    """Each newly infected person keeps the earliest of the day's transmissions."""
    D = d * DAY_S
    k = len(comm["infectee"])
    infectee = np.concatenate([pj, comm["infectee"]])
    infector = np.concatenate([pi, comm["infector"]])
    when = np.concatenate([t + D, comm["t"]])
    sett = np.concatenate([setting, np.full(k, S["other"])])
    place = np.concatenate([np.asarray(place, dtype=object), np.full(k, "", dtype=object)])
    rec = np.concatenate([recorded, np.zeros(k, dtype=bool)])
    why = np.concatenate([reason, np.full(k, "unobserved_setting", dtype=object)])
    order = np.lexsort((when, infectee))
    first = order[np.r_[True, infectee[order][1:] != infectee[order][:-1]]] if len(order) else order
    dis.infect(infectee[first], when[first])
    dis.record(infectee=infectee[first], infector=infector[first], time=when[first],
               setting=sett[first], place=place[first], recorded=rec[first], reason=why[first])
