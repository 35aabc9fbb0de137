"""Pure rules of stored scenarios: lifecycle, ownership of every change kind, upload diffs.

The property test drives random sequences of changes by random principals (typed changes and
whole-document uploads mixing allowed and forbidden edits) and checks every accepted step with
an independent oracle: no pledge is ever changed in a way its rules forbid the principal.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.factories import tiny_scenario
from coalition.auth.schemas import HQ, Principal, Role
from coalition.scenario.rules import (
    EditPledge,
    ImportDocument,
    ScenarioState,
    SetReleasability,
    TransitionPledge,
    allowed_next,
    apply,
    diff,
    refusals,
)
from coalition.scenario.schemas import Pledge, PledgeState

NATIONS = ("GBR", "FRA", "POL", HQ)
STATES = tuple(PledgeState)
LADDER = ["offered", "accepted", "verified", "committed", "deployed"]


def who(nation: str) -> Principal:
    return Principal(user_id=None, name=f"{nation}-p", nation=nation,
                     roles=frozenset({Role.PLANNER}))


def test_lifecycle_is_one_step_and_withdrawn_is_final() -> None:
    assert allowed_next(PledgeState.OFFERED) == (PledgeState.ACCEPTED, PledgeState.WITHDRAWN)
    assert allowed_next(PledgeState.DEPLOYED) == (PledgeState.WITHDRAWN,)
    assert allowed_next(PledgeState.WITHDRAWN) == ()


def test_every_refusal_is_named() -> None:
    state = ScenarioState(tiny_scenario())
    skip = refusals(state, TransitionPledge(pledge="GBR-inf", to=PledgeState.VERIFIED), who(HQ))
    assert [r.rule for r in skip] == ["lifecycle"] and "one step at a time" in skip[0].message
    other = refusals(state, TransitionPledge(pledge="GBR-inf", to=PledgeState.WITHDRAWN),
                     who("FRA"))
    assert [r.rule for r in other] == ["ownership"] and "only GBR" in other[0].message
    hq_edit = refusals(state, EditPledge(pledge=state.pledge("GBR-inf").model_copy(
        update={"units": 3})), who(HQ))
    assert "only GBR changes GBR's pledge, not HQ" in hq_edit[0].message
    release = refusals(state, SetReleasability(object_id="GBR-inf", releasable_to=("ALL",)),
                       who(HQ))
    assert "only GBR decides" in release[0].message


# ---------------------------------------------------------------------------------------------
# The property
# ---------------------------------------------------------------------------------------------


def _pledge_edits(draw, pledge: Pledge) -> Pledge:  # type: ignore[no-untyped-def]
    update: dict[str, object] = {}
    if draw(st.booleans()):
        update["units"] = draw(st.integers(1, 4))
    if draw(st.booleans()):
        update["state"] = draw(st.sampled_from(STATES))
    if draw(st.integers(0, 9)) == 0:
        update["nation"] = draw(st.sampled_from(("GBR", "FRA", "POL")))
    return pledge.model_copy(update=update)


@st.composite
def steps(draw, state: ScenarioState):  # type: ignore[no-untyped-def]
    principal = who(draw(st.sampled_from(NATIONS)))
    sc = state.scenario
    kind = draw(st.sampled_from(("transition", "edit", "add", "release", "import")))
    pid = draw(st.sampled_from([p.id for p in sc.pledges]))
    pledge = state.pledge(pid)
    if kind == "transition":
        return principal, TransitionPledge(pledge=pid, to=draw(st.sampled_from(STATES)))
    if kind == "edit":
        return principal, EditPledge(pledge=_pledge_edits(draw, pledge))
    if kind == "add":
        nation = draw(st.sampled_from(("GBR", "FRA", "POL")))
        new = pledge.model_copy(update={"id": f"{nation}-{draw(st.integers(0, 3))}",
                                        "nation": nation,
                                        "state": draw(st.sampled_from(STATES))})
        return principal, EditPledge(pledge=new)
    if kind == "release":
        to = draw(st.lists(st.sampled_from(("GBR", "FRA", "POL", "HQ", "ALL")), max_size=3))
        return principal, SetReleasability(object_id=pid, releasable_to=tuple(to))
    pledges = [p for p in sc.pledges if draw(st.integers(0, 7)) != 0]  # sometimes drop one
    pledges = [_pledge_edits(draw, p) if draw(st.booleans()) else p for p in pledges]
    update: dict[str, object] = {"pledges": tuple(pledges)}
    if draw(st.integers(0, 4)) == 0:
        update["horizon_days"] = draw(st.integers(100, 700))
    return principal, ImportDocument(scenario=sc.model_copy(update=update))


def oracle_violations(before: ScenarioState, after: ScenarioState, p: Principal) -> list[str]:
    """An independent statement of the rules, over the observable difference."""
    out = []
    old = {x.id: x for x in before.scenario.pledges}
    new = {x.id: x for x in after.scenario.pledges}
    out += [f"{i} removed" for i in old if i not in new]
    for i, n in new.items():
        o = old.get(i)
        if o is None:
            if n.nation != p.nation or n.state != PledgeState.OFFERED:
                out.append(f"{i} added by {p.nation}")
            continue
        if n.nation != o.nation:
            out.append(f"{i} moved nation")
        if n.state != o.state:
            s0, s1 = o.state.value, n.state.value
            if s0 == "withdrawn":
                out.append(f"{i} left withdrawn")
            elif s1 != "withdrawn" and (s1 not in LADDER or LADDER.index(s1) != LADDER.index(s0) + 1):
                out.append(f"{i} skipped {s0}->{s1}")
            if s1 in ("accepted", "verified") and p.nation != HQ:
                out.append(f"{i} {s1} by {p.nation}")
            if s1 not in ("accepted", "verified") and p.nation not in (HQ, o.nation):
                out.append(f"{i} {s1} by {p.nation}")
        content_o = o.model_dump(exclude={"state"})
        if n.model_dump(exclude={"state"}) != content_o:
            if p.nation != o.nation or o.state == PledgeState.WITHDRAWN:
                out.append(f"{i} content changed by {p.nation}")
        m0 = before.marking("pledge", o)
        if after.marking("pledge", n) != m0 and p.nation != m0.origin:
            out.append(f"{i} released by {p.nation}")
    shared = [k for k in ("horizon_days", "hubs", "requirements", "nations")
              if getattr(before.scenario, k) != getattr(after.scenario, k)]
    if shared and p.nation != HQ:
        out.append(f"shared records changed by {p.nation}")
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_changes_never_break_ownership(data: st.DataObject) -> None:
    state = ScenarioState(tiny_scenario())
    allowed = refused = 0
    for _ in range(data.draw(st.integers(5, 25))):
        principal, change = data.draw(steps(state))
        problems = refusals(state, change, principal)
        after = apply(state, change, principal.nation) if not problems else state
        if problems:
            refused += 1
            continue
        allowed += 1
        violations = oracle_violations(state, after, principal)
        assert not violations, (principal.nation, change, violations)
        state = after
    assert allowed + refused > 0


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_every_forbidden_change_in_an_upload_is_named(data: st.DataObject) -> None:
    """An upload is refused iff the oracle finds a violation, and then each refused pledge is
    named in the refusal."""
    state = ScenarioState(tiny_scenario())
    principal, change = data.draw(steps(state).filter(lambda s: isinstance(s[1], ImportDocument)))
    problems = refusals(state, change, principal)
    # the oracle on the would-be result
    result = ScenarioState(change.scenario, state.markings)
    violations = oracle_violations(state, result, principal)
    assert bool(problems) == bool(violations), (problems, violations)
    for v in violations:
        target = v.split()[0]
        if target != "shared":
            assert any(target in str(p) for p in problems), (v, problems)
    assert {d.target for d in diff(state.scenario, change.scenario)} >= {
        v.split()[0] for v in violations if not v.startswith("shared")}
