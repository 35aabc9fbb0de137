"""The gap picture: requirement lines of a force option against the pledges active at a date.

Calls the same pure force-generation functions as ``coalition gaps`` (and the CLI's own input
resolution), then redacts other nations' pledge detail through the pledge scope.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query

from coalition.api.deps import Context, Ctx
from coalition.api.redact import RESTRICTED, scrub_ids
from coalition.api.routers.common import ScenarioRef, current_scenario, scoped
from coalition.auth.scope import restrict
from coalition.auth.rules import PUBLIC
from coalition.scenario.schemas import Scenario

router = APIRouter(prefix="/api", tags=["gaps"])


def compute_gaps(ctx: Ctx, sid: int, sc: Scenario, option: str, at: str | None,
                 assume: list[str]) -> dict[str, Any]:
    from coalition.cli.gaps_cmds import resolve_inputs
    from coalition.forcegen.gaps import gap_picture

    restrict(ctx.principal, "gaps.view", lambda _r: PUBLIC)
    assumptions, engine, day = resolve_inputs(sc, assume, at, [option])
    picture = gap_picture(sc, option, day, assumptions, engine=engine)
    pledges = scoped(ctx, "pledge.view", sid, lambda p: str(p.id))
    visible = {p.id for p in pledges.filter(sc.pledges)}
    hidden = {p.id for p in sc.pledges} - visible
    return redact_gaps(picture.to_json(explain=True), visible, hidden)


def redact_gaps(data: dict[str, Any], visible: set[str], hidden: set[str]) -> dict[str, Any]:
    """Aggregates stay; another nation's pledge ids and assignments are restricted."""
    out = dict(data)
    lines = []
    for line in data.get("lines", []):
        assignments = [a if a.get("pledge") in visible else
                       {**a, "pledge": RESTRICTED, "nation": RESTRICTED}
                       for a in line.get("assignments", [])]
        reasons = [{**r, "pledges": [p if p in visible else RESTRICTED for p in r.get("pledges", [])],
                    "message": scrub_ids(r.get("message", ""), hidden)}
                   for r in line.get("reasons", [])]
        lines.append({**line, "assignments": assignments, "reasons": reasons})
    out["lines"] = lines
    if "activation" in out and isinstance(out["activation"], dict):
        act = dict(out["activation"])
        if isinstance(act.get("pledges"), list):
            act["pledges"] = [p for p in act["pledges"] if p.get("pledge") in visible]
        out["activation"] = act
    out["redacted"] = True
    return out


@router.get("/gaps", summary="Fill of every requirement line of a force option, with reasons")
def get_gaps(
    ctx: Context,
    option: Annotated[str, Query(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")],
    at: Annotated[date | None, Query(description="default: C-day if known or assumed, else today")] = None,
    assume: Annotated[list[str], Query(max_length=20, description="NAME=VALUE, repeatable")] = [],  # noqa: B006
    scenario: ScenarioRef = None,
) -> dict[str, Any]:
    sid, sc = current_scenario(ctx, scenario)
    return compute_gaps(ctx, sid, sc, option, at.isoformat() if at else None, assume)
