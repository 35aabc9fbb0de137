"""Geography helpers: great-circle distances, distance to the contact line, the buffer zone.

All distances are on a sphere of mean Earth radius (6,371.0088 km, the IUGG mean radius). The
error against the WGS-84 ellipsoid is under 0.5 %, far below the precision of the hand-digitised
contact line the scenarios use. The formulas are written out here (a few lines of trigonometry)
rather than taken from a GIS library, to keep the package free of heavy native dependencies.

The **buffer zone** is a band of total width ``ContactLine.buffer_km`` centred on the contact
line: a point is inside it when its distance to the line is at most ``buffer_km / 2`` (both sides
pull back equally, as in the mirrored-pullback proposals of the 20-point plan).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from coalition.scenario.schemas import ContactLine, Point

EARTH_RADIUS_KM = 6371.0088

LatLon = tuple[float, float]


def _latlon(p: Point | LatLon) -> LatLon:
    return (p.lat, p.lon) if isinstance(p, Point) else (float(p[0]), float(p[1]))


def haversine_km(a: Point | LatLon, b: Point | LatLon) -> float:
    """Great-circle distance between two points (lat, lon in degrees), in km."""
    lat1, lon1 = _latlon(a)
    lat2, lon2 = _latlon(b)
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def haversine_km_many(lats: np.ndarray, lons: np.ndarray, lat0: float, lon0: float) -> np.ndarray:
    """Vectorised great-circle distance from many points to one point, in km."""
    p1 = np.radians(np.asarray(lats, dtype=float))
    p2 = math.radians(lat0)
    dp = p2 - p1
    dl = math.radians(lon0) - np.radians(np.asarray(lons, dtype=float))
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * math.cos(p2) * np.sin(dl / 2) ** 2
    km: np.ndarray = 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(h)))
    return km


def _bearing(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Initial bearing from point 1 to point 2, radians (inputs in radians)."""
    dl = lon2 - lon1
    y = math.sin(dl) * math.cos(lat2)
    x = math.cos(lat1) * math.sin(lat2) - math.sin(lat1) * math.cos(lat2) * math.cos(dl)
    return math.atan2(y, x)


def distance_to_segment_km(p: Point | LatLon, a: Point | LatLon, b: Point | LatLon) -> float:
    """Shortest great-circle distance from ``p`` to the arc from ``a`` to ``b``, in km.

    Uses the cross-track distance when the foot of the perpendicular falls on the arc, otherwise
    the distance to the nearer end.
    """
    d_ap = haversine_km(a, p)
    d_ab = haversine_km(a, b)
    if d_ab == 0.0:
        return d_ap
    (la, loa), (lb, lob), (lp, lop) = (tuple(map(math.radians, _latlon(x))) for x in (a, b, p))
    delta13 = d_ap / EARTH_RADIUS_KM
    theta13 = _bearing(la, loa, lp, lop)
    theta12 = _bearing(la, loa, lb, lob)
    xt = math.asin(max(-1.0, min(1.0, math.sin(delta13) * math.sin(theta13 - theta12))))
    # signed along-track distance from a towards b
    cos_ratio = math.cos(delta13) / max(1e-15, math.cos(xt))
    at = math.acos(max(-1.0, min(1.0, cos_ratio))) * EARTH_RADIUS_KM
    if math.cos(theta13 - theta12) < 0:
        at = -at
    d_bp = haversine_km(b, p)
    if at <= 0 or at >= d_ab:
        return min(d_ap, d_bp)
    return min(abs(xt) * EARTH_RADIUS_KM, d_ap, d_bp)


def distance_to_polyline_km(p: Point | LatLon, line: Sequence[Point | LatLon]) -> float:
    """Shortest distance from ``p`` to a polyline (sequence of vertices), in km."""
    if not line:
        raise ValueError("a polyline needs at least one point")
    if len(line) == 1:
        return haversine_km(p, line[0])
    return min(distance_to_segment_km(p, line[i], line[i + 1]) for i in range(len(line) - 1))


def distance_to_contact_line_km(p: Point | LatLon, contact_line: ContactLine) -> float:
    """Distance from a point to the contact line, in km."""
    return distance_to_polyline_km(p, contact_line.points)


def in_buffer_zone(p: Point | LatLon, contact_line: ContactLine | None) -> bool:
    """Whether a point lies inside the buffer zone (within ``buffer_km / 2`` of the line).

    No contact line, or a zero-width buffer, means there is no buffer zone.
    """
    if contact_line is None or contact_line.buffer_km <= 0:
        return False
    return distance_to_contact_line_km(p, contact_line) <= contact_line.buffer_km / 2


__all__ = [
    "EARTH_RADIUS_KM",
    "distance_to_contact_line_km",
    "distance_to_polyline_km",
    "distance_to_segment_km",
    "haversine_km",
    "haversine_km_many",
    "in_buffer_zone",
]
