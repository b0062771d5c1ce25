"""What venues record: place-code scans (incomplete compliance, few `out` scans, id_no
and/or phone) and card or mobile payments at merchants. Also the interval that the
platform will derive from each scanned visit, used to tell which infections the
sources record."""

from __future__ import annotations

import dataclasses

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from epicenter.schema import VENUE_CATEGORIES
from epicenter.synth.places import Places
from epicenter.synth.population import Population
from epicenter.synth.schedule import HOME, P_LEISURE, P_SCHOOL, P_STATION, P_WORK, VENUE, Segments

# default dwell (minutes) of a scan without `out`, as in the close-contact rules
DEFAULT_DWELL = {"market": 30, "supermarket": 30, "restaurant": 60, "hospital": 60, "clinic": 45,
                 "school": 360, "office": 480, "factory": 480, "hotel": 600, "transport_hub": 45,
                 "entertainment": 120, "residential": 600, "other": 30}
DWELL_S = np.array([DEFAULT_DWELL[c] * 60 for c in VENUE_CATEGORIES])
SPEND = {"market": 30, "supermarket": 60, "restaurant": 80, "entertainment": 90, "other": 20,
         "hospital": 150, "clinic": 50, "transport_hub": 25, "hotel": 300}
SPEND_MEDIAN = np.array([SPEND.get(c, 0) for c in VENUE_CATEGORIES], dtype=float)


@dataclasses.dataclass
class VenueRecords:
    scanned: np.ndarray  # per segment: an `in` scan was made
    d0: np.ndarray  # derived interval (seconds of day) of scanned segments
    d1: np.ndarray
    scans: dict  # columns of venue_scan rows (arrow arrays)
    payments: dict


class VenueRecorder:
    def __init__(self, pop: Population, places: Places, merchant_ids: pa.Array,
                 rng: np.random.Generator, compliance_mean: float, out_prob: float,
                 payment_prob: float):
        self.pop, self.places, self.merchant_ids = pop, places, merchant_ids
        self.out_prob, self.payment_prob = out_prob, payment_prob
        a = compliance_mean * 6
        self.propensity = rng.beta(a, 6 - a, pop.n)  # personal habit of scanning
        # how a person's scans identify them: 0 id_no and phone, 1 id_no only, 2 phone only
        self.ident = np.where(pop.has_phone, rng.choice(3, pop.n, p=[.45, .2, .35]), 1)
        mv = places.merchant_venue
        inside = np.flatnonzero(mv >= 0)
        self.m_sorted = inside[np.argsort(mv[inside], kind="stable")]
        counts = np.bincount(mv[inside], minlength=places.n)
        self.m_off, self.m_cnt = np.cumsum(counts) - counts, counts
        self.street = np.flatnonzero(mv < 0)
        self.residential_of = np.zeros(places.community.max() + 1, dtype=np.int64)
        res = places.by("residential")
        self.residential_of[places.community[res]] = res

    def record(self, s: Segments, rng: np.random.Generator) -> VenueRecords:
        pl, pop = self.places, self.pop
        n = len(s.person)
        visit = (s.kind == VENUE) & np.isin(s.purpose, (P_WORK, P_SCHOOL, P_LEISURE, P_STATION))
        prop = self.propensity[s.person] + np.where(s.purpose == P_WORK, 0.1, 0.0)
        scanned = visit & (rng.random(n) < prop)
        t_in = s.start + rng.integers(0, 180, n)
        has_out = scanned & (rng.random(n) < self.out_prob)
        t_out = np.maximum(s.end - rng.integers(0, 180, n), t_in + 60)
        cat = pl.category[np.where(s.kind == VENUE, s.place, 0)]
        d0 = np.where(scanned, t_in, 0)
        d1 = np.where(has_out, t_out, t_in + DWELL_S[cat])
        # residents returning home sometimes scan the gate code of their compound
        hh = np.maximum(self.pop.household[s.person], 0)
        gate = ((s.kind == HOME) & (s.start > 0) & (rng.random(n) < 0.15 * prop))
        gate_venue = self.residential_of[pop.hh_community[hh]]
        sel_in, sel_out, sel_gate = (np.flatnonzero(scanned), np.flatnonzero(has_out),
                                     np.flatnonzero(gate))
        who = np.concatenate([s.person[sel_in], s.person[sel_out], s.person[sel_gate]])
        venue = np.concatenate([s.place[sel_in], s.place[sel_out], gate_venue[sel_gate]])
        when = np.concatenate([t_in[sel_in], t_out[sel_out], s.start[sel_gate]])
        direction = np.concatenate([np.zeros(len(sel_in), int), np.ones(len(sel_out), int),
                                    np.zeros(len(sel_gate), int)])
        order = np.lexsort((who, when))
        who, venue, when, direction = who[order], venue[order], when[order], direction[order]
        ident = self.ident[who]
        scans = {
            "id_no": pc.if_else(pa.array(ident <= 1), pop.id_no.take(who), ""),
            "phone": pc.if_else(pa.array(ident != 1), pop.phone.take(who), ""),
            "venue_code": pl.code.take(venue),
            "scan_time": when,
            "direction": pa.array(np.array(["in", "out"])[direction]),
        }
        return VenueRecords(scanned=scanned, d0=d0, d1=d1, scans=scans,
                            payments=self._payments(s, visit, cat, rng))

    def _payments(self, s: Segments, visit: np.ndarray, cat: np.ndarray,
                  rng: np.random.Generator) -> dict:
        pop = self.pop
        n = len(s.person)
        venue = np.where(visit, s.place, 0)
        cnt = self.m_cnt[venue]
        prob = np.where(s.purpose == P_STATION, 0.3, np.where(s.purpose == P_LEISURE,
                                                               self.payment_prob, 0.0))
        pay = visit & (cnt > 0) & (rng.random(n) < prob)
        merchant = self.m_sorted[np.minimum(self.m_off[venue] + (rng.random(n) * cnt).astype(int),
                                            len(self.m_sorted) - 1)]
        span = np.maximum(s.end - s.start - 120, 1)
        t = s.start + 60 + (rng.random(n) * span).astype(np.int64)
        # a coffee or breakfast from a street shop on the way to work
        street = (s.purpose == P_WORK) & (rng.random(n) < 0.1)
        st_m = self.street[rng.integers(0, len(self.street), n)]
        st_t = s.start - rng.integers(300, 1500, n)
        sel, sst = np.flatnonzero(pay), np.flatnonzero(street & (st_t > 0))
        who = np.concatenate([s.person[sel], s.person[sst]])
        m = np.concatenate([merchant[sel], st_m[sst]])
        when = np.concatenate([t[sel], st_t[sst]])
        median = np.concatenate([SPEND_MEDIAN[cat[sel]], np.full(len(sst), 12.0)])
        amount = np.round(median * np.exp(rng.normal(0, 0.6, len(who))), 2)
        order = np.lexsort((who, when))
        who, m, when, amount = who[order], m[order], when[order], amount[order]
        card = (rng.random(len(who)) < 0.35) | ~pop.has_phone[who]
        return {
            "id_no": pc.if_else(pa.array(card), pop.id_no.take(who), ""),
            "phone": pc.if_else(pa.array(card), "", pop.phone.take(who)),
            "merchant_id": self.merchant_ids.take(m),
            "txn_time": when,
            "amount": pa.array(amount, pa.float64()).cast(pa.string()),
        }
