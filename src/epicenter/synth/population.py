"""Households and people: ages, sexes, roles, homes, identity numbers and phones.

Residents live in households placed in communities; visitors (appended after the
residents) have no household and sleep in hotel rooms while in the city.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from epicenter.synth.geography import Areas
from epicenter.synth.idcard import ORIGIN_COUNTIES, make_ids, make_names, make_phones
from epicenter.synth.params import SynthParams

ROLES = ("worker", "student", "retired", "child", "visitor")
WORKER, STUDENT, RETIRED, CHILD, VISITOR = range(5)
HOUSEHOLD_SIZES = np.array([0.25, 0.30, 0.22, 0.15, 0.08])  # 1..5 members (census-like)


@dataclasses.dataclass
class Population:
    n_residents: int
    household: np.ndarray  # household index per person, -1 for visitors
    age: np.ndarray
    male: np.ndarray
    role: np.ndarray
    id_no: pa.Array
    phone: pa.Array  # "" for people without a phone
    has_phone: np.ndarray
    phone_registered: np.ndarray  # phone listed in the person registry
    name: pa.Array
    # households
    hh_community: np.ndarray  # index into areas.code
    hh_address: pa.Array
    hh_size: np.ndarray
    hh_migrant: np.ndarray
    hh_vacant: np.ndarray  # registered, but nobody lives there
    address_listed: np.ndarray  # per person: home_address given in person.csv

    @property
    def n(self) -> int:
        return len(self.age)

    @property
    def household_ids(self) -> pa.Array:
        return pa.array(np.char.add("H", np.char.zfill(
            np.arange(len(self.hh_size)).astype("U8"), 8)))


def _ages(rank: np.ndarray, size: np.ndarray, first: np.ndarray,
          rng: np.random.Generator) -> np.ndarray:
    n = len(rank)
    head = rng.triangular(22, 38, 85, n)
    head_of = head[first]  # the head's age, broadcast to every member of the household
    age = np.where(size == 1, rng.uniform(20, 85, n), head_of)
    spouse = np.clip(head_of + rng.normal(0, 3, n), 20, 95)
    child = rng.uniform(0, 1, n) * np.clip(head_of - 20, 1, 22)
    elder = np.clip(head_of + 25 + rng.uniform(0, 8, n), 60, 96)
    other = np.where(rng.random(n) < 0.75, child, elder)
    age = np.where(rank == 1, spouse, np.where(rank >= 2, other, age))
    return np.floor(age).astype(np.int64)


def _roles(age: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    u = rng.random(len(age))
    return np.select(
        [age < 3, age <= 18, (age <= 22) & (u < 0.5), (age < 60) & (u < 0.9),
         (age < 65) & (u < 0.15)],
        [CHILD, STUDENT, STUDENT, WORKER, WORKER], RETIRED)


def build_population(p: SynthParams, areas: Areas, n_visitors: int) -> Population:
    rng = p.rng("population")
    sizes = rng.choice(np.arange(1, 6), size=p.persons // 2 + 10, p=HOUSEHOLD_SIZES)
    sizes = sizes[: np.searchsorted(np.cumsum(sizes), p.persons) + 1]
    sizes[-1] -= sizes.sum() - p.persons  # the last household absorbs the rounding
    n_hh = len(sizes)
    household = np.repeat(np.arange(n_hh), sizes)
    first = np.repeat(np.cumsum(sizes) - sizes, sizes)
    rank = np.arange(p.persons) - first
    size = sizes[household]
    age = _ages(rank, size, first, rng)
    coin = rng.random(p.persons) < 0.5
    male = np.where(rank == 1, ~coin[first], coin)  # spouses are of the other sex
    role = _roles(age, rng)

    # communities have uneven density
    comm_weight = rng.gamma(3.0, 1.0, len(areas.communities))
    hh_comm_pos = rng.choice(len(areas.communities), n_hh, p=comm_weight / comm_weight.sum())
    hh_community = areas.communities[hh_comm_pos]
    hh_migrant = rng.random(n_hh) < p.migrant_household_share
    hh_vacant = rng.random(n_hh) < p.vacant_household_share
    hh_address = _addresses(areas, hh_community, rng)

    # visitors: adults registered in other provinces
    v_age = rng.integers(22, 62, n_visitors)
    age = np.concatenate([age, v_age])
    male = np.concatenate([male, rng.random(n_visitors) < 0.6])
    role = np.concatenate([role, np.full(n_visitors, VISITOR)])
    household = np.concatenate([household, np.full(n_visitors, -1)])
    n = p.persons + n_visitors

    district_code = np.array([c[:6] for c in areas.code])
    local_county = district_code[hh_community][household[: p.persons]]
    other = np.array(ORIGIN_COUNTIES)[rng.integers(0, len(ORIGIN_COUNTIES), n)]
    migrant = np.concatenate([hh_migrant[household[: p.persons]], np.ones(n_visitors, bool)])
    county = np.where(migrant, other, np.concatenate([local_county, other[p.persons:]]))
    year = p.start.year - age - (rng.random(n) < 0.5)  # birthday before or after the start
    doy = rng.integers(0, 365, n)
    birth = ((year - 1970).astype("datetime64[Y]").astype("datetime64[D]")
             + doy.astype("timedelta64[D]"))
    id_no = make_ids(county, birth, male, rng)

    has_phone = (age >= 10) & (rng.random(n) < 0.97)
    phones = make_phones(n, rng)
    phone = pc.if_else(pa.array(has_phone), phones, "")
    registered = has_phone & (rng.random(n) >= p.unregistered_phone_share)
    registered[p.persons:] = False  # visitors are not in the city's registry
    listed = rng.random(n) >= p.address_missing_share
    return Population(
        n_residents=p.persons, household=household, age=age, male=male, role=role,
        id_no=id_no, phone=phone, has_phone=has_phone, phone_registered=registered,
        name=make_names(n, rng), hh_community=hh_community, hh_address=hh_address,
        hh_size=sizes, hh_migrant=hh_migrant, hh_vacant=hh_vacant, address_listed=listed)


def _addresses(areas: Areas, hh_community: np.ndarray, rng: np.random.Generator) -> pa.Array:
    """Chinese-style home addresses, unique within a community: building, unit, room."""
    order = np.argsort(hh_community, kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    sorted_comm = hh_community[order]
    starts = np.searchsorted(sorted_comm, sorted_comm, side="left")
    rank[order] = np.arange(len(order)) - starts
    building = rank // 48 + 1
    unit = (rank // 24) % 2 + 1
    floor = (rank % 24) // 2 + 1
    room = floor * 100 + rank % 2 + 1
    parent = dict(zip(areas.code, areas.parent, strict=True))
    names = dict(zip(areas.code, areas.name, strict=True))
    comms = np.unique(hh_community)
    prefix = {}
    for c in comms:
        comm = areas.code[c]
        street = parent[comm]
        prefix[c] = "江城市" + names[parent[street]] + names[street] + names[comm]
    lookup = pa.array([prefix[c] for c in comms])
    pre = lookup.take(pa.array(np.searchsorted(comms, hh_community)))
    return pc.binary_join_element_wise(
        pre, pa.array(building.astype(str)), "栋", pa.array(unit.astype(str)), "单元",
        pa.array(room.astype(str)), "室", "")
