"""Venues (every category, with capacities and opening hours), merchants, hotel rooms,
workplaces and schools, and the enterprises whose meters show work resumption."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pyarrow as pa

from epicenter.schema import VENUE_CATEGORIES
from epicenter.synth.geography import Areas, random_points
from epicenter.synth.params import SynthParams
from epicenter.synth.population import STUDENT, WORKER, Population

CAT = {c: i for i, c in enumerate(VENUE_CATEGORIES)}
H = 3600
# opening hours (seconds of day) and capacity range, per category
HOURS = {"market": (6 * H, 19 * H), "supermarket": (8 * H, 22 * H), "restaurant": (10 * H, 22 * H),
         "hospital": (0, 24 * H), "clinic": (8 * H, 18 * H), "school": (7 * H, 18 * H),
         "office": (7 * H, 21 * H), "factory": (0, 24 * H), "residential": (0, 24 * H),
         "hotel": (0, 24 * H), "transport_hub": (5 * H, 24 * H),
         "entertainment": (10 * H, 23 * H + 1800), "other": (9 * H, 21 * H)}
CAPACITY = {"market": (300, 800), "supermarket": (150, 500), "restaurant": (30, 200),
            "hospital": (800, 2000), "clinic": (40, 120), "school": (400, 1500),
            "office": (50, 400), "factory": (100, 600), "residential": (500, 3000),
            "hotel": (80, 400), "transport_hub": (2000, 6000), "entertainment": (100, 400),
            "other": (50, 150)}
NAME_WORD = {"market": "农贸市场", "supermarket": "超市", "restaurant": "餐馆", "hospital": "人民医院",
             "clinic": "社区卫生服务中心", "school": "中学", "office": "大厦", "factory": "制造厂",
             "residential": "小区", "hotel": "酒店", "transport_hub": "", "entertainment": "影城",
             "other": "便民服务点"}
# persons per venue of a category (the city always has at least the given minimum)
PER_VENUE = {"market": (4000, 2), "supermarket": (2500, 2), "restaurant": (400, 4),
             "hospital": (60000, 1), "clinic": (8000, 2), "entertainment": (5000, 2),
             "other": (5000, 2), "hotel": (8000, 2)}
SERVICE_CATS = ("market", "supermarket", "restaurant", "hospital", "clinic", "hotel",
                "entertainment", "other", "school")
TEAM_SIZE = 10  # colleagues in close daily contact
CLASS_SIZE = 40
OFFICE_INDUSTRIES = ("information technology", "finance", "public administration",
                     "business services")
FACTORY_INDUSTRIES = ("manufacturing", "automotive parts", "food processing")


@dataclasses.dataclass
class Places:
    code: pa.Array
    name: list
    category: np.ndarray  # index into VENUE_CATEGORIES
    lon: np.ndarray
    lat: np.ndarray
    community: np.ndarray  # index into areas.code
    district: np.ndarray  # district position
    capacity: np.ndarray
    open_s: np.ndarray
    close_s: np.ndarray
    # people
    work_venue: np.ndarray  # per person, -1 if none
    team: np.ndarray  # per person, global team/class id, -1 if none
    # hotels
    hotel_rooms: dict  # venue index -> number of rooms
    # merchants
    merchant_venue: np.ndarray  # -1 for street shops
    merchant_lon: np.ndarray
    merchant_lat: np.ndarray
    merchant_community: np.ndarray
    # enterprises (office and factory venues)
    ent_venue: np.ndarray
    ent_industry: np.ndarray
    ent_closed_from: np.ndarray  # datetime64[D]
    ent_resumption: np.ndarray  # datetime64[D]

    @property
    def n(self) -> int:
        return len(self.category)

    def by(self, category: str) -> np.ndarray:
        return np.flatnonzero(self.category == CAT[category])


def _counts(pop: Population, areas: Areas) -> list[tuple[str, int]]:
    n = pop.n_residents
    workers = int((pop.role == WORKER).sum())
    out = [(c, max(m, round(n / per))) for c, (per, m) in PER_VENUE.items()]
    out += [("office", max(2, round(workers * 0.55 / 120))),
            ("factory", max(1, round(workers * 0.2 / 300))),
            ("residential", len(areas.communities))]
    return out


def build_places(p: SynthParams, areas: Areas, pop: Population) -> Places:
    rng = p.rng("places")
    n_comm = len(areas.communities)
    cats, comms = [], []
    for cat, count in _counts(pop, areas):
        cats += [CAT[cat]] * count
        comms += list(np.arange(n_comm) if cat == "residential" else rng.integers(0, n_comm, count))
    # schools: one per ~700 students of each district, at least one per district
    home_district = np.full(pop.n, -1)
    res = pop.household >= 0
    home_district[res] = areas.community_district[
        np.searchsorted(areas.communities, pop.hh_community[pop.household[res]])]
    n_dist = len(areas.districts)
    for d in range(n_dist):
        k = max(1, round(((pop.role == STUDENT) & (home_district == d)).sum() / 700))
        in_d = np.flatnonzero(areas.community_district == d)
        cats += [CAT["school"]] * k
        comms += list(rng.choice(in_d, k))
    cats += [CAT["transport_hub"]] * 3  # the rail station, the east station and the airport
    comms += list(rng.integers(0, n_comm, 3))
    category = np.array(cats)
    comm_pos = np.array(comms)
    community = areas.communities[comm_pos]
    lon, lat = random_points(areas.box[community], rng)
    names_c = [VENUE_CATEGORIES[c] for c in category]
    cap = np.array([rng.integers(*CAPACITY[c]) for c in names_c])
    open_s = np.array([HOURS[c][0] for c in names_c])
    close_s = np.array([HOURS[c][1] for c in names_c])
    name = [_venue_name(areas.name[community[i]], names_c[i], i) for i in range(len(cats))]
    hubs = np.flatnonzero(category == CAT["transport_hub"])
    for h, label in zip(hubs, ("江城站", "江城东站", "江城天河机场"), strict=True):
        name[h] = label
    code = pa.array(np.char.add(np.char.add(np.array([c[:6] for c in areas.code[community]]),
                                            "V"), np.char.zfill(np.arange(len(cats)).astype("U6"), 6)))
    district = areas.community_district[comm_pos]
    work_venue, team = _assign_work(pop, category, district, home_district, cap, rng)
    hotels = np.flatnonzero(category == CAT["hotel"])
    hotel_rooms = {int(h): int(cap[h] // 2) for h in hotels}
    m_venue, m_lon, m_lat, m_comm = _merchants(p, areas, category, lon, lat, community, rng)
    ent = np.flatnonzero((category == CAT["office"]) | (category == CAT["factory"]))
    industry = np.where(category[ent] == CAT["office"],
                        np.array(OFFICE_INDUSTRIES)[rng.integers(0, 4, len(ent))],
                        np.array(FACTORY_INDUSTRIES)[rng.integers(0, 3, len(ent))])
    fest = np.datetime64(p.festival)
    closed_from = fest - rng.integers(2, 6, len(ent)).astype("timedelta64[D]")
    resumption = fest + (7 + rng.gamma(2.0, 6.0, len(ent)).astype(int)).astype("timedelta64[D]")
    return Places(code=code, name=name, category=category, lon=lon, lat=lat,
                  community=community, district=district, capacity=cap, open_s=open_s,
                  close_s=close_s, work_venue=work_venue, team=team, hotel_rooms=hotel_rooms,
                  merchant_venue=m_venue, merchant_lon=m_lon, merchant_lat=m_lat,
                  merchant_community=m_comm, ent_venue=ent, ent_industry=industry,
                  ent_closed_from=closed_from, ent_resumption=resumption)


def _venue_name(area_name: str, cat: str, i: int) -> str:
    return f"{area_name[:2]}{NAME_WORD[cat]}" + (f"{i % 97 + 1}号店" if cat in
                                                ("restaurant", "supermarket", "other") else "")


def _pick(pool: np.ndarray, weights: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    return pool[rng.choice(len(pool), k, p=weights / weights.sum())]


def _assign_work(pop: Population, category: np.ndarray, district: np.ndarray,
                 home_district: np.ndarray, cap: np.ndarray, rng: np.random.Generator):
    """Workers to offices, factories and service venues (anywhere in the city); students
    to a school of their home district. Teams and classes group daily close contacts."""
    work = np.full(pop.n, -1)
    workers = np.flatnonzero(pop.role == WORKER)
    u = rng.random(len(workers))
    offices, factories = np.flatnonzero(category == CAT["office"]), np.flatnonzero(
        category == CAT["factory"])
    service = np.flatnonzero(np.isin(category, [CAT[c] for c in SERVICE_CATS]))
    for mask, pool in ((u < 0.55, offices), ((u >= 0.55) & (u < 0.75), factories),
                       (u >= 0.75, service)):
        work[workers[mask]] = _pick(pool, cap[pool].astype(float), int(mask.sum()), rng)
    students = np.flatnonzero(pop.role == STUDENT)
    schools = np.flatnonzero(category == CAT["school"])
    for d in np.unique(home_district[students]):
        s = students[home_district[students] == d]
        local = schools[district[schools] == d]
        work[s] = local[rng.integers(0, len(local), len(s))]
    # teams: consecutive members of a workplace (students sorted by age form classes)
    team = np.full(pop.n, -1)
    has = np.flatnonzero(work >= 0)
    within = np.where(pop.role[has] == STUDENT, pop.age[has], 0) + rng.random(len(has))
    order = has[np.lexsort((within, work[has]))]
    w = work[order]
    rank = np.arange(len(order)) - np.searchsorted(w, w, side="left")
    size = np.where(pop.role[order] == STUDENT, CLASS_SIZE, TEAM_SIZE)
    local_team = rank // size
    team[order] = w * 100_000 + local_team
    return work, team


def _merchants(p: SynthParams, areas: Areas, category: np.ndarray, lon: np.ndarray,
               lat: np.ndarray, community: np.ndarray, rng: np.random.Generator):
    """Market stalls, shops inside venues and street shops without a venue."""
    per_cat = {"market": (5, 15), "supermarket": (1, 3), "restaurant": (1, 2),
               "entertainment": (1, 3), "hotel": (1, 2), "transport_hub": (3, 8),
               "hospital": (1, 3), "clinic": (1, 2), "other": (1, 2)}
    venue = []
    for v, c in enumerate(category):
        lo_hi = per_cat.get(VENUE_CATEGORIES[c])
        if lo_hi:
            venue += [v] * int(rng.integers(*lo_hi))
    venue = np.array(venue)
    jitter = rng.normal(0, 0.0003, (len(venue), 2))
    n_street = max(5, round(p.persons / 600))
    s_comm = areas.communities[rng.integers(0, len(areas.communities), n_street)]
    s_lon, s_lat = random_points(areas.box[s_comm], rng)
    return (np.concatenate([venue, np.full(n_street, -1)]),
            np.concatenate([lon[venue] + jitter[:, 0], s_lon]),
            np.concatenate([lat[venue] + jitter[:, 1], s_lat]),
            np.concatenate([community[venue], s_comm]))


def enterprise_dates(places: Places, date: dt.date) -> np.ndarray:
    """Per venue: True when the venue's enterprise is closed for the festival that day."""
    closed = np.zeros(places.n, dtype=bool)
    d = np.datetime64(date)
    closed[places.ent_venue] = (d >= places.ent_closed_from) & (d < places.ent_resumption)
    return closed
