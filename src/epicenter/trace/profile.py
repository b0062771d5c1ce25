"""Close-contact rule profiles: data (YAML), validated and versioned.

A profile names its rules; every output row cites ``<profile>@<version>:<rule id>`` so an
answer can always be traced back to the exact rule text that produced it. The shipped
profiles live in ``profiles/``; a path to any YAML file with the same shape works too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, Field, field_validator, model_validator

PROFILE_DIR = Path(__file__).parent / "profiles"

Tier = Literal["close", "companion", "general"]
# higher is stronger: a contact keeps the strongest tier reached within a setting
TIER_RANK: dict[str, int] = {"close": 3, "companion": 2, "general": 1}
RANK_TIER = {v: k for k, v in TIER_RANK.items()}
SETTINGS = ("household", "hotel_room", "venue", "rail", "flight", "cell", "payment")


class Threshold(BaseModel):
    """A tier reached when the summed overlap (per place and day) passes a bound."""

    tier: Tier
    at_least_minutes: float | None = None  # inclusive bound (venue: >= 15)
    more_than_minutes: float | None = None  # strict bound (cell: > 10)

    def seconds_condition(self, column: str) -> str:
        if self.at_least_minutes is not None:
            return f"{column} >= {float(self.at_least_minutes) * 60:.0f}"
        if self.more_than_minutes is not None:
            return f"{column} > {float(self.more_than_minutes) * 60:.0f}"
        return f"{column} > 0"  # any overlap of positive length


class _Rule(BaseModel):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    setting: Literal["household", "hotel_room", "venue", "rail", "flight", "cell", "payment"]
    description: str = ""


class HouseholdRule(_Rule):
    kind: Literal["household"]
    tier: Tier = "close"


class StayOverlapRule(_Rule):
    """Same discrete place (venue, hotel room, cell) with presence intervals overlapping."""

    kind: Literal["stay_overlap"]
    place_kind: Literal["venue", "hotel_room", "cell"]
    thresholds: list[Threshold]  # strongest first
    # longest stay expected at this kind of place, to prune day partitions; None = no pruning
    max_stay_days: int | None = 1


class ProximityRule(_Rule):
    """Point events (payments) at the same place within a time distance."""

    kind: Literal["time_proximity"]
    place_kind: Literal["merchant"]
    within_minutes: float = Field(gt=0)
    tier: Tier = "general"


class VehicleRule(_Rule):
    """Same vehicle and date with legs overlapping; seat rows decide the tier."""

    kind: Literal["vehicle"]
    mode: Literal["rail", "flight"]
    vehicle_prefixes: list[str] | None = None  # applies only to these train/flight numbers
    exclude_prefixes: list[str] | None = None
    close_same_car: bool = True
    close_rows: int | None = None  # +- rows for close; None means the whole car (or cabin)
    general_scope: Literal["car", "vehicle", "none"] = "none"  # who else is a general contact


Rule = Annotated[HouseholdRule | StayOverlapRule | ProximityRule | VehicleRule,
                 Field(discriminator="kind")]


class ExposureWindow(BaseModel):
    lookback_days: int = Field(2, ge=0)  # from 00:00 of (onset or first positive) minus this


class SourceWeights(BaseModel):
    """Source tracing likelihood (see trace/source.py); hazards fitted on a training city."""

    incubation_mean_days: float = Field(5.2, gt=0)
    incubation_sd_days: float = Field(3.9, gt=0)
    acquisition_days: int = Field(21, ge=1)  # how far before onset an infection is looked for
    # per-hour hazard by "setting/tier" or "setting" (the more specific key wins)
    hazard_per_hour: dict[str, float]
    infectious_before_onset_days: float = Field(2.0, ge=0)
    infectious_after_onset_days: float = Field(8.0, ge=0)
    asymptomatic_window_days: float = Field(10.0, ge=0)  # before the positive test, no onset
    asymptomatic_infectiousness: float = Field(0.5, ge=0)
    # an infectee without onset is timed from its first positive report: the delay from
    # infection to that test (lognormal) is longer and wider than the incubation; None = use
    # the incubation as well
    test_delay_mean_days: float | None = Field(None, gt=0)
    test_delay_sd_days: float | None = Field(None, gt=0)
    outside_infectious_weight: float = Field(0.05, ge=0)
    # a day's exposure longer than this (minutes, per setting) takes the hazard "<setting>/long":
    # a whole night in one cell is being neighbours, not the visit a cell companion stands for
    long_exposure_minutes: dict[str, float] = {}
    # known cases whose case-report area codes share this many leading digits (6: district)
    # are "community" candidates of each other; None = only recorded co-presence counts
    community_area_digits: int | None = Field(None, ge=1)
    # prior score of "infected by someone who is not a candidate" in each share's denominator
    unknown_source_weight: float = Field(0.0, ge=0)
    # relative infectiousness of a candidate by days from its onset to the exposure: bins cut
    # at these edges (len(edges) + 1 weights); a flat window cannot say that transmission
    # peaks days after onset (symptomatic cases stay home) or fades before it. Empty = flat.
    infectiousness_edges_days: list[float] = []
    infectiousness_weights: list[float] = []
    asymptomatic_profile_weight: float = Field(1.0, ge=0)  # the same, candidate without onset
    # a venue's per-pair hazard falls with its capacity: (capacity / reference) ** -exponent
    # (one infector meets a smaller share of a big market's crowd); 0 = no dilution
    venue_capacity_reference: float = Field(50.0, gt=0)
    venue_capacity_exponent: float = Field(0.0, ge=0)

    @model_validator(mode="after")
    def _profile_shape(self) -> SourceWeights:
        edges, weights = self.infectiousness_edges_days, self.infectiousness_weights
        if (edges or weights) and len(weights) != len(edges) + 1:
            raise ValueError(f"infectiousness_weights needs len(edges) + 1 = {len(edges) + 1} "
                             f"values, got {len(weights)}")
        if edges != sorted(edges):
            raise ValueError(f"infectiousness_edges_days must be increasing, got {edges}")
        if any(w < 0 for w in weights):
            raise ValueError("infectiousness_weights must be >= 0")
        return self


class Profile(BaseModel):
    name: str
    version: str
    description: str = ""
    exposure_window: ExposureWindow = ExposureWindow()
    rules: list[Rule]
    source: SourceWeights

    @field_validator("rules")
    @classmethod
    def _unique_ids(cls, rules: list) -> list:
        ids = [r.id for r in rules]
        if len(ids) != len(set(ids)):
            raise ValueError(f"rule ids must be unique, got {ids}")
        return rules

    def rule_ref(self, rule_id: str) -> str:
        return f"{self.name}@{self.version}:{rule_id}"

    def close_rules(self) -> list:
        """Rules able to yield the close tier: the ones secondary contacts are traced with."""
        out = []
        for r in self.rules:
            tiers = ({t.tier for t in r.thresholds} if isinstance(r, StayOverlapRule)
                     else {"close"} if isinstance(r, VehicleRule) else {r.tier})
            if "close" in tiers:
                out.append(r)
        return out


def available_profiles() -> list[str]:
    return sorted(p.stem for p in PROFILE_DIR.glob("*.yaml"))


def load_profile(name_or_path: str | Path = "default") -> Profile:
    """A shipped profile by name, or any YAML file by path."""
    path = Path(name_or_path)
    if not path.suffix:
        path = PROFILE_DIR / f"{name_or_path}.yaml"
    if not path.exists():
        raise ValueError(f"unknown contact profile {name_or_path!r}; shipped: "
                         f"{', '.join(available_profiles())}, or give a YAML path")
    return Profile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
