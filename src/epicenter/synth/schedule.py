"""Daily schedules: where every person truly is, as presence segments of one day.

A day is the in-city window of a person (shortened by departures, arrivals and
isolation) filled with home (or hotel room) and out-of-home activities: work or school on
working days, errands and leisure otherwise, chosen near home and within opening hours.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from epicenter.synth.places import CAT, Places
from epicenter.synth.population import CHILD, RETIRED, STUDENT, VISITOR, WORKER, Population

H = 3600
DAY = 86_400
COMMUTE = 1800
# place kinds of presence segments (truth/presence place_kind values)
HOME, VENUE, HOTEL_ROOM, VEHICLE, OUTSIDE = range(5)
PLACE_KINDS = ("home", "venue", "hotel_room", "vehicle", "outside_city")
# purposes of venue segments (scans and payments depend on them)
P_NONE, P_WORK, P_SCHOOL, P_LEISURE, P_STATION, P_ISOLATION = range(6)
# leisure destinations: category -> (median minutes, lognormal sigma)
DWELL = {"market": (35, 0.4), "supermarket": (30, 0.4), "restaurant": (65, 0.3),
         "clinic": (45, 0.4), "hospital": (80, 0.5), "entertainment": (120, 0.3), "other": (25, 0.5)}
ERRAND = {"retired": {"market": .45, "supermarket": .25, "clinic": .1, "other": .1, "restaurant": .1},
          "other": {"supermarket": .3, "restaurant": .3, "entertainment": .2, "market": .1, "other": .1},
          "evening": {"restaurant": .45, "entertainment": .25, "supermarket": .2, "other": .05,
                      "hospital": .05}}
SERVICE_WEEKEND = ("market", "supermarket", "restaurant", "hospital", "hotel", "factory",
                   "transport_hub", "entertainment", "clinic")


@dataclasses.dataclass
class Segments:
    person: np.ndarray
    kind: np.ndarray
    place: np.ndarray  # household / venue / hotel room key / vehicle-car key / -1
    start: np.ndarray  # seconds of day
    end: np.ndarray
    purpose: np.ndarray
    row: np.ndarray  # seat row for vehicle segments

    @staticmethod
    def concat(parts: list[dict]) -> Segments:
        cols = {k: np.concatenate([np.asarray(p[k]).astype(np.int64) for p in parts])
                for k in ("person", "kind", "place", "start", "end", "purpose", "row")}
        keep = cols["end"] > cols["start"]
        order = np.lexsort((cols["start"][keep], cols["person"][keep]))
        return Segments(**{k: v[keep][order] for k, v in cols.items()})


def seg(person, kind, place, start, end, purpose=P_NONE, row=-1) -> dict:
    n = len(person)

    def full(v):
        return np.broadcast_to(np.asarray(v), (n,))

    return dict(person=person, kind=full(kind), place=full(place), start=full(start),
                end=full(end), purpose=full(purpose), row=full(row))


class Scheduler:
    """Precomputes the venue choice tables; `activities` plans one day of free persons."""

    def __init__(self, pop: Population, places: Places, home_district: np.ndarray,
                 hotel_room_key: np.ndarray):
        self.pop, self.places, self.home_district = pop, places, home_district
        self.hotel_room_key = hotel_room_key  # venue * 10_000 + room_no per visitor, else -1
        self.tables = {}
        for cat in DWELL:
            v = places.by(cat)
            v = v[np.argsort(places.district[v], kind="stable")]
            counts = np.bincount(places.district[v], minlength=places.district.max() + 1)
            self.tables[cat] = (v, np.cumsum(counts) - counts, counts)
        self.is_service = np.isin(places.category, [CAT[c] for c in SERVICE_WEEKEND])

    def _choose(self, cats: np.ndarray, people: np.ndarray, rng) -> np.ndarray:
        """A venue of the given category per person, near home in four cases of five."""
        out = np.empty(len(people), dtype=np.int64)
        district = np.where(rng.random(len(people)) < 0.8, self.home_district[people],
                            rng.integers(0, len(self.tables["market"][2]), len(people)))
        for i, cat in enumerate(DWELL):
            sel = np.flatnonzero(cats == i)
            if not len(sel):
                continue
            v, off, cnt = self.tables[cat]
            d = district[sel]
            c = cnt[d]
            u = rng.random(len(sel))
            local = v[np.minimum(off[d] + (u * c).astype(np.int64), len(v) - 1)]
            anywhere = v[(u * len(v)).astype(np.int64)]
            out[sel] = np.where(c > 0, local, anywhere)
        return out

    def _leisure(self, people, table: str, earliest, rng):
        """Start, end and venue of a leisure visit starting no earlier than `earliest`."""
        names = list(DWELL)
        probs = np.zeros(len(names))
        for k, v in ERRAND[table].items():
            probs[names.index(k)] = v
        cats = rng.choice(len(names), len(people), p=probs / probs.sum())
        venue = self._choose(cats, people, rng)
        med = np.array([DWELL[n][0] for n in names])[cats] * 60
        sig = np.array([DWELL[n][1] for n in names])[cats]
        dur = np.clip(med * np.exp(rng.normal(0, 1, len(people)) * sig), 600, 5 * H)
        start = np.maximum(earliest, self.places.open_s[venue] + rng.uniform(0, 1800, len(people)))
        end = np.minimum(start + dur, self.places.close_s[venue] - 300)
        return venue, start, end

    def activities(self, free: np.ndarray, weekday: bool, holiday: bool, school_open: bool,
                   closed_venue: np.ndarray, rng: np.random.Generator) -> list[dict]:
        """Segments of persons in the city all day with no restriction (home or hotel base)."""
        pop, pl = self.pop, self.places
        n = len(free)
        role = pop.role[free]
        work = pl.work_venue[free]
        has_work = work >= 0
        wv = np.maximum(work, 0)
        service = self.is_service[wv]
        workday = bool(weekday) and not holiday
        works_today = (role == WORKER) & has_work & ~closed_venue[wv] & np.where(
            workday, rng.random(n) < 0.97, rng.random(n) < np.where(service, 0.6, 0.08))
        studies = (role == STUDENT) & has_work & (workday and bool(school_open))
        main = works_today | studies
        factory = pl.category[wv] == CAT["factory"]
        m_start = np.where(studies, rng.uniform(7.3 * H, 8 * H, n),
                           np.where(factory, rng.uniform(7 * H, 8 * H, n), rng.uniform(7.8 * H, 9.3 * H, n)))
        m_end = m_start + np.where(studies, rng.uniform(8 * H, 9 * H, n), rng.uniform(8 * H, 9.5 * H, n))
        starts, ends, venues, purposes = [], [], [], []
        valid = []
        # slot 0: main activity
        starts.append(m_start), ends.append(m_end), venues.append(wv)
        purposes.append(np.where(studies, P_SCHOOL, P_WORK)), valid.append(main)
        # slot 1: after work, or a morning errand on a free day
        errand_p = np.select([role == RETIRED, role == CHILD, role == VISITOR], [0.7, 0.15, 0.9], 0.5)
        after_p = np.where(studies, 0.1, 0.3)
        table1 = np.where(role == RETIRED, 0, 1)
        earliest1 = np.where(main, m_end + COMMUTE, np.where(role == RETIRED, rng.uniform(7 * H, 9.5 * H, n),
                                                             rng.uniform(8.5 * H, 11 * H, n)))
        v1, s1, e1 = np.zeros(n, int), np.zeros(n), np.zeros(n)
        for t, name in ((0, "retired"), (1, "other")):
            sel = table1 == t
            mv, ms, me = self._leisure(free[sel], name, earliest1[sel], rng)
            v1[sel], s1[sel], e1[sel] = mv, ms, me
        ev = main  # after work: evening places
        if ev.any():
            mv, ms, me = self._leisure(free[ev], "evening", earliest1[ev], rng)
            v1[ev], s1[ev], e1[ev] = mv, ms, me
        ok1 = rng.random(n) < np.where(main, after_p, errand_p)
        starts.append(s1), ends.append(e1), venues.append(v1)
        purposes.append(np.full(n, P_LEISURE)), valid.append(ok1)
        # slot 2: an afternoon or evening outing on a free day
        prev_end = np.where(ok1, e1, 12 * H)
        earliest2 = np.maximum(prev_end + rng.uniform(1 * H, 4 * H, n), 14 * H)
        v2, s2, e2 = self._leisure(free, "evening", earliest2, rng)
        ok2 = ~main & (rng.random(n) < np.where(role == VISITOR, 0.8, 0.35))
        starts.append(s2), ends.append(e2), venues.append(v2)
        purposes.append(np.full(n, P_LEISURE)), valid.append(ok2)
        return self._assemble(free, starts, ends, venues, purposes, valid)

    def _assemble(self, free, starts, ends, venues, purposes, valid) -> list[dict]:
        """Keep activities that fit in order before 23:30; home fills the rest."""
        parts = []
        last_end = np.full(len(free), -np.inf)
        first_start = np.full(len(free), np.inf)
        kept = []
        for s, e, v, pu, ok in zip(starts, ends, venues, purposes, valid, strict=True):
            ok = ok & (s >= last_end + COMMUTE) & (e <= 23.5 * H) & (e - s >= 600)
            kept.append((s, e, v, pu, ok))
            parts.append(seg(free[ok], VENUE, v[ok], s[ok], e[ok], pu[ok]))
            first_start = np.where(ok & np.isinf(first_start), s, first_start)
            last_end = np.where(ok, e, last_end)
        base_kind, base_place = self.base(free)
        leave = np.where(np.isinf(first_start), DAY, first_start - COMMUTE)
        back = np.where(np.isinf(last_end), DAY, last_end + COMMUTE)
        parts.append(seg(free, base_kind, base_place, 0, leave))
        parts.append(seg(free, base_kind, base_place, back, DAY))
        # long breaks between two activities are spent at home
        for (_, e0, _, _, ok0), (s1, _, _, _, ok1) in zip(kept, kept[1:], strict=False):
            gap = ok0 & ok1 & (s1 - e0 > 2 * H)
            parts.append(seg(free[gap], base_kind[gap], base_place[gap], e0[gap] + COMMUTE,
                             s1[gap] - COMMUTE))
        return parts

    def base(self, people: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where a person sleeps: the household, or the hotel room key of a visitor."""
        hh = self.pop.household[people]
        room = self.hotel_room_key[people]
        return np.where(hh >= 0, HOME, HOTEL_ROOM), np.where(hh >= 0, hh, room)
