"""coalition.dashboard.pledges' logic, called directly on the tiny scenario: the list filters,
what the pledge page offers each reader (moves, release, edit), and the parsing of the
transition, release and edit forms, with their problems in the reader's language. The pages
over HTTP and in Chromium: tests/dashboard/test_pledges_page.py, test_journeys.py."""

from __future__ import annotations

import re

import pytest

from api.factories import tiny_scenario
from api.harness import Service, sqlite_svc  # noqa: F401 - fixtures
from coalition.auth.rules import Marking
from coalition.auth.schemas import Principal, Role
from coalition.dashboard.i18n import Lang
from coalition.dashboard.pledges import (
    PledgeFilters,
    edited,
    offers,
    refusal,
    release_codes,
    target_state,
)
from coalition.errors import ConflictError, InputError, PermissionDeniedError, Problem
from coalition.scenario.rules import ScenarioState
from coalition.scenario.schemas import Pledge, PledgeState
from dashboard.test_i18n import _sign_in

EN, FR = Lang("en").gettext, Lang("fr").gettext


def who(nation: str, *roles: Role) -> Principal:
    return Principal(user_id=None, name=f"{nation.lower()}-x", nation=nation, roles=frozenset(roles))


GBR_PLANNER, FRA_PLANNER = who("GBR", Role.PLANNER), who("FRA", Role.PLANNER)
HQ_PLANNER, GBR_VIEWER = who("HQ", Role.PLANNER), who("GBR", Role.VIEWER)


def pledges() -> list[Pledge]:
    """The tiny scenario's two pledges (both conditional), plus an unconditional committed
    British one and a withdrawn French one."""
    gbr, fra = tiny_scenario().pledges
    return [
        gbr,
        fra,
        gbr.model_copy(update={"id": "GBR-log", "capability": "log", "condition": "", "state": PledgeState.COMMITTED}),
        fra.model_copy(update={"id": "FRA-old", "state": PledgeState.WITHDRAWN}),
    ]


def state_with(*extra: Pledge, markings: dict[tuple[str, str], Marking] | None = None) -> ScenarioState:
    sc = tiny_scenario()
    return ScenarioState(scenario=sc.model_copy(update={"pledges": (*sc.pledges, *extra)}), markings=markings or {})


@pytest.mark.parametrize(
    ("filters", "ids"),
    [
        (PledgeFilters(), ["GBR-inf", "FRA-inf", "GBR-log", "FRA-old"]),
        (PledgeFilters(nation="gbr"), ["GBR-inf", "GBR-log"]),  # any case
        (PledgeFilters(capability="log"), ["GBR-log"]),
        (PledgeFilters(state="withdrawn"), ["FRA-old"]),
        (PledgeFilters(condition="conditional"), ["GBR-inf", "FRA-inf", "FRA-old"]),
        (PledgeFilters(condition="unconditional"), ["GBR-log"]),
        (PledgeFilters(condition="anything"), ["GBR-inf", "FRA-inf", "GBR-log", "FRA-old"]),
        (PledgeFilters(nation="FRA", state="offered", condition="conditional"), ["FRA-inf"]),
        (PledgeFilters(nation="FRA", capability="log"), []),
        (PledgeFilters(state="Offered"), []),  # a state is its exact value
    ],
)
def test_filters_keep_the_pledges_that_match_every_field(filters: PledgeFilters, ids: list[str]) -> None:
    assert [p.id for p in pledges() if filters.keep(p)] == ids


def test_the_filter_form_shows_the_nation_upper_cased() -> None:
    form = PledgeFilters(nation="fra", capability="inf-bn", state="offered", condition="unconditional").form()
    assert form == {"nation": "FRA", "capability": "inf-bn", "state": "offered", "condition": "unconditional"}


def test_each_reader_is_offered_only_the_moves_its_nation_and_role_allow() -> None:
    st = state_with()
    gbr = st.pledge("GBR-inf")
    assert gbr is not None and gbr.state == PledgeState.OFFERED
    # Accepting is a headquarters decision; withdrawing is the pledging nation's (or HQ's).
    assert offers(GBR_PLANNER, st, gbr).moves == ["withdrawn"]
    assert offers(HQ_PLANNER, st, gbr).moves == ["accepted", "withdrawn"]
    assert offers(FRA_PLANNER, st, gbr).moves == []  # France moves no British pledge
    assert offers(GBR_VIEWER, st, gbr).moves == []  # a viewer moves nothing


def test_a_committed_pledge_moves_on_and_a_withdrawn_one_is_final() -> None:
    committed, withdrawn = pledges()[2], pledges()[3]
    st = state_with(committed, withdrawn)
    assert offers(GBR_PLANNER, st, committed).moves == ["deployed", "withdrawn"]
    assert offers(HQ_PLANNER, st, withdrawn).moves == []
    assert offers(FRA_PLANNER, st, withdrawn).may_edit is False  # its own, but withdrawn


def test_only_the_originating_planner_may_release_and_only_the_pledging_one_edit() -> None:
    st = state_with()
    gbr = st.pledge("GBR-inf")
    assert gbr is not None
    mine = offers(GBR_PLANNER, st, gbr)
    assert mine.marking == Marking(origin="GBR", releasable_to=("HQ",))  # the default marking
    assert (mine.may_release, mine.may_edit) == (True, True)
    hq = offers(HQ_PLANNER, st, gbr)
    assert (hq.may_release, hq.may_edit) == (False, False)  # HQ may move it, not release or edit it
    assert (offers(GBR_VIEWER, st, gbr).may_release, offers(GBR_VIEWER, st, gbr).may_edit) == (False, False)


def test_a_stored_marking_is_the_one_offered_and_a_released_to_nation_may_not_release_it() -> None:
    marking = Marking(origin="GBR", releasable_to=("HQ", "FRA"))
    st = state_with(markings={("pledge", "GBR-inf"): marking})
    gbr = st.pledge("GBR-inf")
    assert gbr is not None
    fra = offers(FRA_PLANNER, st, gbr)
    assert fra.marking == marking and not fra.may_release and not fra.may_edit


def test_a_transition_form_names_a_state_or_gets_a_problem_in_the_readers_language() -> None:
    assert target_state("verified", EN) == (PledgeState.VERIFIED, [])
    assert target_state("gone", EN) == (None, ["'gone' is not a pledge state."])
    assert target_state("Verified", FR) == (None, ["« Verified » n’est pas un état d’engagement."])


def test_release_codes_are_split_upper_cased_and_checked_against_the_scenario() -> None:
    sc = tiny_scenario()
    assert release_codes("fra, pol  hq,ALL", sc, EN) == (["FRA", "POL", "HQ", "ALL"], [])
    assert release_codes("", sc, EN) == ([], [])  # released to nobody: a valid answer
    codes, problems = release_codes("FRA,usa;x", sc, FR)
    assert codes == ["FRA", "USA;X"]
    assert problems == ["« USA;X » n’est ni une nation du scénario, ni HQ, ni ALL."]
    _codes, problems = release_codes("DEU USA", sc, EN)
    assert problems == [
        "'DEU' is not a nation of the scenario, HQ or ALL.",
        "'USA' is not a nation of the scenario, HQ or ALL.",
    ]


def test_an_edit_changes_only_the_typed_fields_of_the_pledge() -> None:
    current = tiny_scenario().pledges[0]
    form = {"units": "3", "personnel_per_unit": "550", "notice_days": "5", "tour_days": "120", "condition": ""}
    updated, problems = edited(current, form, EN)
    assert problems == [] and updated is not None
    assert (updated.units, updated.personnel_per_unit, updated.notice_days, updated.tour_days) == (3, 550, 5, 120)
    assert updated.condition == "" and current.condition == "ceasefire"
    assert updated.model_dump(exclude=set(form)) == current.model_dump(exclude=set(form))


def test_an_edit_with_bad_numbers_names_each_field() -> None:
    current = tiny_scenario().pledges[0]
    updated, problems = edited(current, {"units": "0", "notice_days": "soon", "tour_days": "90"}, FR)
    assert updated is None
    assert [p.partition(" : ")[0] for p in problems] == ["units", "notice_days"]  # French spacing
    assert all(" : " in p and p.partition(" : ")[2] for p in problems)


@pytest.mark.parametrize(
    ("exc", "code", "problems"),
    [
        (InputError([Problem("units must be positive"), Problem("bad condition")]), 422, None),
        (ConflictError("pledge 'GBR-inf' is withdrawn"), 409, ["pledge 'GBR-inf' is withdrawn"]),
        (PermissionDeniedError("only GBR decides"), 403, ["only GBR decides"]),
    ],
)
def test_a_refused_change_maps_to_its_status_and_problems(
    exc: ConflictError | PermissionDeniedError | InputError, code: int, problems: list[str] | None
) -> None:
    got_code, got = refusal(exc)
    assert got_code == code
    if problems is None:  # each of an input error's problems, not the error's summary
        assert len(got) == 2 and "units must be positive" in got[0] and "bad condition" in got[1]
    else:
        assert got == problems


def _form(html: str) -> dict[str, str]:
    csrf = re.search(r'name="csrf" value="([^"]+)"', html)
    revision = re.search(r'name="revision" value="(\d+)"', html)
    assert csrf and revision, "the page has no change form"
    return {"csrf": csrf.group(1), "revision": revision.group(1)}


def test_the_pages_use_these_helpers(sqlite_svc: Service) -> None:  # noqa: F811
    """Each route over HTTP, once: the filters, the offers, each form's refusal (422, the input
    kept) and a release stored as a new revision."""
    c = _sign_in(sqlite_svc, "gbr-planner")
    listed = c.get("/pledges?nation=gbr&condition=conditional").text
    assert re.findall(r'data-pledge="([^"]+)"', listed) == ["GBR-inf"]
    assert c.get("/pledges?condition=unconditional").text.count("data-pledge=") == 0
    page = c.get("/pledges/GBR-inf").text
    assert 'data-testid="move-withdrawn"' in page and 'data-testid="move-accepted"' not in page
    assert 'data-testid="release-form"' in page and 'data-testid="edit-form"' in page
    form = _form(page)
    bad = c.post("/pledges/GBR-inf/transition", data={**form, "to": "gone"})
    assert bad.status_code == 422 and "&#39;gone&#39; is not a pledge state." in bad.text
    bad = c.post("/pledges/GBR-inf/release", data={**form, "releasable_to": "FRA DEU"})
    assert bad.status_code == 422 and "&#39;DEU&#39; is not a nation" in bad.text and 'value="FRA DEU"' in bad.text
    bad = c.post(
        "/pledges/GBR-inf/edit",
        data={
            **form,
            "units": "0",
            "personnel_per_unit": "600",
            "notice_days": "10",
            "tour_days": "182",
            "condition": "",
        },
    )
    assert bad.status_code == 422 and 'data-testid="problem">units: ' in bad.text and 'value="0"' in bad.text
    ok = c.post("/pledges/GBR-inf/release", data={**form, "releasable_to": "fra"}, follow_redirects=False)
    assert ok.status_code == 303
    assert ok.headers["location"] == f"/pledges/GBR-inf?saved={int(form['revision']) + 1}"
    assert re.search(r'data-testid="released-to">FRA\b', c.get("/pledges/GBR-inf").text)
