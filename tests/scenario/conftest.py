"""A tiny, hand-checkable scenario for the scenario-file tests."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from coalition.scenario import schemas as s
from coalition.scenario.service import save_scenario


def tiny_scenario() -> s.Scenario:
    return s.Scenario(
        id="tiny",
        name="Tiny test scenario",
        attribution=("test data",),
        nations=(
            s.Nation(code="AAA", name="Alphaland", role="lead", groups=("NATO", "EU")),
            s.Nation(code="BBB", name="Betaland", role="contributor"),
            s.Nation(code="UKR", name="Ukraine", role="host"),
        ),
        instruments=(
            s.Instrument(id="doi", kind="declaration-of-intent", title="Declaration",
                         parties=("AAA", "UKR"),
                         history=(s.InstrumentStateChange(state="signed", on=date(2026, 1, 6)),)),
        ),
        conditions=(
            s.ConditionDef(name="ceasefire"),
            s.ConditionDef(name="parliament.AAA"),
            s.ConditionDef(name="ready", expression="all(ceasefire, instrument(doi) >= signed)"),
        ),
        timeline=(s.Event(on=date(2026, 2, 1), condition="parliament.AAA", value=True),),
        capabilities=(
            s.Capability(code="inf_bn", name="Infantry battalion", domain="land", personnel=800,
                         tonnage=1000, roles=("deterrence", "hub-security")),
            s.Capability(code="med_r2", name="Role 2", domain="joint", personnel=100, tonnage=150),
        ),
        force_options=(s.ForceOption(id="small", name="Small", personnel_target=1000),),
        requirements=(
            s.Requirement(id="R1", option="small", capability="inf_bn", quantity=1, hub="H-WEST",
                          start_day=30, end_day=364, role="deterrence"),
            s.Requirement(id="R2", option="small", capability="med_r2", quantity=2, region="West",
                          start_day=30, end_day=364, priority="essential"),
        ),
        pledges=(
            s.Pledge(id="AAA-1", nation="AAA", capability="inf_bn", units=1, personnel_per_unit=800,
                     notice_days=20, condition="all(ready, parliament.AAA)",
                     caveats=s.Caveats(allowed_countries=("UKR",), min_distance_km=100,
                                       excluded_roles=("combat",))),
            s.Pledge(id="BBB-1", nation="BBB", capability="med_r2", units=2, personnel_per_unit=90,
                     notice_days=30, condition="ceasefire", rear_node="RN-1",
                     expiry_date=date(2027, 1, 1)),
        ),
        hubs=(
            s.Hub(id="H-WEST", name="West hub", country="UKR", region="West", lat=49.8,
                  lon=24.0, personnel_capacity=3000, host_nation="UKR", lead_nation="AAA"),
            s.Hub(id="H-EAST", name="East hub", country="UKR", region="East", lat=48.5,
                  lon=35.0, personnel_capacity=1000, host_nation="UKR"),
        ),
        rear_nodes=(s.RearNode(id="RN-1", name="Rear", country="POL", lat=50.1, lon=22.0),),
        corridors=(
            s.Corridor(id="C1", rear_node="RN-1", hub="H-WEST", mode="road", personnel_per_day=1000,
                       tonnage_per_day=500.5, transit_days=1, distance_km=150),
        ),
        contact_line=s.ContactLine(points=(s.Point(lat=50.0, lon=37.0), s.Point(lat=47.0, lon=35.0)),
                                   buffer_km=15),
    )


@pytest.fixture
def tiny() -> s.Scenario:
    return tiny_scenario()


@pytest.fixture
def tiny_folder(tmp_path: Path, tiny: s.Scenario) -> Path:
    return save_scenario(tiny, tmp_path / "tiny")
