"""The gap picture: requirement lines of a force option against the pledges active at a date.

Calls the same pure force-generation functions as ``coalition gaps`` (and the CLI's own input
resolution) through :mod:`coalition.api.releasability`, which applies the releasability policy
of derived data.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query

from coalition.api.deps import Context, Ctx
from coalition.api import releasability
from coalition.api.routers.common import ScenarioRef, current_scenario
from coalition.auth.scope import restrict
from coalition.auth.rules import PUBLIC
from coalition.scenario.schemas import Scenario

router = APIRouter(prefix="/api", tags=["gaps"])


def compute_gaps(ctx: Ctx, sid: int, sc: Scenario, option: str, at: str | None,
                 assume: list[str]) -> dict[str, Any]:
    """The gap picture for the caller, under the releasability policy of derived data."""
    restrict(ctx.principal, "gaps.view", lambda _r: PUBLIC)
    return releasability.gaps_for(sc, releasability.reader_view(ctx, sid, sc), option, at,
                                  assume)


@router.get("/gaps", summary="Fill of every requirement line of a force option, with reasons")
def get_gaps(
    ctx: Context,
    option: Annotated[str, Query(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")],
    at: Annotated[date | None, Query(description="default: C-day if known or assumed, else today")] = None,
    assume: Annotated[list[str], Query(max_length=20, description="NAME=VALUE, repeatable")] = [],  # noqa: B006
    scenario: ScenarioRef = None,
) -> Any:
    sid, sc = current_scenario(ctx, scenario)
    # ready JSON: FastAPI's re-encoding of a ~40 KB picture would cost more than the cached hit
    return releasability.json_answer(compute_gaps(ctx, sid, sc, option,
                                                  at.isoformat() if at else None, assume))
