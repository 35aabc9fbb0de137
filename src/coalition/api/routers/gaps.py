"""The gap picture: requirement lines of a force option against the pledges active at a date.

Thin: the query function :func:`coalition.planner.visible.visible_gaps` calls the same pure
force-generation functions as ``coalition gaps`` (and the shared input resolution) under the
releasability policy of derived data (:mod:`coalition.planner.releasability`); problems are
renamed to the API's fields (``option``, ``assume[i]``).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from coalition.api.contract import api_fields
from coalition.api.deps import Context
from coalition.api.responses import GapPicture
from coalition.api.routers.common import ScenarioRef, current_state
from coalition.errors import InputError
from coalition.planner.visible import visible_gaps_json

router = APIRouter(prefix="/api", tags=["gaps"])


@router.get(
    "/gaps", summary="Fill of every requirement line of a force option, with reasons", response_model=GapPicture
)
def get_gaps(
    ctx: Context,
    option: Annotated[str, Query(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")],
    at: Annotated[date | None, Query(description="default: C-day if known or assumed, else today")] = None,
    assume: Annotated[list[str], Query(max_length=20, description="NAME=VALUE, repeatable")] = [],  # noqa: B006
    scenario: ScenarioRef = None,
) -> Any:
    _sid, _rev, state = current_state(ctx, scenario)
    try:  # a cache miss is computed in the worker pool, within the per-request time limit
        body = visible_gaps_json(
            ctx.principal, state, option, at.isoformat() if at else None, assume, compute=ctx.state.gaps_compute
        )
    except InputError as exc:  # the shared resolution names CLI flags; answer in API names
        raise api_fields(exc, assume=assume) from None
    # ready JSON, encoded once per cached answer: FastAPI's re-encoding of a ~40 KB picture
    # would cost more than the cached hit
    return Response(body, media_type="application/json")
