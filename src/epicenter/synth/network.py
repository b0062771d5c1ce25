"""Cell towers on a jittered grid whose coverage circles overlap, and the serving cells of
fixed locations. A location nearly as close to a second tower is a boundary location:
a phone there hops between the two cells (ping-pong)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pyarrow as pa
from scipy.spatial import cKDTree

from epicenter.synth.geography import CITY_BOX, Areas
from epicenter.synth.params import SynthParams

M_PER_DEG_LAT = 111_320.0
BOUNDARY_RATIO = 1.2  # second-nearest tower within 20 % of the nearest: ping-pong


@dataclasses.dataclass
class Network:
    cell_id: pa.Array
    lon: np.ndarray
    lat: np.ndarray
    radius_m: np.ndarray
    area_code: np.ndarray
    tree: cKDTree
    cos_lat: float

    def serving(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Serving cell per location and the ping-pong partner cell (-1 if none)."""
        xy = np.column_stack([lon * self.cos_lat, lat])
        dist, idx = self.tree.query(xy, k=2)
        partner = np.where(dist[:, 1] < BOUNDARY_RATIO * dist[:, 0], idx[:, 1], -1)
        return idx[:, 0], partner


def build_network(p: SynthParams, areas: Areas) -> Network:
    rng = p.rng("network")
    lon0, lat0, lon1, lat1 = CITY_BOX
    cos_lat = float(np.cos(np.radians((lat0 + lat1) / 2)))
    n_target = max(30, p.persons // 350)
    width_m = (lon1 - lon0) * M_PER_DEG_LAT * cos_lat
    height_m = (lat1 - lat0) * M_PER_DEG_LAT
    spacing = float(np.sqrt(width_m * height_m / n_target))
    xs = np.arange(spacing / 2, width_m, spacing)
    ys = np.arange(spacing / 2, height_m, spacing)
    gx, gy = np.meshgrid(xs, ys)
    x = gx.ravel() + rng.normal(0, spacing * 0.2, gx.size)
    y = gy.ravel() + rng.normal(0, spacing * 0.2, gy.size)
    lon = lon0 + np.clip(x, 0, width_m) / (M_PER_DEG_LAT * cos_lat)
    lat = lat0 + np.clip(y, 0, height_m) / M_PER_DEG_LAT
    radius = spacing * rng.uniform(0.8, 1.1, len(lon))  # neighbours' circles overlap
    # the community containing each tower gives its area code
    boxes = areas.box[areas.communities]
    inside = ((lon[:, None] >= boxes[None, :, 0]) & (lon[:, None] <= boxes[None, :, 2])
              & (lat[:, None] >= boxes[None, :, 1]) & (lat[:, None] <= boxes[None, :, 3]))
    comm = areas.communities[np.argmax(inside, axis=1)]
    lac = np.array([int(c[4:6]) for c in areas.code[comm]]) * 1000 + 17
    ci = np.arange(len(lon)) * 7 + 10_001
    cell_id = pa.array([f"460-00-{a}-{b}" for a, b in zip(lac, ci, strict=True)])
    tree = cKDTree(np.column_stack([lon * cos_lat, lat]))
    return Network(cell_id=cell_id, lon=lon, lat=lat, radius_m=np.round(radius, 0),
                   area_code=areas.code[comm], tree=tree, cos_lat=cos_lat)
