"""Geography helpers, checked against distances worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coalition.geo import (
    EARTH_RADIUS_KM,
    distance_to_contact_line_km,
    distance_to_polyline_km,
    distance_to_segment_km,
    haversine_km,
    haversine_km_many,
    in_buffer_zone,
)
from coalition.scenario.schemas import ContactLine, Point

ONE_DEGREE_KM = EARTH_RADIUS_KM * math.pi / 180  # 111.195 km


def test_haversine_one_degree_of_latitude() -> None:
    assert haversine_km((0, 0), (1, 0)) == pytest.approx(ONE_DEGREE_KM, rel=1e-9)
    assert haversine_km(Point(lat=10, lon=5), Point(lat=10, lon=5)) == 0


def test_haversine_kyiv_lviv() -> None:
    # Kyiv-Lviv great-circle distance is about 468 km
    assert haversine_km((50.45466, 30.5238), (49.83826, 24.02324)) == pytest.approx(468, abs=2)


def test_haversine_many_matches_scalar() -> None:
    lats = np.array([0.0, 10.0, -45.0])
    lons = np.array([0.0, 20.0, 170.0])
    got = haversine_km_many(lats, lons, 1.0, 2.0)
    want = [haversine_km((a, b), (1.0, 2.0)) for a, b in zip(lats, lons, strict=True)]
    assert got == pytest.approx(want)


def test_segment_perpendicular_and_ends() -> None:
    # a point 1 degree north of the middle of an equatorial segment
    assert distance_to_segment_km((1, 5), (0, 0), (0, 10)) == pytest.approx(ONE_DEGREE_KM, rel=1e-6)
    # beyond either end: distance to that end, whichever way the segment runs
    beyond = haversine_km((0, 12), (0, 10))
    assert distance_to_segment_km((0, 12), (0, 0), (0, 10)) == pytest.approx(beyond)
    assert distance_to_segment_km((0, 12), (0, 10), (0, 0)) == pytest.approx(beyond)
    assert distance_to_segment_km((1, -1), (0, 0), (0, 10)) == pytest.approx(haversine_km((1, -1), (0, 0)))
    # degenerate segment
    assert distance_to_segment_km((1, 0), (0, 0), (0, 0)) == pytest.approx(ONE_DEGREE_KM)


def test_polyline_takes_nearest_segment() -> None:
    line = [(0, 0), (0, 10), (10, 10)]
    # near the second (north-running) segment at lon 10
    assert distance_to_polyline_km((5, 11), line) == pytest.approx(
        haversine_km((5, 11), (5, 10)), rel=1e-3
    )
    assert distance_to_polyline_km((3, 3), [(0, 0)]) == pytest.approx(haversine_km((3, 3), (0, 0)))
    with pytest.raises(ValueError):
        distance_to_polyline_km((0, 0), [])


def test_buffer_zone_is_half_width_each_side() -> None:
    line = ContactLine(points=(Point(lat=46, lon=36), Point(lat=50, lon=36)), buffer_km=10)
    near = (48.0, 36.05)  # ~3.7 km east
    far = (48.0, 36.1)  # ~7.4 km east
    assert distance_to_contact_line_km(near, line) == pytest.approx(3.72, abs=0.05)
    assert in_buffer_zone(near, line)
    assert not in_buffer_zone(far, line)
    assert not in_buffer_zone(near, None)
    assert not in_buffer_zone(near, line.model_copy(update={"buffer_km": 0}))


coords = st.tuples(st.floats(-60, 60), st.floats(-170, 170))


@settings(deadline=None)
@given(coords, coords, coords)
def test_segment_distance_is_bounded_by_end_distances(p, a, b) -> None:
    d = distance_to_segment_km(p, a, b)
    assert 0 <= d <= min(haversine_km(p, a), haversine_km(p, b)) + 1e-6


@settings(deadline=None)
@given(coords, coords, coords)
def test_triangle_inequality(p, q, r) -> None:
    assert haversine_km(p, r) <= haversine_km(p, q) + haversine_km(q, r) + 1e-6
