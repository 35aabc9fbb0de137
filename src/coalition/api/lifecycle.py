"""Pledge lifecycle transitions (pure).

offered → accepted → verified → committed → deployed, one step at a time; any state except
withdrawn → withdrawn. Accepting and verifying a nation's offer are the headquarters' decisions;
committing, deploying and withdrawing are the nation's (HQ may act for it). The scenario package
defines the states (:class:`PledgeState`); it has no transition rules of its own, so they live
here, beside the only interface that changes a pledge's state.
"""

from __future__ import annotations

from coalition.auth.schemas import HQ, Principal
from coalition.errors import ConflictError, NotFoundError, PermissionDeniedError
from coalition.scenario.schemas import PledgeState, Scenario

ORDER = (
    PledgeState.OFFERED,
    PledgeState.ACCEPTED,
    PledgeState.VERIFIED,
    PledgeState.COMMITTED,
    PledgeState.DEPLOYED,
)
HQ_DECISIONS = frozenset({PledgeState.ACCEPTED, PledgeState.VERIFIED})


def allowed_next(state: PledgeState) -> tuple[PledgeState, ...]:
    if state == PledgeState.WITHDRAWN:
        return ()
    i = ORDER.index(state)
    nxt = (ORDER[i + 1],) if i + 1 < len(ORDER) else ()
    return nxt + (PledgeState.WITHDRAWN,)


def transition(
    scenario: Scenario, *, pledge_id: str, to: PledgeState, actor: Principal | None = None
) -> Scenario:
    """Return a new scenario with the pledge moved to ``to``; refuse illegal moves."""
    pledge = next((p for p in scenario.pledges if p.id == pledge_id), None)
    if pledge is None:
        raise NotFoundError(f"pledge '{pledge_id}' not found")
    legal = allowed_next(pledge.state)
    if to not in legal:
        valid = ", ".join(s.value for s in legal) or "none (withdrawn is final)"
        raise ConflictError(
            f"pledge '{pledge_id}' is {pledge.state.value}; it cannot become {to.value} "
            f"(valid next states: {valid})"
        )
    if actor is not None and to in HQ_DECISIONS and actor.nation != HQ:
        raise PermissionDeniedError(
            f"accepting or verifying a pledge is a headquarters decision; {actor.nation} may "
            "commit, deploy or withdraw its own pledges"
        )
    pledges = tuple(p.model_copy(update={"state": to}) if p.id == pledge_id else p
                    for p in scenario.pledges)
    return scenario.model_copy(update={"pledges": pledges})
