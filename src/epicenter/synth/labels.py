"""Text identifiers of places as the truth files spell them: household ids, venue codes,
`venue_code/room_no` for hotel rooms, `train_no/travel_date/car_no` for train cars and
`flight_no/flight_date` for flights."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from epicenter.synth.schedule import HOME, HOTEL_ROOM, VEHICLE, VENUE

ROOM_KEY = 10_000  # hotel room key = venue * ROOM_KEY + room_no
CAR_KEY = 100  # vehicle key = timetable row * CAR_KEY + car_no


class Labels:
    def __init__(self, household_ids: pa.Array, venue_codes: pa.Array, vehicle_no: np.ndarray,
                 vehicle_mode: np.ndarray, dates: list[str]):
        self.hh, self.venue = household_ids, venue_codes
        self.vehicle_no, self.flight = pa.array(vehicle_no), vehicle_mode == "flight"
        self.dates = dates

    def of_kind(self, kind: int, place: np.ndarray, d: int) -> pa.Array:
        if not len(place):
            return pa.array([], pa.string())
        if kind == HOME:
            return self.hh.take(place)
        if kind == VENUE:
            return self.venue.take(place)
        if kind == HOTEL_ROOM:
            return pc.binary_join_element_wise(self.venue.take(place // ROOM_KEY),
                                               pa.array((place % ROOM_KEY).astype(str)), "/")
        if kind == VEHICLE:
            v = place // CAR_KEY
            car = np.char.zfill((place % CAR_KEY).astype(str), 2)
            base = pc.binary_join_element_wise(self.vehicle_no.take(v), self.dates[d], "/")
            with_car = pc.binary_join_element_wise(base, pa.array(car), "/")
            return pc.if_else(pa.array(self.flight[v]), base, with_car)
        return pa.array(np.full(len(place), ""), pa.string())

    def place_ids(self, kind: np.ndarray, place: np.ndarray, d: int) -> np.ndarray:
        """Labels for a small set of places (infection events), in input order."""
        out = np.full(len(kind), "", dtype=object)
        for k in np.unique(kind):
            sel = np.flatnonzero(kind == k)
            out[sel] = self.of_kind(int(k), place[sel], d).to_pylist()
        return out

    def vehicle_is_flight(self, key: np.ndarray) -> np.ndarray:
        return self.flight[np.clip(key // CAR_KEY, 0, len(self.flight) - 1)]
