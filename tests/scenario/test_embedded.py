"""The embedded paris-2026 scenario says what the reference facts say, and marks its choices."""

from __future__ import annotations

import pytest

from coalition.conditions.expr import instruments, names
from coalition.scenario.schemas import Evidence, Scenario
from coalition.scenario.service import embedded_path, load_scenario, validate_path


@pytest.fixture(scope="module")
def paris() -> Scenario:
    return load_scenario()


def test_loads_without_problems() -> None:
    report = validate_path(None, strict=True)
    assert report.ok, "\n".join(str(p) for p in report.problems)
    assert embedded_path().name == "paris-2026"


def test_is_marked_illustrative_with_attribution(paris: Scenario) -> None:
    assert paris.illustrative and "ILLUSTRATIVE" in paris.description
    assert any("GeoNames" in a and "CC BY 4.0" in a for a in paris.attribution)


def test_every_record_keeps_its_source(paris: Scenario) -> None:
    for table in ("nations", "instruments", "conditions", "timeline", "capabilities",
                  "force_options", "requirements", "pledges", "hubs", "rear_nodes", "corridors"):
        for record in getattr(paris, table):
            assert record.source.strip(), f"{table}: {record!r} has no source"
    assert paris.contact_line is not None and paris.contact_line.source


def test_nations(paris: Scenario) -> None:
    assert len(paris.nations) >= 35
    codes = {n.code for n in paris.nations}
    assert {"GBR", "FRA", "DEU", "POL", "ITA", "TUR", "UKR", "USA"} <= codes
    assert paris.nation("GBR").role == "lead" and paris.nation("FRA").role == "lead"
    assert paris.nation("UKR").role == "host"


def test_uk_and_france_are_bound_by_the_declaration_of_intent(paris: Scenario) -> None:
    doi = next(i for i in paris.instruments if i.kind == "declaration-of-intent")
    assert set(doi.parties) == {"GBR", "FRA", "UKR"}
    assert doi.history[0].state == "signed" and doi.history[0].on.isoformat() == "2026-01-06"
    derived = {c.name: c.expression for c in paris.conditions if c.expression}

    def instruments_of(expr: str, seen: set[str] | None = None) -> set[str]:
        seen = seen or set()
        out = set(instruments(expr))
        for name in names(expr):
            if name in derived and name not in seen:
                out |= instruments_of(derived[name], seen | {name})
        return out

    for nation in ("GBR", "FRA"):
        pledges = [p for p in paris.pledges if p.nation == nation]
        assert pledges
        assert all(doi.id in instruments_of(p.condition) for p in pledges)
    assert all("parliament.GBR" in names(p.condition) for p in paris.pledges if p.nation == "GBR")


def test_germany_only_on_neighbouring_nato_territory(paris: Scenario) -> None:
    german = [p for p in paris.pledges if p.nation == "DEU"]
    assert german
    for p in german:
        assert p.caveats.allowed_countries and "UKR" not in p.caveats.allowed_countries
        assert set(p.caveats.allowed_countries) <= {"POL", "ROU"}
        assert {"us_backstop", "parliament.DEU"} <= set(names(p.condition))


def test_poland_and_italy_no_troops_in_ukraine(paris: Scenario) -> None:
    for nation in ("POL", "ITA"):
        pledges = [p for p in paris.pledges if p.nation == nation]
        assert pledges
        for p in pledges:
            assert p.caveats.allowed_countries and "UKR" not in p.caveats.allowed_countries
            assert p.capability in {"log_bn", "trg_team", "signals", "isr"}


def test_mandate_conditions(paris: Scenario) -> None:
    slovenia = [p for p in paris.pledges if p.nation == "SVN"]
    assert slovenia and all({"eu_framework", "un_mandate"} <= set(names(p.condition)) for p in slovenia)
    ireland = [p for p in paris.pledges if p.nation == "IRL"]
    assert ireland and all("un_mandate" in names(p.condition) for p in ireland)
    assert all("deterrence" in p.caveats.excluded_roles for p in ireland)


def test_ceasefire_date_is_not_invented(paris: Scenario) -> None:
    assert not [e for e in paris.timeline if e.condition in ("ceasefire", "peace_agreement")]
    ceasefire = next(c for c in paris.conditions if c.name == "ceasefire")
    assert ceasefire.evidence == Evidence.UNKNOWN and ceasefire.expression == ""


def test_reported_numbers_keep_their_source(paris: Scenario) -> None:
    def personnel(nation: str) -> int:
        return sum(p.units * p.personnel_per_unit for p in paris.pledges if p.nation == nation)

    assert personnel("GBR") < 7500  # The Times: fewer than 7,500
    assert 5000 <= personnel("FRA") <= 6000  # Le Monde: up to about 6,000
    assert personnel("GBR") + personnel("FRA") <= 15000
    estonia = next(p for p in paris.pledges if p.nation == "EST" and p.capability == "inf_coy")
    assert estonia.evidence == Evidence.REPORTED and "ERR" in estonia.source


def test_geography(paris: Scenario) -> None:
    ukrainian = [h for h in paris.hubs if h.country == "UKR"]
    assert 10 <= len(ukrainian) <= 14
    assert {r.country for r in paris.rear_nodes} >= {"POL", "ROU"}
    names_ = " ".join(r.name for r in paris.rear_nodes)
    assert "Rzeszow" in names_ and "Kogalniceanu" in names_
    hubs = {h.id for h in paris.hubs}
    assert all(c.hub in hubs for c in paris.corridors)
    assert every_hub_reachable(paris)
    assert paris.contact_line is not None and len(paris.contact_line.points) == 16
    assert paris.contact_line.evidence == Evidence.APPROXIMATE and paris.contact_line.buffer_km > 0
    assert all(h.geonameid for h in ukrainian)


def every_hub_reachable(paris: Scenario) -> bool:
    served = {c.hub for c in paris.corridors}
    return all(h.id in served for h in paris.hubs)


def test_three_force_options_near_the_iiss_sizes(paris: Scenario) -> None:
    caps = {c.code: c.personnel for c in paris.capabilities}
    sizes = {}
    for option in paris.force_options:
        lines = paris.requirements_of(option.id)
        sizes[option.id] = sum(caps[r.capability] * r.quantity for r in lines)
        assert option.evidence == Evidence.REPORTED and "IISS" in option.source
        assert all(r.evidence == Evidence.ILLUSTRATIVE for r in lines)
        assert {r.priority for r in lines} >= {"essential", "important"}
    assert 9000 <= sizes["small"] <= 11000
    assert 22000 <= sizes["medium"] <= 28000
    assert 55000 <= sizes["large"] <= 70000


def test_pledges_leave_gaps_in_the_larger_options(paris: Scenario) -> None:
    caps = {c.code: c.personnel for c in paris.capabilities}
    pledged = sum(p.units * p.personnel_per_unit for p in paris.pledges)
    need = {o.id: sum(caps[r.capability] * r.quantity for r in paris.requirements_of(o.id))
            for o in paris.force_options}
    assert pledged > need["small"]  # the small option can be filled
    assert pledged < need["large"] / 2  # the large one cannot, even with every condition met


def test_capability_catalogue(paris: Scenario) -> None:
    codes = {c.code for c in paris.capabilities}
    assert {"inf_bn", "hq_bde", "engineers", "eod", "mcm_vessel", "ftr_sqn", "isr", "airlift",
            "med_r2", "med_r3", "log_bn", "trg_team", "mp", "cbrn", "signals"} <= codes
    assert all(c.personnel > 0 for c in paris.capabilities)
