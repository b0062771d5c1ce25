"""Per-day output: the day's event files (cell signalling, pings, venue scans, payments,
tickets, migration flows), its true presence, venue occupancy, household states and the
occupancy slots that drive the smart meters."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from epicenter.synth.city import City
from epicenter.synth.geography import CITY_CODE, EXTERNAL_CITIES
from epicenter.synth.labels import Labels
from epicenter.synth.params import DAY_S, SLOTS_PER_DAY
from epicenter.synth.presence import Legs
from epicenter.synth.scans import VenueRecords
from epicenter.synth.schedule import HOME, P_LEISURE, P_SCHOOL, P_WORK, PLACE_KINDS, VENUE, Segments
from epicenter.synth.writer import WRITE, Delivery, TruthSink, to_strings

SLOT_S = DAY_S // SLOTS_PER_DAY
RAIL = ["id_no", "train_no", "travel_date", "car_no", "seat_no", "from_station", "to_station",
        "dep_time", "arr_time"]
FLIGHT = ["id_no", "flight_no", "flight_date", "seat_no", "from_station", "to_station",
          "dep_time", "arr_time"]
OD = ["date", "origin_code", "destination_code", "trips"]


class DayWriter:
    def __init__(self, c: City, out: Delivery, labels: Labels, meters):
        self.c, self.out, self.labels, self.meters = c, out, labels, meters
        p, pop = c.p, c.pop
        rng = p.rng("sleep")
        self.rng = p.rng("daily")
        self.wake = np.clip(rng.normal(6.8, 0.6, pop.n) - (pop.age >= 60) * 0.5, 4.5, 10) * 3600
        self.bed = np.clip(rng.normal(23.0, 0.7, pop.n), 20.5, 23.95) * 3600
        n_hh = len(pop.hh_size)
        tr = c.travel
        fest = tr.t_party < n_hh  # festival trips use the household index as the party id
        self.fest_dep = np.full(n_hh, np.inf)
        self.fest_ret = np.full(n_hh, np.inf)
        self.fest_dep[tr.t_party[fest]] = tr.t_depart[fest]
        ret = np.where(np.isnan(tr.t_return[fest]), np.inf, tr.t_return[fest])
        self.fest_ret[tr.t_party[fest]] = ret
        self.states_sink = TruthSink(out.root, "household_states.csv",
                                     ["household_id", "meter_id", "date", "state"], p.epoch)
        self.occupancy = TruthSink(out.root, "venue_occupancy.csv",
                                   ["venue_code", "hour", "persons"], p.epoch)
        self.meter_ids = pa.array(np.char.add("EM", np.char.zfill(np.arange(n_hh).astype("U9"), 9)))
        comm_pos = np.searchsorted(c.areas.communities, c.places.community)
        self.venue_district = c.areas.community_district[comm_pos]
        self.district_codes = c.areas.code[c.areas.districts]
        self.quarantine_left_day = np.full(n_hh, -1)

    def write_day(self, d: int, s: Segments, rec: VenueRecords, cell: tuple[dict, dict],
                  legs: Legs, today: np.ndarray, car: np.ndarray, seat: pa.Array, dis) -> None:
        c, out = self.c, self.out
        D = d * DAY_S
        date = c.p.date(d).isoformat()
        signaling, pings = cell
        out.write("cell_signaling", f"cell_signaling/{date}.csv", signaling,
                  ("start_time", "end_time"), D)
        out.write("cell_ping", f"cell_ping/{date}.csv", pings, ("event_time",), D)
        out.write("venue_scan", f"venue_scan/{date}.csv", rec.scans, ("scan_time",), D)
        out.write("payment", f"payment/{date}.csv", rec.payments, ("txn_time",), D)
        self._tickets(d, legs, today, car, seat)
        self._presence(d, s)
        self._occupancy(d, s)
        self._od(d, s, legs, today)
        self._households(d, s, dis)

    def _tickets(self, d, legs: Legs, today, car, seat) -> None:
        tt, pop = self.c.tt, self.c.pop
        v = legs.vehicle[today]
        date = self.c.p.date(d).isoformat()
        for mode, cols in (("rail", RAIL), ("flight", FLIGHT)):
            sel = np.flatnonzero(tt.mode[v] == mode)
            sink = self.out.sink(f"{mode}_ticket", cols)  # the file exists even if empty
            if not len(sel):
                continue
            order = sel[np.lexsort((car[sel], v[sel]))]
            vv = v[order]
            data = {"id_no": pop.id_no.take(legs.person[today][order]),
                    cols[1]: tt.vehicle_no[vv], cols[2]: np.full(len(vv), date)}
            if mode == "rail":
                data["car_no"] = np.char.zfill(car[order].astype(str), 2)
            data.update({"seat_no": seat.take(order), "from_station": tt.from_station[vv],
                         "to_station": tt.to_station[vv], "dep_time": legs.dep[today][order],
                         "arr_time": legs.arr[today][order]})
            sink.append(data, ("dep_time", "arr_time"))

    def _presence(self, d: int, s: Segments) -> None:
        pop = self.c.pop
        parts, positions = [], []
        for k in range(len(PLACE_KINDS)):
            sel = np.flatnonzero(s.kind == k)
            parts.append(to_strings({
                "id_no": pop.id_no.take(s.person[sel]),
                "place_kind": np.full(len(sel), PLACE_KINDS[k]),
                "place_id": self.labels.of_kind(k, s.place[sel], d),
                "start_time": s.start[sel], "end_time": s.end[sel]},
                ("start_time", "end_time"), self.c.p.epoch + d * DAY_S))
            positions.append(sel)
        table = pa.concat_tables(parts)
        pos = np.concatenate(positions)
        order = np.argsort(pos, kind="stable")  # back to person, time order
        table = table.take(pa.array(order))
        path = self.out.root / "truth" / "presence" / f"{self.c.p.date(d).isoformat()}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        import pyarrow.csv as pacsv

        with open(path, "wb") as fh:
            fh.write((",".join(table.column_names) + "\n").encode())
            pacsv.write_csv(table, fh, write_options=WRITE)

    def _occupancy(self, d: int, s: Segments) -> None:
        sel = s.kind == VENUE
        v, a, b = s.place[sel], s.start[sel] // 3600, (s.end[sel] - 1) // 3600
        k = b - a + 1
        hour = np.repeat(a, k) + (np.arange(k.sum()) - np.repeat(np.cumsum(k) - k, k))
        key = np.repeat(v, k) * 24 + hour
        counts = np.bincount(key, minlength=self.c.places.n * 24)
        nz = np.flatnonzero(counts)
        self.occupancy.append({"venue_code": self.c.places.code.take(nz // 24),
                               "hour": (nz % 24) * 3600 + d * DAY_S, "persons": counts[nz]},
                              ("hour",))

    def _od(self, d: int, s: Segments, legs: Legs, today) -> None:
        """A migration-data provider's daily flows: trips between districts (home district to
        activity district) and between the city and the other cities, with estimation noise."""
        c = self.c
        trip = (s.kind == VENUE) & np.isin(s.purpose, (P_WORK, P_SCHOOL, P_LEISURE))
        o = c.home_district[s.person[trip]]
        dd = self.venue_district[s.place[trip]]
        nd = len(self.district_codes)
        local = np.bincount(o * nd + dd, minlength=nd * nd)
        ext = np.array([e[0] for e in EXTERNAL_CITIES])
        lv = legs.vehicle[today]
        city = c.tt.city[lv]
        leaving = legs.leaving[today]
        out_n = np.bincount(city[leaving], minlength=len(ext))
        in_n = np.bincount(city[~leaving], minlength=len(ext))
        origin = [*np.repeat(self.district_codes, nd), *[CITY_CODE] * len(ext), *ext]
        dest = [*np.tile(self.district_codes, nd), *ext, *[CITY_CODE] * len(ext)]
        trips = np.concatenate([local, out_n, in_n]).astype(float)
        keep = trips > 0
        noisy = np.round(trips[keep] * np.exp(self.rng.normal(0, 0.08, int(keep.sum()))), 1)
        self.out.sink("od_flow", OD).append({
            "date": np.full(int(keep.sum()), c.p.date(d).isoformat()),
            "origin_code": np.array(origin)[keep], "destination_code": np.array(dest)[keep],
            "trips": noisy})

    def _households(self, d: int, s: Segments, dis) -> None:
        c = self.c
        pop = c.pop
        n_hh = len(pop.hh_size)
        home = s.kind == HOME
        hh, who = s.place[home], s.person[home]
        a, b = s.start[home], s.end[home]
        home_slots = _slots(hh, a, b, n_hh)
        awake_slots = _slots(hh, np.maximum(a, self.wake[who]), np.minimum(b, self.bed[who]), n_hh)
        D0, D1 = d * DAY_S, (d + 1) * DAY_S
        q = (dis.q_day0 <= d) & (d < dis.q_day1)
        state = np.full(n_hh, "occupied", dtype=object)
        state[self.fest_dep < D1] = "away_festival"
        state[self.fest_ret < D1] = "returned"
        state[(self.fest_dep >= D1) | (self.fest_ret < D0 - 14 * DAY_S)] = "occupied"
        state[q] = "quarantined"
        state[dis.q_left & (dis.q_day0 <= d)] = "quarantined_left"  # they do not come back
        state[pop.hh_vacant] = "vacant_long"
        states = np.array(state, dtype=str)
        self.meters.write_day(d, c.p.date(d), home_slots, awake_slots, states)
        self.out.add_external(f"meter_reading/{c.p.date(d).isoformat()}.csv", "meter_reading")
        self.states_sink.append({"household_id": pop.household_ids, "meter_id": self.meter_ids,
                                 "date": np.full(n_hh, c.p.date(d).isoformat()), "state": states})

    def finish(self) -> None:
        self.states_sink.close()
        self.occupancy.close()


def _slots(hh: np.ndarray, start: np.ndarray, end: np.ndarray, n_hh: int) -> np.ndarray:
    """Members present at the middle of each 15-minute slot, per household."""
    first = np.clip(np.ceil((start - SLOT_S / 2) / SLOT_S), 0, SLOTS_PER_DAY).astype(np.int64)
    last = np.clip(np.ceil((end - SLOT_S / 2) / SLOT_S), 0, SLOTS_PER_DAY).astype(np.int64)
    ok = last > first
    width = SLOTS_PER_DAY + 1
    diff = (np.bincount(hh[ok] * width + first[ok], minlength=n_hh * width)
            - np.bincount(hh[ok] * width + last[ok], minlength=n_hh * width))
    return np.cumsum(diff.reshape(n_hh, width), axis=1)[:, :SLOTS_PER_DAY].astype(np.int16)
