"""Sustainment of a finished plan run: daily demand per hub and class, days of supply, legal
Class V days, 10-1-2 medical coverage. Thin: :func:`coalition.sustain.views.visible_sustainment`
computes ``coalition sustain``'s report from the reader's view of the plan (the releasability
policy of derived data); the routes return one section each, typed below."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from coalition.api.deps import Context
from coalition.api.routers.plans import get_job
from coalition.sustain.views import section, visible_sustainment

router = APIRouter(prefix="/api/sustain", tags=["sustainment"])

JobId = Annotated[int, Path(ge=1, le=2**31 - 1, description="a finished plan run (POST /api/plans)")]
ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such plan run"},
    409: {"description": "the run is not finished (queued, running, failed or cancelled)"},
    422: {
        "description": "bad path parameter, or the scenario's sustainment data is invalid for this plan "
        "(e.g. a hub without coordinates, a MEDEVAC pledge without a base): problems named"
    },
}


class _Open(BaseModel):
    # unit-keyed fields (demand_kg / demand_l, on_hand_kg ...) carry the unit in the key
    model_config = ConfigDict(extra="allow")


class Header(BaseModel):
    plan: int
    scenario: str
    option: str
    illustrative: bool
    horizon_days: int
    c_day: str | None
    redacted: bool = Field(description="true: computed from the pledges visible to you only")
    basis: str
    flags: list[str] = Field(description="every caveat a figure depends on (illustrative, unverified, unknown)")


class ClassCell(_Open):
    dos_on_hand: float | None
    flags: list[str]


class Resupply(BaseModel):
    dry_t: float | None
    water_m3: float | None
    fuel_m3: float | None
    tonnes: float | None


class DemandRange(BaseModel):
    start_day: int
    end_day: int
    personnel: int
    classes: dict[str, ClassCell]
    resupply: Resupply | None


class DemandHub(BaseModel):
    hub: str
    name: str
    region: str | None
    resupply_peak_t_per_day: float | None
    corridor_capacity_into_hub_t_per_day: float | None
    ranges: list[DemandRange]


class DemandOut(Header):
    assumed: dict[str, str]
    units: dict[str, str]
    factor_sources: Any
    hubs: list[DemandHub]


class StockRow(_Open):
    dos_on_hand: float | None
    runs_out_day: int | None
    below_min: bool | None
    flags: list[str]


class DosHub(BaseModel):
    hub: str
    stock: list[StockRow]


class DosOut(Header):
    hubs: list[DosHub]


class ClassVHub(BaseModel):
    hub: str
    legal_class_v_days: float | None = Field(description="0 where the hub has no licensed storage")
    limiting_hd: str | None
    limiting: str | None = Field(description="the storehouse or exposed site that limits it")
    raise_by: list[str]
    method: str | None
    notes: list[str]
    class_v_target_days: float | None
    class_v_target_is_legal: bool | None


class ClassVDepot(BaseModel):
    place: str
    depots: list[str]
    legal_class_v_days: float | None
    limiting_hd: str | None
    limiting: str | None
    raise_by: list[str]


class ClassVOut(Header):
    hubs: list[ClassVHub]
    depots: list[ClassVDepot]


class MedicalRange(BaseModel):
    hub: str
    start_day: int
    end_day: int
    personnel: int
    constrained_units: int
    role1_minutes: float | None
    role2_minutes: float | None
    role3_minutes: float | None


class Uncovered(BaseModel):
    hub: str
    start_day: int
    end_day: int
    reason: str
    constrained: bool = Field(description="a manoeuvre or training unit is there: 10-1-2 is a hard rule")


class MedicalOut(Header):
    share_within_1h: float | None
    share_within_2h: float | None
    ranges: list[MedicalRange]
    uncovered: list[Uncovered]
    assumptions: list[str]


def _section(ctx: Any, job_id: int, name: str) -> dict[str, Any]:
    run = get_job(ctx, job_id)
    body = visible_sustainment(ctx.db, ctx.principal, run, cache=ctx.state.scenarios)
    ctx.audit("view", "sustainment", f"{job_id}/{name}")
    return section(body, name)


@router.get(
    "/{job_id}/demand",
    response_model=DemandOut,
    responses=ERRORS,
    summary="Daily demand per hub, day range and supply class of a plan, with resupply tonnage",
)
def get_demand(ctx: Context, job_id: JobId) -> Any:
    return _section(ctx, job_id, "demand")


@router.get(
    "/{job_id}/dos",
    response_model=DosOut,
    responses=ERRORS,
    summary="Stock and days of supply per hub and class: on hand, policy, runs-out day, resupply",
)
def get_dos(ctx: Context, job_id: JobId) -> Any:
    return _section(ctx, job_id, "dos")


@router.get(
    "/{job_id}/class-v",
    response_model=ClassVOut,
    responses=ERRORS,
    summary="Legal Class V days per hub against its depots' licences, and what limits them",
)
def get_class_v(ctx: Context, job_id: JobId) -> Any:
    return _section(ctx, job_id, "class_v")


@router.get(
    "/{job_id}/medical",
    response_model=MedicalOut,
    responses=ERRORS,
    summary="10-1-2 medical coverage of a plan: minutes to Role 1/2/3, shares, uncovered hub-days",
)
def get_medical(ctx: Context, job_id: JobId) -> Any:
    return _section(ctx, job_id, "medical")
