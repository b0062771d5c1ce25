"""The static city: areas, people, places, network, timetable and travel plans, and the
reference files (area, area_shape, person, cell_tower, venue, merchant, station)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from epicenter.schema import VENUE_CATEGORIES
from epicenter.synth.geography import Areas, area_rows, build_areas, random_points, write_shapes
from epicenter.synth.network import Network, build_network
from epicenter.synth.params import SynthParams
from epicenter.synth.places import Places, build_places
from epicenter.synth.population import ROLES, Population, build_population
from epicenter.synth.transport import Timetable, build_timetable, station_rows
from epicenter.synth.travel import Travel, plan_travel
from epicenter.synth.writer import Delivery, write_truth


@dataclasses.dataclass
class City:
    p: SynthParams
    areas: Areas
    pop: Population
    places: Places
    net: Network
    tt: Timetable
    travel: Travel
    hh_lon: np.ndarray
    hh_lat: np.ndarray
    home_district: np.ndarray  # per person (visitors: district of their hotel)
    merchant_ids: pa.Array


def build_city(p: SynthParams) -> City:
    areas = build_areas(p.persons)
    n_visitors = max(4, round(p.persons * p.visitors_per_1000_day / 1000 * p.days))
    pop = build_population(p, areas, n_visitors)
    places = build_places(p, areas, pop)
    net = build_network(p, areas)
    tt = build_timetable(p)
    travel = plan_travel(p, pop, places, tt)
    hh_lon, hh_lat = random_points(areas.box[pop.hh_community], p.rng("homes"))
    comm_pos = np.searchsorted(areas.communities, pop.hh_community)
    home_district = np.full(pop.n, -1)
    res = pop.household >= 0
    home_district[res] = areas.community_district[comm_pos[pop.household[res]]]
    home_district[travel.h_person] = places.district[travel.h_hotel]
    merchant_ids = pa.array(np.char.add("M", np.char.zfill(
        np.arange(len(places.merchant_venue)).astype("U9"), 9)))
    return City(p, areas, pop, places, net, tt, travel, hh_lon, hh_lat, home_district, merchant_ids)


def write_reference(c: City, out: Delivery) -> None:
    pop, pl, areas = c.pop, c.places, c.areas
    res = np.arange(pop.n_residents)
    population = _area_population(c)
    out.write("area", "area.csv", area_rows(areas, population))
    write_shapes(out.root / "area_shape.geojson", areas)
    out.manifest.append({"path": "area_shape.geojson", "kind": "area_shape"})
    hh = pop.household[res]
    listed = pa.array(pop.address_listed[res])
    out.write("person", "person.csv", {
        "id_no": pop.id_no.slice(0, pop.n_residents),
        "phone": pc.if_else(pa.array(pop.phone_registered[res]), pop.phone.slice(0, pop.n_residents), ""),
        "name": pop.name.slice(0, pop.n_residents),
        "birth_year": pa.array([int(s[6:10]) for s in pop.id_no.slice(0, pop.n_residents).to_pylist()]),
        "sex": np.where(pop.male[res], "M", "F"),
        "home_area_code": areas.code[pop.hh_community[hh]],
        "home_address": pc.if_else(listed, pop.hh_address.take(hh), ""),
    })
    out.write("cell_tower", "cell_tower.csv", {
        "cell_id": c.net.cell_id, "lon": np.char.mod("%.6f", c.net.lon),
        "lat": np.char.mod("%.6f", c.net.lat), "radius_m": c.net.radius_m.astype(int),
        "area_code": c.net.area_code})
    out.write("venue", "venue.csv", {
        "venue_code": pl.code, "name": np.array(pl.name),
        "category": np.array(VENUE_CATEGORIES)[pl.category],
        "lon": np.char.mod("%.6f", pl.lon), "lat": np.char.mod("%.6f", pl.lat),
        "area_code": areas.code[pl.community], "capacity": pl.capacity})
    mv = pl.merchant_venue
    shop_names = np.where(mv >= 0, np.char.add(np.array(pl.name)[np.maximum(mv, 0)],
                                                np.char.add("商户", (np.arange(len(mv)) % 50 + 1).astype(str))),
                          np.char.add(areas.name[pl.merchant_community], "便利店"))
    out.write("merchant", "merchant.csv", {
        "merchant_id": c.merchant_ids, "name": shop_names,
        "venue_code": pc.if_else(pa.array(mv >= 0), pl.code.take(np.maximum(mv, 0)), ""),
        "lon": np.char.mod("%.6f", pl.merchant_lon), "lat": np.char.mod("%.6f", pl.merchant_lat),
        "area_code": areas.code[pl.merchant_community]})
    out.write("station", "station.csv", station_rows())
    write_truth(out.root, "venues.csv", {
        "venue_code": pl.code, "category": np.array(VENUE_CATEGORIES)[pl.category],
        "capacity": pl.capacity, "open_time": np.char.mod("%05d", pl.open_s),
        "close_time": np.char.mod("%05d", pl.close_s)})
    _write_persons(c, out)


def _area_population(c: City) -> np.ndarray:
    """Registered residents per area (communities, summed up the hierarchy)."""
    areas, pop = c.areas, c.pop
    counts = np.bincount(pop.hh_community, weights=pop.hh_size, minlength=len(areas.code))
    index = {code: i for i, code in enumerate(areas.code)}
    for i in range(len(areas.code) - 1, 0, -1):  # children come after their parents
        counts[index[areas.parent[i]]] += counts[i]
    return counts.astype(int)


def _write_persons(c: City, out: Delivery) -> None:
    pop, pl = c.pop, c.places
    hh = pop.household
    ids = c.pop.household_ids
    wv = pl.work_venue
    write_truth(out.root, "persons.csv", {
        "id_no": pop.id_no, "phone": pop.phone,
        "household_id": pc.if_else(pa.array(hh >= 0), ids.take(np.maximum(hh, 0)), ""),
        "home_area_code": np.where(hh >= 0, c.areas.code[pop.hh_community[np.maximum(hh, 0)]], ""),
        "age": pop.age, "role": np.array(ROLES)[pop.role],
        "work_or_school_venue": pc.if_else(pa.array(wv >= 0), pl.code.take(np.maximum(wv, 0)), ""),
        "in_registry": np.where(pop.phone_registered, "true", "false"),
    })
