"""`generate`: build the city, simulate day by day (presence, observations, transmission,
surveillance), stream every day's files to disk, then write the end-of-run files.

Memory is bounded by one day of presence segments: nothing accumulates across days
except small per-person state and the infection events."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from epicenter.synth import truthfiles
from epicenter.synth.cells import CellObserver
from epicenter.synth.city import City, build_city, write_reference
from epicenter.synth.daily import DayWriter
from epicenter.synth.disease import Disease
from epicenter.synth.labels import CAR_KEY, ROOM_KEY, Labels
from epicenter.synth.meters import MeterWriter
from epicenter.synth.params import DAY_S, SynthParams
from epicenter.synth.places import enterprise_dates
from epicenter.synth.presence import Legs, Restrictions, day_segments
from epicenter.synth.scans import VenueRecorder
from epicenter.synth.schedule import Scheduler
from epicenter.synth.syndromic import write_syndromic
from epicenter.synth.transmission import transmit
from epicenter.synth.transport import assign_seats
from epicenter.synth.writer import Delivery


class Context:
    """What transmission needs to know about people and places."""

    def __init__(self, c: City, labels: Labels):
        pop, tr = c.pop, c.travel
        self.places, self.labels = c.places, labels
        self.team = c.places.team
        self.address_listed = pop.address_listed
        self.hotel_registered = np.zeros(pop.n, dtype=bool)
        self.hotel_registered[tr.h_person] = tr.h_registered
        self.home_district = np.where(pop.household >= 0, c.home_district, -1)
        res = np.flatnonzero(pop.household >= 0)
        order = res[np.argsort(self.home_district[res], kind="stable")]
        counts = np.bincount(self.home_district[res], minlength=len(c.areas.districts))
        self.district_members = order
        self.district_off, self.district_cnt = np.cumsum(counts) - counts, counts

    def vehicle_is_flight(self, key: np.ndarray) -> np.ndarray:
        return self.labels.vehicle_is_flight(key)


def _legs(c: City) -> Legs:
    tr, tt = c.travel, c.tt
    first = tr.t_out_vehicle >= 0
    back = (tr.t_in_vehicle >= 0) & np.isfinite(tr.t_return)
    v1, v2 = tr.t_out_vehicle[first], tr.t_in_vehicle[back]
    dep1 = tr.t_depart[first]
    arr2 = tr.t_return[back]
    dur = lambda v: tt.arr_s[v] - tt.dep_s[v]  # noqa: E731
    vehicle = np.concatenate([v1, v2])
    # a leg leaves the city when its origin is one of the city's stations
    leaving = np.concatenate([~tr.t_visitor[first], tr.t_visitor[back]])
    home_station = np.where(tt.outbound[vehicle], tt.from_station[vehicle], tt.to_station[vehicle])
    hubs = c.places.by("transport_hub")
    hub = hubs[np.select([home_station == "JCN", home_station == "JDN"], [0, 1], 2)]
    return Legs(person=np.concatenate([tr.t_person[first], tr.t_person[back]]), vehicle=vehicle,
                party=np.concatenate([tr.t_party[first], tr.t_party[back]]),
                dep=np.concatenate([dep1, arr2 - dur(v2)]),
                arr=np.concatenate([dep1 + dur(v1), arr2]), leaving=leaving, hub=hub)


def generate(out: str | Path, persons: int, days: int, seed: int,
             start: dt.date = dt.date(2020, 1, 10), dirty_rate: float = 0.002,
             progress: Callable[[int, int], None] | None = None) -> dict:
    """Write a synthetic city's deliveries and ground truth to `out`; returns a summary."""
    t0 = time.perf_counter()
    p = SynthParams(persons=persons, days=days, seed=seed, start=start, dirty_rate=dirty_rate)
    root = Path(out)
    delivery = Delivery(root, p)
    c = build_city(p)
    write_reference(c, delivery)
    pop, pl, tr = c.pop, c.places, c.travel
    dates = [p.date(d).isoformat() for d in range(days)]
    labels = Labels(pop.household_ids, pl.code, c.tt.vehicle_no, c.tt.mode, dates)
    ctx = Context(c, labels)
    room_key = np.full(pop.n, -1)
    room_key[tr.h_person] = tr.h_hotel * ROOM_KEY + tr.h_room
    sched = Scheduler(pop, pl, c.home_district, room_key)
    legs = _legs(c)
    dis = Disease(p, pop.n, pop.household, len(pop.hh_size))
    rest = Restrictions(dis.iso0, dis.iso1, dis.q_day0, dis.q_day1, dis.q_left)
    hospitals = pl.by("hospital")
    hospital_of = hospitals[np.arange(pop.n) % len(hospitals)]
    recorder = VenueRecorder(pop, pl, c.merchant_ids, p.rng("recorder"), p.scan_compliance_mean,
                             p.scan_out_prob, p.payment_prob)
    cells = CellObserver(pop, c.net, (c.hh_lon, c.hh_lat), (pl.lon, pl.lat),
                         p.ping_carrier_share, p.rng("carrier"))
    meters = MeterWriter(root, truthfiles.household_table(c), truthfiles.enterprise_table(c),
                         p.start, days, p.rng("meters"), dirty_rate)
    writer = DayWriter(c, delivery, labels, meters)
    _seed_infections(c, dis)
    flight = c.tt.mode == "flight"
    rng = p.rng("days")
    for d in range(days):
        date = p.date(d)
        _imports(d, c, dis)
        fest = (p.festival - date).days
        flags = dict(weekday=date.weekday() < 5, holiday=-5 <= fest <= 1,
                     school_open=not (-20 <= fest <= 14),
                     closed_venue=enterprise_dates(pl, date))
        today = legs.on_day(d)
        car, row, seat = assign_seats(c.tt, legs.vehicle[today], legs.party[today], rng)
        seats = {"key": legs.vehicle[today] * CAR_KEY + car, "row": row, "flight": flight}
        segs = day_segments(d, sched, legs, seats, tr, rest, hospital_of, flags, rng)
        rec = recorder.record(segs, rng)
        transmit(d, segs, rec, dis, ctx, rng)
        in_city = np.zeros(pop.n, dtype=bool)
        in_city[segs.person[segs.kind != 4]] = True
        dis.end_of_day(d, in_city & (pop.household >= 0))
        writer.write_day(d, segs, rec, cells.observe(segs, rng), legs, today, car, seat, dis)
        if progress:
            progress(d + 1, days)
    writer.finish()
    delivery.add_external("meter.csv", "meter", meters.finish())
    delivery.add_external("syndromic.csv", "syndromic", write_syndromic(
        root, list(c.areas.code[c.areas.districts]), p.start, days,
        truthfiles.new_symptomatic(c, dis), p.rng("syndromic"), dirty_rate,
        populations=_district_population(c)))
    summary = truthfiles.write_all(c, delivery, dis)
    delivery.close()
    summary["params"] = p.as_dict()
    # no run time in the file: the same arguments must give the same bytes
    (root / "truth" / "params.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False))
    summary["seconds"] = round(time.perf_counter() - t0, 1)
    return summary


def _district_population(c: City) -> np.ndarray:
    comm_pos = np.searchsorted(c.areas.communities, c.pop.hh_community)
    district = c.areas.community_district[comm_pos]
    return np.bincount(district, weights=c.pop.hh_size, minlength=len(c.areas.districts)).astype(int)


def _seed_infections(c: City, dis: Disease) -> None:
    """Residents already infected when the window opens (source unknown to the truth)."""
    p, pop, tr = c.p, c.pop, c.travel
    rng = p.rng("seeds")
    eligible = np.flatnonzero((pop.household >= 0) & ~(tr.away0 <= 0))
    k = max(min(30, p.persons // 20), round(p.persons * p.seed_share))  # tests need a few dozen
    who = rng.choice(eligible, min(k, len(eligible)), replace=False)
    when = -rng.uniform(0, 8, len(who)) * DAY_S
    dis.infect(who, when)
    _record_unlinked(dis, who, when, "seed")


def _imports(d: int, c: City, dis: Disease) -> None:
    """People infected outside the city: visitors and returning residents."""
    t = c.travel.imported_time
    who = np.flatnonzero((t < (d + 1) * DAY_S) & dis.susceptible(np.arange(len(t))))
    arrived = np.where(c.pop.household >= 0, c.travel.away1, c.travel.visit0)[who] < (d + 1) * DAY_S
    who = who[arrived]
    dis.infect(who, t[who])
    _record_unlinked(dis, who, t[who], "imported")


def _record_unlinked(dis: Disease, who: np.ndarray, when: np.ndarray, reason: str) -> None:
    n = len(who)
    dis.record(infectee=who, infector=np.full(n, -1), time=when, setting=np.full(n, 7),
               place=np.full(n, "", dtype=object), recorded=np.zeros(n, dtype=bool),
               reason=np.full(n, reason, dtype=object))

