from __future__ import annotations

from pathlib import Path

import pytest

from coalition.depots.io import load_depots
from coalition.depots.schemas import DepotNetwork

DEPOTS_YAML = Path(__file__).resolve().parents[2] / "src/coalition/scenario/data/paris-2026/depots.yaml"
SAMPLE_CSV = DEPOTS_YAML.with_name("sample-consignment.csv")


@pytest.fixture(scope="session")
def network() -> DepotNetwork:
    return load_depots(DEPOTS_YAML)


BIG_LICENCE = {"1.1": 1e6, "1.2": 1e6, "1.3": 1e6, "1.4": 1e6}


def tiny(stock: list[dict], storehouses: list[dict] | None = None, exposed: list[dict] | None = None,
         assertions: list[dict] | None = None, profile: str = "iatg") -> DepotNetwork:
    """A hand-checkable network: items of several classes, one depot (default storehouses carry a
    large licence, so that the other rules are what a test sees)."""
    return DepotNetwork.model_validate({
        "items": [
            {"id": "he", "name": "HE shell", "code": "1.1D", "neq_kg": 10, "gross_kg": 40, "units_per_pallet": 10},
            {"id": "frag", "name": "frag round", "code": "1.2E", "neq_kg": 5, "gross_kg": 20, "units_per_pallet": 10},
            {"id": "prop", "name": "propellant", "code": "1.3C", "neq_kg": 20, "gross_kg": 30, "units_per_pallet": 10},
            {"id": "fuze", "name": "fuze", "code": "1.4B", "neq_kg": 0.1, "gross_kg": 1, "units_per_pallet": 100},
            {"id": "sa", "name": "small arms", "code": "1.4S", "neq_kg": 1, "gross_kg": 10, "units_per_pallet": 50},
            {"id": "wp", "name": "WP", "code": "1.2H", "neq_kg": 1, "gross_kg": 5, "units_per_pallet": 50},
            {"id": "toxic", "name": "toxic", "code": "1.2K", "neq_kg": 1, "gross_kg": 5, "units_per_pallet": 50},
        ],
        "lots": [{"id": f"{i}-1", "item": i} for i in ("he", "frag", "prop", "fuze", "sa", "wp", "toxic")],
        "depots": [{
            "id": "D", "name": "tiny depot", "hub": "UA-LVIV", "profile": profile,
            "storehouses": storehouses or [
                {"id": "S1", "kind": "earth-covered", "x": 0, "y": 0, "orientation_deg": 180, "capacity_pallets": 500,
                 "licensed_neq_kg": BIG_LICENCE},
                {"id": "S2", "kind": "earth-covered", "x": 100, "y": 0, "orientation_deg": 180, "capacity_pallets": 500,
                 "licensed_neq_kg": BIG_LICENCE},
                {"id": "S3", "kind": "above-ground", "x": 0, "y": 300, "capacity_pallets": 500,
                 "licensed_neq_kg": BIG_LICENCE},
            ],
            "exposed_sites": exposed if exposed is not None else [
                {"id": "house", "kind": "inhabited-building", "points": [[0, -600]]},
                {"id": "road", "kind": "public-traffic-route", "points": [[-2000, 900], [2000, 900]]},
            ],
            "assertions": assertions or [],
        }],
        "stock": stock,
    })
