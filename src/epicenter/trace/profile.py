"""Close-contact rule profiles: data (YAML), validated and versioned.

A profile names its rules; every output row cites ``<profile>@<version>:<rule id>`` so an
answer can always be traced back to the exact rule text that produced it. The shipped
profiles live in ``profiles/``; a path to any YAML file with the same shape works too.

An optional ``secondary:`` block narrows secondary tracing (close contacts of close
contacts): which settings of a close contact's exposure to the case make it a seed
(``via_settings``) and which close-tier rules are applied to the seeds (``rules``). A
profile whose block narrows anything is a different profile: its version in every row's
rule reference carries ``+s.<digest of the scope>`` (see ``Profile.ref``).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

PROFILE_DIR = Path(__file__).parent / "profiles"

Tier = Literal["close", "companion", "general"]
# higher is stronger: a contact keeps the strongest tier reached within a setting
TIER_RANK: dict[str, int] = {"close": 3, "companion": 2, "general": 1}
RANK_TIER = {v: k for k, v in TIER_RANK.items()}
SETTINGS = ("household", "hotel_room", "venue", "rail", "flight", "cell", "payment")
Setting = Literal["household", "hotel_room", "venue", "rail", "flight", "cell", "payment"]


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
    setting: Setting
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


class SecondaryScope(BaseModel):
    """How far secondary tracing reaches; a key left out does not narrow."""

    model_config = ConfigDict(extra="forbid")  # a misspelt key must not silently widen
    # a close contact seeds secondary tracing if it is close to the case in any of these
    via_settings: list[Setting] | None = Field(None, min_length=1)
    rules: list[str] | None = Field(None, min_length=1)  # close-tier rule ids run on the seeds


def _close_capable(rule) -> bool:
    tiers = ({t.tier for t in rule.thresholds} if isinstance(rule, StayOverlapRule)
             else {"close"} if isinstance(rule, VehicleRule) else {rule.tier})
    return "close" in tiers


class Profile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    version: str
    description: str = ""
    exposure_window: ExposureWindow = ExposureWindow()
    rules: list[Rule]
    secondary: SecondaryScope | None = None
    source: SourceWeights

    @field_validator("rules")
    @classmethod
    def _unique_ids(cls, rules: list) -> list:
        ids = [r.id for r in rules]
        if len(ids) != len(set(ids)):
            raise ValueError(f"rule ids must be unique, got {ids}")
        return rules

    @model_validator(mode="after")
    def _secondary_names_close_rules(self) -> Profile:
        if self.secondary is None:
            return self
        close = self.close_rules()
        ids = {r.id for r in self.rules}
        close_ids = [r.id for r in close]
        for rid in self.secondary.rules or []:
            if rid not in ids:
                raise ValueError(f"secondary.rules: unknown rule id {rid!r}; "
                                 f"the close-tier rules of this profile are {close_ids}")
            if rid not in close_ids:
                raise ValueError(f"secondary.rules: rule {rid!r} never yields the close tier, "
                                 f"so it cannot trace secondary close contacts; "
                                 f"close-tier rules: {close_ids}")
        close_settings = sorted({r.setting for r in close})
        for setting in self.secondary.via_settings or []:
            if setting not in close_settings:
                raise ValueError(f"secondary.via_settings: no rule of this profile makes a close "
                                 f"contact in setting {setting!r}; close settings: {close_settings}")
        return self

    def close_rules(self) -> list:
        """Rules able to yield the close tier."""
        return [r for r in self.rules if _close_capable(r)]

    def secondary_rules(self) -> list:
        """The close-tier rules secondary contacts are traced with (all without a block)."""
        chosen = self.secondary.rules if self.secondary and self.secondary.rules else None
        return [r for r in self.close_rules() if chosen is None or r.id in chosen]

    def secondary_via(self) -> set[str] | None:
        """Settings of a close contact's exposure that make it a seed; None = every setting."""
        via = self.secondary.via_settings if self.secondary else None
        close_settings = {r.setting for r in self.close_rules()}
        return None if via is None or close_settings <= set(via) else set(via)

    def secondary_scope_id(self) -> str | None:
        """Digest of a narrowing secondary scope; None when secondary tracing is the spec's
        (no block, or a block naming every close setting and rule: the same answers)."""
        via = self.secondary_via()
        rules = [r.id for r in self.secondary_rules()]
        if via is None and len(rules) == len(self.close_rules()):
            return None
        scope = {"via_settings": sorted(via) if via is not None else None, "rules": sorted(rules)}
        return hashlib.sha256(json.dumps(scope, sort_keys=True).encode()).hexdigest()[:8]

    @property
    def ref(self) -> str:
        """``name@version``, with ``+s.<digest>`` when the secondary scope is narrowed: the
        same name and version with another scope gives other rows, so it is another profile."""
        scope = self.secondary_scope_id()
        return f"{self.name}@{self.version}" + (f"+s.{scope}" if scope else "")

    def rule_ref(self, rule_id: str) -> str:
        return f"{self.ref}:{rule_id}"


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
    try:
        return Profile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except ValidationError as e:
        raise ProfileError(path, e) from None


class ProfileError(ValueError):
    """An invalid profile file: names the file and, per problem, the key and the reason."""

    def __init__(self, path: Path, error: ValidationError):
        lines = []
        for err in error.errors():
            key = ".".join(str(p) for p in err["loc"]) or "(top level)"
            # a model validator's message already names its key ("secondary.rules: ...")
            msg = err["msg"].removeprefix("Value error, ")
            lines.append(f"  {key}: {msg}" if key != "(top level)" else f"  {msg}")
        super().__init__(f"invalid contact profile {path}:\n" + "\n".join(lines))
        self.path = path
