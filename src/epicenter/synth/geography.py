"""The city's area hierarchy (city > district > street > community) as nested rectangles,
plus the external cities that trips and migration flows connect to.

Codes follow the Chinese administrative pattern: 6-digit city and district codes,
9-digit street codes, 12-digit community codes.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np

CITY_CODE = "420100"
CITY_NAME = "江城市"
CITY_BOX = (114.05, 30.40, 114.65, 30.80)  # lon0, lat0, lon1, lat1
DISTRICT_NAMES = ("江岸区", "江汉区", "硚口区", "汉阳区", "武昌区", "青山区", "洪山区", "东西湖区")
STREET_WORDS = list("新华民主解放建设和平胜利长青花园中山友谊劳动前进幸福光明滨江")
COMMUNITY_WORDS = list("东西南北春夏秋冬金银桃李竹松梅兰荷菊星月")

# Real cities the city's trains and flights connect to: code, name, lon, lat.
EXTERNAL_CITIES = (
    ("110000", "北京市", 116.40, 39.90), ("310000", "上海市", 121.47, 31.23),
    ("440100", "广州市", 113.26, 23.13), ("440300", "深圳市", 114.06, 22.54),
    ("430100", "长沙市", 112.94, 28.23), ("410100", "郑州市", 113.63, 34.75),
    ("500000", "重庆市", 106.55, 29.56), ("510100", "成都市", 104.07, 30.57),
    ("411500", "信阳市", 114.09, 32.15), ("420900", "孝感市", 113.92, 30.92),
    ("360100", "南昌市", 115.86, 28.68), ("340100", "合肥市", 117.23, 31.82),
)


@dataclasses.dataclass
class Areas:
    code: np.ndarray  # all areas of the city, parents first
    name: np.ndarray
    level: np.ndarray
    parent: np.ndarray
    box: np.ndarray  # [n, 4] lon0, lat0, lon1, lat1
    communities: np.ndarray  # indices into the arrays above
    districts: np.ndarray
    community_district: np.ndarray  # district position (0..) of each community

    def centroid(self) -> tuple[np.ndarray, np.ndarray]:
        return (self.box[:, 0] + self.box[:, 2]) / 2, (self.box[:, 1] + self.box[:, 3]) / 2


def _split(box: tuple[float, float, float, float], n: int) -> list[tuple]:
    """Split a rectangle into n cells of a near-square grid (row-major)."""
    cols = int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    lon0, lat0, lon1, lat1 = box
    w, h = (lon1 - lon0) / cols, (lat1 - lat0) / rows
    return [(lon0 + (i % cols) * w, lat0 + (i // cols) * h,
             lon0 + (i % cols + 1) * w, lat0 + (i // cols + 1) * h) for i in range(n)]


def build_areas(persons: int) -> Areas:
    """Districts are fixed; streets and communities grow with the population so that a
    community holds roughly 1,000-4,000 residents at large scale."""
    n_dist = 6 if persons < 50_000 else 8
    n_street = int(np.clip(round(persons / 40_000), 2, 8))
    n_comm = int(np.clip(round(persons / (n_dist * n_street * 2_500)), 2, 8))
    rows: list[tuple] = [(CITY_CODE, CITY_NAME, "city", "", CITY_BOX)]
    communities, districts, comm_district = [], [], []
    for d, dbox in enumerate(_split(CITY_BOX, n_dist)):
        dcode = f"4201{d + 2:02d}"
        districts.append(len(rows))
        rows.append((dcode, DISTRICT_NAMES[d], "district", CITY_CODE, dbox))
        for s, sbox in enumerate(_split(dbox, n_street)):
            scode = f"{dcode}{s + 1:03d}"
            sname = STREET_WORDS[(d * 3 + s * 2) % len(STREET_WORDS)] + \
                STREET_WORDS[(d + s * 5 + 1) % len(STREET_WORDS)] + "街道"
            rows.append((scode, sname, "street", dcode, sbox))
            for c, cbox in enumerate(_split(sbox, n_comm)):
                communities.append(len(rows))
                comm_district.append(d)
                cname = COMMUNITY_WORDS[(s * 7 + c) % len(COMMUNITY_WORDS)] + \
                    COMMUNITY_WORDS[(d * 5 + c * 3 + s) % len(COMMUNITY_WORDS)] + "社区"
                rows.append((f"{scode}{c + 1:03d}", cname, "community", scode, cbox))
    return Areas(
        code=np.array([r[0] for r in rows]), name=np.array([r[1] for r in rows]),
        level=np.array([r[2] for r in rows]), parent=np.array([r[3] for r in rows]),
        box=np.array([r[4] for r in rows], dtype=np.float64),
        communities=np.array(communities), districts=np.array(districts),
        community_district=np.array(comm_district),
    )


def random_points(boxes: np.ndarray, rng: np.random.Generator, margin: float = 0.05
                  ) -> tuple[np.ndarray, np.ndarray]:
    """A uniform point inside each given rectangle, kept off the edges by a margin."""
    u = rng.uniform(margin, 1 - margin, (len(boxes), 2))
    lon = boxes[:, 0] + u[:, 0] * (boxes[:, 2] - boxes[:, 0])
    lat = boxes[:, 1] + u[:, 1] * (boxes[:, 3] - boxes[:, 1])
    return lon, lat


def area_rows(areas: Areas, population: np.ndarray) -> dict[str, list]:
    """Rows of area.csv: the city's areas and the external cities (level city)."""
    lon, lat = areas.centroid()
    ext = EXTERNAL_CITIES
    return {
        "area_code": [*areas.code, *(e[0] for e in ext)],
        "name": [*areas.name, *(e[1] for e in ext)],
        "level": [*areas.level, *("city" for _ in ext)],
        "parent_code": [*areas.parent, *("" for _ in ext)],
        "population": [*(str(int(p)) for p in population), *("" for _ in ext)],
        "lon": [f"{v:.6f}" for v in (*lon, *(e[2] for e in ext))],
        "lat": [f"{v:.6f}" for v in (*lat, *(e[3] for e in ext))],
    }


def write_shapes(path: Path, areas: Areas) -> None:
    """area_shape.geojson: a rectangle per city area; external cities get a 0.2 degree box."""
    boxes = list(zip(areas.code, areas.box.tolist(), strict=True))
    boxes += [(c, [lo - 0.1, la - 0.1, lo + 0.1, la + 0.1]) for c, _, lo, la in EXTERNAL_CITIES]
    features = []
    for code, (x0, y0, x1, y1) in boxes:
        ring = [[round(x, 6), round(y, 6)] for x, y in
                ((x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0))]
        features.append({"type": "Feature", "properties": {"area_code": str(code)},
                         "geometry": {"type": "Polygon", "coordinates": [ring]}})
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features},
                               ensure_ascii=False), encoding="utf-8")
