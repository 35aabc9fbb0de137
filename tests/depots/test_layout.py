"""coalition.depots.layout: depot geometry as arrays, the packed rule-lookup codes, and the
required-distance / Q_max matrices (each other's inverse)."""

from __future__ import annotations

import numpy as np
import pytest

from coalition.depots.layout import (
    DIST_TOL,
    MAX_CODE,
    build_layout,
    decode_spec,
    group_by_code,
    qmax_matrix,
    required_matrix,
    spec_codes,
)
from coalition.depots.rulebook import load_rulebook

from .conftest import tiny

BOOK = load_rulebook()


def depot(exposed: list[dict] | None = None):  # type: ignore[no-untyped-def]
    return tiny([], exposed=exposed).depots[0]


def test_geometry_targets_are_exposed_sites_then_storehouses() -> None:
    lay = build_layout(depot(), BOOK)
    assert lay.target_ids == ["house", "road", "S1", "S2", "S3"] and lay.n_es == 2
    assert lay.dist.shape == (3, 5)
    # S1 (0,0), S2 (100,0), S3 (0,300); house at (0,-600); the road is the line y = 900
    assert lay.dist[0, :2] == pytest.approx([600.0, 900.0])
    assert lay.dist[2, :2] == pytest.approx([900.0, 600.0])
    assert lay.dist[0, 3] == pytest.approx(100.0) and lay.dist[1, 2] == pytest.approx(100.0)
    assert lay.dist[0, 4] == pytest.approx(300.0)
    assert np.isinf([lay.dist[i, 2 + i] for i in range(3)]).all()  # a storehouse is not its own target
    assert np.array_equal(lay.dist[:, 2:], lay.dist[:, 2:].T)


def test_faces_exist_for_earth_covered_donors_only() -> None:
    lay = build_layout(depot(), BOOK)
    assert (lay.face[2] == 0).all()  # S3 is above ground: no face
    # S1 faces south (180 degrees); the house is due south of it: its front
    assert lay.face[0, 0] == 1
    # an acceptor face is given toward earth-covered targets only (S1, S2), never exposed sites
    assert (lay.es_face[:, :2] == 0).all() and (lay.es_face[:, 4] == 0).all()


def test_a_busy_public_route_takes_the_profiles_relation_with_its_note() -> None:
    busy = build_layout(depot(), BOOK)
    minor = build_layout(
        depot(
            [
                {"id": "house", "kind": "inhabited-building", "points": [[0, -600]]},
                {
                    "id": "road",
                    "kind": "public-traffic-route",
                    "density": "minor",
                    "points": [[-2000, 900], [2000, 900]],
                },
            ]
        ),
        BOOK,
    )
    from coalition.depots.layout import _RELATIONS

    assert _RELATIONS[minor.target_relation[1]] == "PTRD" and minor.target_notes[1] == ()
    expected = BOOK.profile_setting("iatg", "busy_route_relation", "IBD")
    assert _RELATIONS[busy.target_relation[1]] == expected
    if expected != "PTRD":
        assert busy.target_notes[1], "the convention the busy-route relation rests on is named"


def test_codes_decode_to_what_they_were_built_from() -> None:
    lay = build_layout(depot(), BOOK)
    rows = np.arange(3)
    heavy = np.array([True, False, True])
    codes = spec_codes(lay, rows, heavy)
    assert codes.shape == (3, 5) and (codes >= 0).all() and (codes < MAX_CODE).all()
    for i in range(3):
        for t in range(5):
            relation, pes, _face, _es_kind, _es_face, _es_type, trav, hv = decode_spec(int(codes[i, t]))
            assert pes == lay.depot.storehouses[i].kind.value
            assert hv is bool(heavy[i]) and trav is bool(lay.trav[i, t])
    # only the heavy bit differs between a heavy and a light row: the lowest bit
    light = spec_codes(lay, rows, np.zeros(3, dtype=bool))
    assert np.array_equal(light | heavy[:, None].astype(np.int64), codes)


def test_group_by_code_partitions_the_cells() -> None:
    assert group_by_code(np.array([], dtype=np.int64)) == []
    codes = np.array([[5, 2, 5], [2, 9, 5]])
    groups = group_by_code(codes)
    assert [c for c, _ in groups] == [2, 5, 9]
    flat = codes.ravel()
    assert sorted(int(i) for _, idx in groups for i in idx) == list(range(flat.size))
    assert all((flat[idx] == c).all() for c, idx in groups)


@pytest.mark.parametrize("hd", ["1.1", "1.2", "1.3", "1.4"])
def test_required_distance_grows_with_neq_and_is_zero_for_none(hd: str) -> None:
    lay = build_layout(depot(), BOOK)
    rows = np.arange(3)
    heavy = np.zeros(3, dtype=bool)
    prev = None
    for q in (0.0, 1.0, 50.0, 1_000.0, 20_000.0):
        req, codes, used = required_matrix(lay, rows, np.full(3, q), hd, heavy, "iatg", BOOK, {})
        assert req.shape == codes.shape == (3, 5) and set(np.unique(codes).tolist()) <= set(used)
        if q == 0:
            assert (req == 0).all()
        finite = np.isfinite(req)
        assert (req[finite] == np.ceil(req[finite])).all()  # whole metres
        if prev is not None:
            assert (req >= prev).all(), (hd, q)  # more explosive never needs less distance
        prev = req


@pytest.mark.parametrize("hd", ["1.1", "1.2", "1.3"])
def test_qmax_is_the_inverse_of_the_required_distance(hd: str) -> None:
    """Holding Q_max at the layout's distances never needs more distance than there is; and
    Q_max is the largest such NEQ for a cube-root rule: 2% more needs more than there is."""
    lay = build_layout(depot(), BOOK)
    rows = np.arange(3)
    qmax, _codes, _used = qmax_matrix(lay, rows, hd, False, "iatg", BOOK, {})
    assert qmax.shape == (3, 5) and (qmax >= 0).all()
    heavy = np.zeros(3, dtype=bool)
    for t in range(5):
        q = qmax[:, t]
        ok = np.isfinite(q) & (q > 0) & np.isfinite(lay.dist[:, t])
        if not ok.any():
            continue
        req, _, _ = required_matrix(lay, rows, np.where(ok, q, 0.0), hd, heavy, "iatg", BOOK, {})
        assert (req[ok, t] <= np.floor(lay.dist[ok, t] + DIST_TOL) + 1e-9).all(), (hd, t)


def test_qmax_is_tight_for_the_cube_root_cells() -> None:
    lay = build_layout(depot(), BOOK)
    rows = np.arange(3)
    qmax, codes, used = qmax_matrix(lay, rows, "1.1", False, "iatg", BOOK, {})
    cube = np.vectorize(lambda c: used[int(c)].rule.record.formula == "cube_root")(codes)
    vmax = np.vectorize(lambda c: used[int(c)].rule.record.valid_max_kg or np.inf)(codes)
    tight = cube & np.isfinite(qmax) & (qmax > 0) & (qmax * 1.02 < vmax)
    assert tight.any()
    i, t = np.nonzero(tight)
    for r, c in zip(i.tolist(), t.tolist(), strict=True):
        q = np.zeros(3)
        q[r] = qmax[r, c] * 1.02
        req, _, _ = required_matrix(lay, rows, q, "1.1", np.zeros(3, dtype=bool), "iatg", BOOK, {})
        assert req[r, c] > np.floor(lay.dist[r, c] + DIST_TOL), (r, c)
