"""The gap picture: allocation and every gap reason, on tiny scenarios checked by hand."""

from __future__ import annotations

from datetime import date

import pytest

from coalition.errors import InputError
from coalition.forcegen.gaps import gap_picture, phase_label
from coalition.forcegen.schemas import GAP_ORDER, ForceGenOptions
from coalition.scenario.schemas import Assumption, ConditionDef, Event, PledgeState

from .builders import line, pledge, scenario

AT = date(2026, 7, 1)
CEASE = (Assumption(condition="ceasefire", on=date(2026, 6, 1)),)
CONDS = (ConditionDef(name="ceasefire"), ConditionDef(name="us_backstop"), ConditionDef(name="parliament.DEU"))


def picture(lines, pledges, assume=CEASE, **kw):
    s = scenario(requirements=tuple(lines), pledges=tuple(pledges), conditions=CONDS, **kw)
    return gap_picture(s, "opt", AT, assume)


def codes(fill):
    return [r.code for r in fill.reasons]


def test_filled_line_has_no_reasons() -> None:
    g = picture([line(quantity=2)], [pledge(units=3, personnel_per_unit=550)])
    f = g.line("r1")
    assert f.filled and f.filled_units == 2 and f.reasons == ()
    assert f.required_personnel == 2 * 600  # capability's typical personnel
    assert f.filled_personnel == 2 * 550  # the pledge's own
    assert [(a.pledge, a.hub, a.units) for a in f.assignments] == [("p1", "west", 2)]
    assert g.fill_rate == 1.0


def test_no_pledge() -> None:
    g = picture([line(capability="med2")], [pledge()])
    assert codes(g.line("r1")) == ["no-pledge"]
    assert "Medical role 2" in g.line("r1").reasons[0].message


def test_inactive_because_of_condition_names_nations() -> None:
    g = picture(
        [line()],
        [pledge("d1", nation="DEU", condition="all(ceasefire, us_backstop, parliament.DEU)")],
        assume=CEASE + (Assumption(condition="us_backstop", value=False),),
    )
    (r,) = g.line("r1").reasons
    assert r.code == "inactive:us_backstop" and r.nations == ("DEU",) and r.pledges == ("d1",)
    assert "us_backstop is false" in r.message


def test_unknown_condition() -> None:
    g = picture([line()], [pledge(condition="parliament.DEU")])
    assert codes(g.line("r1")) == ["unknown:parliament.DEU"]


def test_withdrawn_expired_not_yet() -> None:
    g = picture(
        [line(quantity=3)],
        [pledge("w", state="withdrawn"), pledge("e", expiry_date=date(2026, 6, 1)), pledge("o", state="offered")],
    )
    assert codes(g.line("r1")) == ["withdrawn", "expired"] + ["quantity"]
    s = scenario(requirements=(line(),), pledges=(pledge("o", state="offered"),))
    g2 = gap_picture(s, "opt", AT, CEASE, options=ForceGenOptions(min_state=PledgeState.COMMITTED))
    assert codes(g2.line("r1")) == ["state:offered"]


@pytest.mark.parametrize(
    ("caveats", "hub", "code"),
    [
        ({"allowed_countries": ["POL"]}, "west", "caveat:country"),
        ({"allowed_regions": ["east"]}, "west", "caveat:region"),
        ({"min_distance_km": 100}, "east", "caveat:distance"),
        ({}, "front", "caveat:buffer"),
    ],
)
def test_caveat_excludes_the_place(caveats, hub, code) -> None:
    g = picture([line(hub=hub)], [pledge(nation="DEU", caveats=caveats)])
    (r,) = g.line("r1").reasons
    assert r.code == code and r.nations == ("DEU",) and r.units == 1
    assert "caveat excludes the place" in r.message


def test_caveat_role() -> None:
    g = picture([line(role="patrol")], [pledge(caveats={"excluded_roles": ["patrol"]})])
    assert codes(g.line("r1")) == ["caveat:role"]
    assert "caveat excludes the task" in g.line("r1").reasons[0].message


def test_readiness_and_window() -> None:
    g = picture([line(start_day=30)], [pledge("slow", notice_days=40), pledge("late", available_from_day=60)])
    f = g.line("r1")
    assert codes(f) == ["readiness", "window"]
    assert "arrives day 41" in f.reasons[0].message


def test_quantity_short_after_higher_priority_line() -> None:
    # one battalion, two lines: the essential line takes it even though it starts later
    lines = [line("imp", priority="important", start_day=30), line("ess", priority="essential", start_day=60)]
    g = picture(lines, [pledge()])
    assert g.line("ess").filled
    (r,) = g.line("imp").reasons
    assert r.code == "quantity" and "to lines served first (ess)" in r.message


def test_priority_then_start_day_then_id() -> None:
    lines = [line("b", start_day=60), line("a", start_day=60), line("c", start_day=30)]
    g = picture(lines, [pledge(units=2)])
    assert [g.line(x).filled for x in ("a", "b", "c")] == [True, False, True]


def test_quickest_pledge_first() -> None:
    g = picture([line()], [pledge("slow", notice_days=20), pledge("fast", notice_days=5)])
    assert [a.pledge for a in g.line("r1").assignments] == ["fast"]


def test_reasons_most_specific_first_and_units_add_up() -> None:
    pledges = [
        pledge("q", nation="FRA"),  # eligible, used
        pledge("slow", nation="ITA", notice_days=90),  # readiness
        pledge("cav", nation="POL", caveats={"allowed_countries": ["POL"]}),  # caveat
        pledge("off", nation="DEU", condition="us_backstop"),  # unknown
        pledge("no", nation="NLD", condition="all(ceasefire, not(ceasefire))"),  # inactive
    ]
    g = picture([line(quantity=10)], pledges)
    f = g.line("r1")
    assert codes(f) == ["inactive:ceasefire", "unknown:us_backstop", "caveat:country", "readiness", "quantity"]
    assert sum(r.units for r in f.reasons) == 5  # every pledged unit counted once
    cats = [GAP_ORDER.index(r.category) for r in f.reasons]
    assert cats == sorted(cats)


def test_region_line_assigns_first_eligible_hub() -> None:
    g = picture([line(region="east")], [pledge()])
    (a,) = g.line("r1").assignments
    assert a.hub == "east"  # front is in the buffer zone
    assert g.line("r1").place == "east" and g.line("r1").place_kind == "region"


def test_region_without_hub() -> None:
    g = picture([line(region="nowhere")], [pledge()])
    assert codes(g.line("r1")) == ["no-hub"]


def test_fill_cells_and_phases() -> None:
    lines = [line("a", quantity=2), line("b", quantity=2), line("c", start_day=60, capability="eng")]
    g = picture(lines, [pledge(units=3)])
    cells = {(c.capability, c.place, c.phase): c for c in g.cells}
    assert cells[("inf_bn", "west", "D+30")].required_units == 4
    assert cells[("inf_bn", "west", "D+30")].filled_units == 3
    assert cells[("inf_bn", "west", "D+30")].fill_rate == 0.75
    assert cells[("eng", "west", "D+60")].fill_rate == 0.0
    assert phase_label(-5) == "D-5" and phase_label(0) == "D+0"


def test_in_window_uses_day_from_c_day() -> None:
    g = picture([line("now", start_day=0, end_day=40), line("later", start_day=60)], [])
    assert g.activation.day == 30
    assert (g.line("now").in_window, g.line("later").in_window) == (True, False)
    g2 = picture([line()], [], assume=())
    assert g2.activation.c_day is None and g2.line("r1").in_window is None


def test_unknown_option() -> None:
    s = scenario()
    with pytest.raises(InputError) as info:
        gap_picture(s, "otp", AT)
    assert "did you mean 'opt'" in (info.value.problems[0].hint or "")


def test_json_shape() -> None:
    g = picture([line(quantity=2)], [pledge(), pledge("x", condition="us_backstop")])
    js = g.to_json()
    assert js["totals"]["required_units"] == 2 and js["totals"]["filled_units"] == 1
    assert js["lines"][0]["reasons"][0]["code"] == "unknown:us_backstop"
    assert js["lines"][0]["short_units"] == 1
    assert js["by_priority"]["important"]["lines"] == 1
    assert js["activation"]["pledges"][1]["status"] == "unknown"
    import json

    json.dumps(js)  # plain JSON values only


def test_assumption_that_activates_a_pledge_never_lowers_fill() -> None:
    pledges = [pledge("a", condition="us_backstop"), pledge("b")]
    lines = [line(quantity=2)]
    before = picture(lines, pledges).filled_units
    after = picture(lines, pledges, assume=CEASE + (Assumption(condition="us_backstop", value=True),)).filled_units
    assert (before, after) == (1, 2)
