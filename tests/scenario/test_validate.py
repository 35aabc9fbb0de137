"""The pure check_* functions on typed scenarios (no files involved)."""

from __future__ import annotations

from datetime import date

from coalition.scenario import schemas as s
from coalition.scenario.validate import (
    check_conditions,
    check_dates,
    check_duplicates,
    check_numbers,
    check_references,
    check_scenario,
    errors,
)

from .helpers import find


def with_(scenario: s.Scenario, **tables: object) -> s.Scenario:
    return scenario.model_copy(update=tables)


def test_tiny_scenario_is_clean(tiny: s.Scenario) -> None:
    assert check_scenario(tiny) == []


def test_without_locator_the_table_and_index_are_named(tiny: s.Scenario) -> None:
    bad = with_(tiny, pledges=(*tiny.pledges, tiny.pledges[0].model_copy(update={"nation": "ZZZ"})))
    problems = check_references(bad)
    p = find(problems, file="pledges", row=3, field="nation")
    assert p.message == "unknown nation 'ZZZ'"


def test_duplicates_in_every_keyed_table(tiny: s.Scenario) -> None:
    bad = with_(tiny, hubs=tiny.hubs + tiny.hubs[:1], conditions=tiny.conditions + tiny.conditions[:1])
    problems = check_duplicates(bad)
    assert {p.file for p in problems} == {"hubs", "conditions"}
    assert all("duplicate" in p.message for p in problems)


def test_references_of_every_kind(tiny: s.Scenario) -> None:
    bad = with_(
        tiny,
        requirements=(tiny.requirements[0].model_copy(update={"option": "smal", "capability": "inf"}),),
        instruments=(tiny.instruments[0].model_copy(update={"parties": ("AAA", "CCC")}),),
        hubs=(tiny.hubs[0].model_copy(update={"lead_nation": "BBC"}), tiny.hubs[1]),
        pledges=(tiny.pledges[0], tiny.pledges[1].model_copy(update={"rear_node": "RN-9"})),
    )
    problems = check_references(bad)
    assert find(problems, file="requirements", field="option").hint == "did you mean 'small'?"
    assert find(problems, file="requirements", field="capability").message == "unknown capability 'inf'"
    find(problems, file="instruments", field="parties", contains="CCC")
    assert find(problems, file="hubs", field="lead_nation").hint == "did you mean 'BBB'?"
    find(problems, file="pledges", row=2, field="rear_node")


def test_region_caveat_warning_and_option_without_lines(tiny: s.Scenario) -> None:
    caveated = tiny.pledges[0].model_copy(update={"caveats": s.Caveats(allowed_regions=("Wset",))})
    extra = s.ForceOption(id="large", name="Large")
    problems = check_references(with_(tiny, pledges=(caveated, tiny.pledges[1]),
                                      force_options=(*tiny.force_options, extra)))
    assert errors(problems) == []
    assert find(problems, field="allowed_regions").hint == "did you mean 'West'?"
    find(problems, file="force_options", row=2, contains="no requirement lines")


def test_conditions_unknown_names_and_cycles(tiny: s.Scenario) -> None:
    conditions = (
        *tiny.conditions,
        s.ConditionDef(name="a", expression="any(b, ceasefire)"),
        s.ConditionDef(name="b", expression="all(c)"),
        s.ConditionDef(name="c", expression="not(a)"),
        s.ConditionDef(name="selfish", expression="selfish"),
        s.ConditionDef(name="typo", expression="us_backstp"),
    )
    problems = check_conditions(with_(tiny, conditions=conditions))
    cycles = sorted(p.message for p in problems if "cyclic" in p.message)
    assert cycles == ["cyclic derived condition: a -> b -> c -> a",
                      "cyclic derived condition: selfish -> selfish"]
    find(problems, field="expression", contains="us_backstp")


def test_contradictory_events_and_renewal_after_expiry(tiny: s.Scenario) -> None:
    events = (*tiny.timeline, s.Event(on=date(2026, 2, 1), condition="parliament.AAA", value=False))
    late = tiny.pledges[1].model_copy(update={"renewal_date": date(2027, 6, 1)})
    problems = check_dates(with_(tiny, timeline=events, pledges=(tiny.pledges[0], late)))
    assert "both true and false" in find(problems, file="timeline", row=2).message
    assert find(problems, file="pledges", field="renewal_date").severity == "warning"


def test_absurd_numbers_are_warnings(tiny: s.Scenario) -> None:
    huge = tiny.pledges[0].model_copy(update={"personnel_per_unit": 8000, "notice_days": 900})
    problems = check_numbers(with_(tiny, pledges=(huge, tiny.pledges[1])))
    assert {p.field for p in problems} == {"personnel_per_unit", "notice_days"}
    assert all(p.severity == "warning" for p in problems)
    # strict makes them errors
    assert errors(check_scenario(with_(tiny, pledges=(huge, tiny.pledges[1])), strict=True))


def test_geography_warnings(tiny: s.Scenario) -> None:
    from coalition.scenario.validate import check_geography

    assert check_geography(tiny) == []
    # the tiny contact line runs from (50, 37) to (47, 35); buffer 15 km = 7.5 km each side
    on_line = tiny.hubs[1].model_copy(update={"lat": 48.5, "lon": 36.0})
    swapped = tiny.hubs[0].model_copy(update={"lat": -49.8, "lon": 24.0})  # sign error
    short = tiny.corridors[0].model_copy(update={"distance_km": 10})
    problems = check_geography(with_(tiny, hubs=(swapped, on_line), corridors=(short,)))
    assert all(p.severity == "warning" for p in problems)
    assert "buffer zone" in find(problems, file="hubs", row=2).message
    assert "swapped" in (find(problems, file="hubs", row=1).hint or "")
    assert "shorter than the straight line" in find(problems, file="corridors").message
