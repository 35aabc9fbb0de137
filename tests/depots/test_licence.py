"""Licences computed from the layout: controlling site, minimums, heavy-case, underground."""

from __future__ import annotations

import math

import pytest

from coalition.depots.licence import compute_licences
from coalition.depots.schemas import Depot


def _depot(kind: str = "above-ground", house: float = 500.0, road: float = 300.0, **sh: object) -> Depot:
    return Depot.model_validate({
        "id": "D", "name": "d", "hub": "H",
        "storehouses": [{"id": "S", "kind": kind, "x": 0, "y": 0, **sh}],
        "exposed_sites": [
            {"id": "house", "kind": "inhabited-building", "points": [[house, 0]]},
            {"id": "road", "kind": "public-traffic-route", "points": [[-5000, -road], [5000, -road]]},
        ],
    })


def test_controlling_site_and_value() -> None:
    lic = compute_licences(_depot(house=700, road=2000))[0].lines["1.1"]
    assert lic.controlling == "house" and lic.relation == "IBD"
    # blast alone allows (700/22.2)^3 = 31,350 kg; the fragment envelope (DFD3 ≤ 700 m) stops at
    # e^(866.56/87.261) = 20,551 kg
    assert lic.q_max_kg == pytest.approx(math.exp(866.56 / 87.261), abs=0.2) and lic.q_max_kg < (700 / 22.2) ** 3
    assert "iatg.1.1.frag" in lic.unverified
    near = compute_licences(_depot(house=400, road=2000))[0].lines["1.1"]
    assert 222.8 <= near.q_max_kg < 223  # DFD4's 450 m plateau starts at 223 kg


def test_inside_the_fragment_minimum_nothing_is_licensed() -> None:
    lic = compute_licences(_depot(house=260, road=1000))[0].lines["1.1"]
    assert lic.q_max_kg == 0 and lic.controlling == "house"
    assert "cannot be licensed" in lic.note and "381" in lic.note


def test_heavy_case_line_uses_the_larger_minimum() -> None:
    sl = compute_licences(_depot(house=390, road=1000))[0]
    assert sl.lines["1.1"].q_max_kg > 0  # 390 m ≥ 381 m
    assert sl.heavy_case_1_1 is not None and sl.heavy_case_1_1.q_max_kg == 0  # < 400 m heavy-case minimum
    assert sl.heavy_case_1_2 is not None and sl.heavy_case_1_2.q_max_kg == 0  # heavy-case HD 1.2 too


def test_underground_13_licensed_as_11() -> None:
    sl = compute_licences(_depot(kind="underground", house=500, road=1000))[0]
    assert sl.lines["1.3"].q_max_kg == sl.lines["1.1"].q_max_kg
    assert "treated as 1.1" in sl.lines["1.3"].note


def test_issued_licence_above_layout_is_reported() -> None:
    sl = compute_licences(_depot(house=500, road=300, licensed_neq_kg={"1.1": 20_000}))[0]
    assert any("exceeds" in n and "road" in n for n in sl.notes)


def test_hd12_table_cap_and_no_site_limit() -> None:
    sl = compute_licences(_depot(house=5000, road=5000))[0]
    assert sl.lines["1.2"].q_max_kg == 220_000 and "validated range" in sl.lines["1.2"].note
    assert math.isinf(sl.lines["1.4"].q_max_kg)
