"""Invariants of eligibility and of the gap picture on random tiny scenarios."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from coalition.forcegen.eligibility import eligibility
from coalition.forcegen.gaps import gap_picture
from coalition.scenario.schemas import Assumption, Caveats, ConditionDef

from .builders import line, pledge, scenario
from .test_eligibility import lines_st, pledges_st

S = scenario()
AT = date(2026, 7, 1)
CONDS = (ConditionDef(name="ceasefire"), ConditionDef(name="us_backstop"))
conditions = st.sampled_from(["", "ceasefire", "us_backstop", "all(ceasefire, us_backstop)", "not(ceasefire)"])


@settings(max_examples=80, deadline=None)
@given(pledges_st, lines_st)
def test_dropping_caveats_never_adds_exclusions(p, r) -> None:
    with_caveats = {e.code for e in eligibility(p, r, S)}
    without = {e.code for e in eligibility(p.model_copy(update={"caveats": Caveats()}), r, S)}
    # buffer applies to everyone; other caveat codes can only disappear
    assert without <= with_caveats | {"caveat:buffer"}
    assert not any(c.startswith("caveat:") and c != "caveat:buffer" for c in without)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(pledges_st, conditions, st.integers(1, 4)), min_size=0, max_size=5),
    st.lists(lines_st, min_size=1, max_size=4),
    st.sampled_from([(), (Assumption(condition="ceasefire", on=date(2026, 6, 1)),),
                     (Assumption(condition="ceasefire", value=True), Assumption(condition="us_backstop", value=True))]),
)
def test_gap_picture_invariants(raw_pledges, raw_lines, assume) -> None:
    pledges = tuple(
        p.model_copy(update={"id": f"p{k}", "condition": c, "units": u})
        for k, (p, c, u) in enumerate(raw_pledges)
    )
    lines = tuple(r.model_copy(update={"id": f"r{k}", "option": "opt"}) for k, r in enumerate(raw_lines))
    s = scenario(pledges=pledges, requirements=lines, conditions=CONDS)
    g = gap_picture(s, "opt", AT, assume)
    by_id = {p.id: p for p in pledges}
    used: dict[str, int] = {}
    for f in g.lines:
        assert 0 <= f.filled_units <= f.required_units
        assert (f.reasons == ()) == f.filled
        for a in f.assignments:
            used[a.pledge] = used.get(a.pledge, 0) + a.units
            assert g.activation.get(a.pledge).active
            req = next(r for r in lines if r.id == f.line)
            assert eligibility(by_id[a.pledge], req, s, hub=a.hub) == []
        if not f.filled:
            same_cap = [p for p in pledges if p.capability == f.capability]
            # every pledged unit of the capability is counted under exactly one reason
            assert sum(r.units for r in f.reasons if r.code != "no-pledge") == sum(p.units for p in same_cap)
            assert (f.reasons[0].code == "no-pledge") == (not same_cap)
    for pid, n in used.items():
        assert n <= by_id[pid].units
