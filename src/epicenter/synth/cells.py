"""What the carriers see: dwell records (cell_signaling) from one carrier and raw
signalling events (cell_ping) from another, both from the serving cells of the places
where phones truly are. Boundary locations flip briefly to the neighbour cell
(ping-pong), as real handovers do."""

from __future__ import annotations

import numpy as np

from epicenter.synth.network import Network
from epicenter.synth.population import Population
from epicenter.synth.schedule import HOME, HOTEL_ROOM, VENUE, Segments

MAX_FLIPS = 4
PING_EVERY_S = 1200  # periodic location updates, below the 30-minute dwell gap


class CellObserver:
    def __init__(self, pop: Population, net: Network, hh_lonlat, venue_lonlat,
                 ping_share: float, rng: np.random.Generator):
        self.pop, self.net = pop, net
        self.hh_cell, self.hh_partner = net.serving(*hh_lonlat)
        self.v_cell, self.v_partner = net.serving(*venue_lonlat)
        self.pings = pop.has_phone & (rng.random(pop.n) < ping_share)

    def observe(self, s: Segments, rng: np.random.Generator) -> tuple[dict, dict]:
        pop = self.pop
        hotel_venue = s.place // 10_000
        seen = pop.has_phone[s.person] & np.isin(s.kind, (HOME, VENUE, HOTEL_ROOM))
        idx = np.flatnonzero(seen)
        kind, place = s.kind[idx], np.maximum(s.place[idx], 0)
        hv = hotel_venue[idx]
        cell = np.select([kind == HOME, kind == VENUE], [self.hh_cell[np.minimum(place, len(self.hh_cell) - 1)],
                                                         self.v_cell[np.minimum(place, len(self.v_cell) - 1)]],
                         self.v_cell[np.minimum(hv, len(self.v_cell) - 1)])
        partner = np.select([kind == HOME, kind == VENUE], [self.hh_partner[np.minimum(place, len(self.hh_cell) - 1)],
                                                            self.v_partner[np.minimum(place, len(self.v_cell) - 1)]],
                            self.v_partner[np.minimum(hv, len(self.v_cell) - 1)])
        person, start, end = s.person[idx], s.start[idx], s.end[idx]
        rp, rc, r0, r1 = _ping_pong(person, cell, partner, start, end, rng)
        by_ping = self.pings[rp]
        sig = ~by_ping
        signaling = {"phone": pop.phone.take(rp[sig]), "cell_id": self.net.cell_id.take(rc[sig]),
                     "start_time": r0[sig], "end_time": r1[sig]}
        pp, pc_, pt = _pings(rp[by_ping], rc[by_ping], r0[by_ping], r1[by_ping], rng)
        pings = {"phone": pop.phone.take(pp), "cell_id": self.net.cell_id.take(pc_), "event_time": pt}
        return signaling, pings


def _ping_pong(person, cell, partner, start, end, rng):
    """Split boundary dwells into the serving cell with short flips to the partner cell."""
    dur = end - start
    k = np.where(partner >= 0, np.minimum(MAX_FLIPS, dur // 3600), 0).astype(np.int64)
    seg = np.repeat(np.arange(len(person)), k)
    m = np.arange(k.sum()) - np.repeat(np.cumsum(k) - k, k)
    spacing = dur[seg] / (k[seg] + 1)
    flip = start[seg] + (m + 1) * spacing + rng.uniform(-0.2, 0.2, len(seg)) * spacing
    flip = flip.astype(np.int64)
    back = flip + rng.integers(30, 110, len(seg))
    # serving-cell pieces: [start, f1), [f1 + d1, f2), ..., [fk + dk, end)
    ms = np.concatenate([np.arange(len(person)), seg])
    s0 = np.concatenate([start, back])
    e0 = np.concatenate([end, flip])
    o_s = np.lexsort((s0, ms))
    o_e = np.lexsort((e0, ms))
    main = (person[ms[o_s]], cell[ms[o_s]], s0[o_s], e0[o_e])
    flips = (person[seg], partner[seg], flip, back)
    out = [np.concatenate([a, b]) for a, b in zip(main, flips, strict=True)]
    order = np.lexsort((out[2], out[0]))
    return tuple(a[order] for a in out)


def _pings(person, cell, t0, t1, rng):
    """An event at the start of every dwell and periodic updates within it."""
    k = (t1 - t0) // PING_EVERY_S
    seg = np.repeat(np.arange(len(person)), k)
    m = np.arange(k.sum()) - np.repeat(np.cumsum(k) - k, k)
    t = t0[seg] + (m + 1) * PING_EVERY_S - rng.integers(0, 300, len(seg))
    p = np.concatenate([person, person[seg]])
    c = np.concatenate([cell, cell[seg]])
    tt = np.concatenate([t0, t])
    order = np.lexsort((tt, p))
    return p[order], c[order], tt[order]
