"""Vendored age-contact matrices (Prem 2017/2021, Mistry 2021) and age distributions.

Convention of the sources: ``C[i, j]`` = mean daily contacts a person of group i has with
people of group j, by setting (layer): home, school, work, community. ``all`` is their sum.
Populations come as single years 0 .. 84+; Prem matrices use 16 five-year groups (0-4 ..
75+), Mistry matrices single years. :func:`load_contacts` returns the layers together with
the matching population vector, optionally aggregated to coarser age bands.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

import numpy as np

LAYERS = ("home", "school", "work", "community")
SOURCES = ("prem_2017", "prem_2021", "mistry_2021")
DATA_ROOT = resources.files("epicenter.model") / "data" / "contacts"


@dataclass(frozen=True)
class ContactData:
    """Layers (each G x G), population (G,) and group labels for one location and source."""

    location: str
    source: str
    labels: tuple[str, ...]
    population: np.ndarray
    layers: dict[str, np.ndarray]

    @property
    def total(self) -> np.ndarray:
        return sum(self.layers[name] for name in LAYERS)

    def combine(self, home: float = 1.0, school: float = 1.0, work: float = 1.0,
                community: float = 1.0) -> np.ndarray:
        """C = C_home*h + C_school*s + C_work*w + C_community*c (layer multipliers in [0, 1])."""
        weights = {"home": home, "school": school, "work": work, "community": community}
        return sum(self.layers[name] * weights[name] for name in LAYERS)

    def reciprocity_error(self, layer: str | None = None) -> float:
        """Share of contacts that are not reciprocated: sum|F - F'| / sum(F + F'), F_ij = N_i C_ij.

        Contacts i->j and j->i are the same encounters, so F should be symmetric. Mistry
        matrices are built reciprocal; Prem matrices are projections and are not.
        """
        c = self.total if layer is None else self.layers[layer]
        flows = c * self.population[:, None]
        return float(np.abs(flows - flows.T).sum() / (flows + flows.T).sum())

    def reciprocal(self) -> ContactData:
        """Layers made reciprocal for this population: C_ij <- (N_i C_ij + N_j C_ji) / (2 N_i)."""
        pop = self.population

        def fix(c: np.ndarray) -> np.ndarray:
            flows = c * pop[:, None]
            return 0.5 * (flows + flows.T) / pop[:, None]

        return replace(self, layers={k: fix(v) for k, v in self.layers.items()})


def locations() -> list[str]:
    return sorted(p.name for p in DATA_ROOT.iterdir() if p.is_dir())


def sources(location: str) -> list[str]:
    return sorted(p.name for p in (DATA_ROOT / location / "contact_matrices").iterdir())


def _read_matrix(path) -> np.ndarray:
    with path.open("r", encoding="utf-8") as f:
        return np.array([[float(v) for v in row] for row in csv.reader(f) if row])


def _read_ages(location: str) -> np.ndarray:
    """Population by single year 0 .. 84+ (85 values)."""
    path = DATA_ROOT / location / "demographic" / "age_distribution.csv"
    with path.open("r", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return np.array([float(r["value"]) for r in rows])


def _single_year_to_bands(values: np.ndarray, width: int, last: int) -> np.ndarray:
    """Index of the band of each single year (0..84): bands of ``width`` years, ``last``+ open."""
    years = np.arange(values.size)
    return np.minimum(years // width, last // width)


def band_labels(width: int, last: int) -> tuple[str, ...]:
    starts = list(range(0, last, width))
    return tuple(f"{a}-{a + width - 1}" for a in starts) + (f"{last}+",)


def aggregate(matrix: np.ndarray, population: np.ndarray, band: np.ndarray) -> np.ndarray:
    """Collapse groups into bands, keeping total contacts: C'_IJ = sum_{i in I, j in J} N_i C_ij / N_I.

    Contacts of a person are additive over the groups of the contacted, and averaged
    (population-weighted) over the groups of the person, so totals N_I C'_IJ are preserved.
    """
    n = band.max() + 1
    onehot = np.zeros((band.size, n))
    onehot[np.arange(band.size), band] = 1.0
    flows = (population[:, None] * matrix)  # total contacts between groups i and j per day
    banded = onehot.T @ flows @ onehot
    return banded / (onehot.T @ population)[:, None]


def load_contacts(location: str = "China", source: str = "prem_2017",
                  band_width: int | None = None, root: Path | None = None) -> ContactData:
    """Contact layers and population of a vendored location.

    Prem matrices come with 16 bands (the 85 single years of population are summed into
    0-4 .. 75+). Mistry matrices are single years; ``band_width=5`` aggregates them to
    0-4 .. 80+ (17 bands), which keeps models small without losing the layer structure.
    """
    base = (Path(root) if root else DATA_ROOT) / location
    if not (base / "contact_matrices" / source).is_dir():
        raise ValueError(f"no {source!r} matrices for {location!r}; have {sources(location)}")
    layers = {name: _read_matrix(base / "contact_matrices" / source / f"contacts_matrix_{name}.csv")
              for name in LAYERS}
    ages = _read_ages(location)
    g = layers["home"].shape[0]
    if g == 16:  # Prem: five-year bands with 75+ open
        pop = np.bincount(_single_year_to_bands(ages, 5, 75), weights=ages)
        labels = band_labels(5, 75)
    elif g == ages.size:  # Mistry: single years
        pop, labels = ages, tuple(str(a) for a in range(g - 1)) + (f"{g - 1}+",)
        if band_width:
            last = ((g - 1) // band_width) * band_width
            band = _single_year_to_bands(ages, band_width, last)
            layers = {k: aggregate(v, ages, band) for k, v in layers.items()}
            pop = np.bincount(band, weights=ages)
            labels = band_labels(band_width, last)
    else:
        raise ValueError(f"{g} groups in {source} matrices do not match the age distribution")
    return ContactData(location, source, labels, pop, layers)
