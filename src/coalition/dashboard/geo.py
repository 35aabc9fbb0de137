"""Map geometry for the dashboard (pure): projection and SVG paths from the bundled boundaries.

The boundary file ``static/map/region.json`` is derived once from Natural Earth (public domain)
by ``tools/derive_region_map.js``; nothing is fetched at run time. The projection is
equirectangular with the longitude scaled by cos(48.5°), good enough for a region of this size
(distances off by a few per cent at the edges), and simple enough to check by hand.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import NotRequired, TypedDict

REGION_FILE = Path(__file__).resolve().parent / "static" / "map" / "region.json"

LON_MIN, LON_MAX = 20.5, 41.5
LAT_MIN, LAT_MAX = 43.3, 53.4
PX_PER_DEG = 60.0
COS_MID = math.cos(math.radians(48.5))
WIDTH = round((LON_MAX - LON_MIN) * PX_PER_DEG * COS_MID)
HEIGHT = round((LAT_MAX - LAT_MIN) * PX_PER_DEG)
PX_PER_KM = PX_PER_DEG / 111.2


def project(lat: float, lon: float) -> tuple[float, float]:
    """(lat, lon) in degrees -> (x, y) in SVG pixels of the map's viewBox."""
    x = (lon - LON_MIN) * PX_PER_DEG * COS_MID
    y = (LAT_MAX - lat) * PX_PER_DEG
    return round(x, 1), round(y, 1)


@dataclass(frozen=True)
class CountryShape:
    iso3: str
    name: str
    paths: tuple[str, ...]  # SVG path data, one per ring (rings never cancel each other out)
    label_x: float
    label_y: float


class CountryRecord(TypedDict):
    """One country of the boundary file: its rings are [lon, lat] points."""

    iso3: str
    name: str
    rings: list[list[list[float]]]


class RegionFile(TypedDict):
    """The boundary file ``static/map/region.json`` (the keys the dashboard reads)."""

    attribution: NotRequired[str]
    countries: list[CountryRecord]


@lru_cache(maxsize=1)
def region() -> RegionFile:
    data: RegionFile = json.loads(REGION_FILE.read_text(encoding="utf-8"))
    return data


# Label anchors (lat, lon) chosen by hand: a centroid of the visible part can fall in the
# wrong place (Russia's would land east of the contact line, inside Ukraine).
LABELS = {
    "UKR": (49.2, 31.0),
    "POL": (51.6, 21.6),
    "BLR": (52.6, 27.5),
    "RUS": (52.7, 39.5),
    "ROU": (45.9, 24.4),
    "MDA": (47.4, 28.6),
    "HUN": (47.1, 21.0),
    "SVK": (48.9, 21.1),
    "BGR": (43.6, 25.2),
}


@lru_cache(maxsize=1)
def countries() -> tuple[CountryShape, ...]:
    shapes = []
    for c in region()["countries"]:
        parts: list[str] = []
        best_len, lx, ly = -1, 0.0, 0.0
        for ring in c["rings"]:
            pts = [project(lat, lon) for lon, lat in ring]
            parts.append("M" + "L".join(f"{x},{y}" for x, y in pts) + "Z")
            inside = [(x, y) for x, y in pts if 0 <= x <= WIDTH and 0 <= y <= HEIGHT]
            if len(inside) > best_len:
                best_len = len(inside)
                if inside:
                    lx = sum(p[0] for p in inside) / len(inside)
                    ly = sum(p[1] for p in inside) / len(inside)
        if c["iso3"] in LABELS:
            lx, ly = project(*LABELS[c["iso3"]])
        shapes.append(CountryShape(c["iso3"], c["name"], tuple(parts), round(lx, 1), round(ly, 1)))
    return tuple(shapes)


def attribution() -> str:
    return str(region().get("attribution", "Natural Earth (public domain)"))


def polyline(points: list[tuple[float, float]]) -> str:
    """[(lat, lon), ...] -> SVG points attribute."""
    return " ".join(f"{x},{y}" for x, y in (project(lat, lon) for lat, lon in points))
