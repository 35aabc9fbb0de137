"""Typed values of the planner: options, objective weights, solver outcomes and the plan.

The :class:`Plan` is the planner's stable output (``coalition plan --json``). Its schema is
versioned by :data:`PLAN_SCHEMA_VERSION` and documented in ``docs/planner/plan-json.md``;
fields are only ever added (with defaults), never renamed or given a new meaning, within one
major version.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

PLAN_SCHEMA_VERSION = "1.0"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# ---------------------------------------------------------------------------------------------
# Inputs: options and weights
# ---------------------------------------------------------------------------------------------


class Weights(_Frozen):
    """Objective weights. Shortfall >> lateness >> cohesion >> transport distance.

    Units: shortfall per unit-day of uncovered requirement, lateness per unit-day late, cohesion
    per (hub, nation) pair present at a hub the nation does not lead, distance per unit-km moved.
    All shortfall and lateness terms are multiplied by the line's priority factor.
    """

    shortfall: float = Field(default=1000.0, gt=0)
    lateness: float = Field(default=10.0, ge=0)
    cohesion: float = Field(default=50.0, ge=0)
    distance: float = Field(default=0.001, ge=0)
    precedence: float = Field(
        default=5000.0,
        ge=0,
        description="per broken enablers-first rule and scope (a hub, a region, the force)",
    )
    sustainment: float = Field(
        default=20.0,
        ge=0,
        description="per tonne-day of resupply the corridors cannot carry (Resupply-unmet): "
        "below a unit-day of shortfall (a unit's tonnage is ~15-60 t/day), above a unit-day late",
    )
    priority_essential: float = Field(default=4.0, gt=0)
    priority_important: float = Field(default=2.0, gt=0)
    priority_desirable: float = Field(default=1.0, gt=0)


class PlanOptions(_Frozen):
    """Everything that shapes the model besides the scenario. Frozen; pass it down whole."""

    period_days: int = Field(default=28, ge=1, le=365, description="length of one period")
    horizon_days: int | None = Field(default=None, ge=1, le=3650, description="None = the scenario's horizon")
    relief_in_place_days: int = Field(
        default=7, ge=0, le=60, description="days an incoming unit overlaps the outgoing one"
    )
    time_limit: float = Field(
        default=60.0,
        gt=0,
        le=86_400,
        description="seconds for the whole plan: building, solving and finishing",
    )
    mip_rel_gap: float = Field(default=1e-4, ge=0, le=1)
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    threads: int = Field(default=1, ge=1, le=64)
    weights: Weights = Weights()
    cohesion: bool = Field(default=True, description="model cohesion (hub-nation binaries)")
    precedence: bool = Field(default=True, description="model the enablers-first rules (Precedence-* blocks)")
    medical: bool = Field(
        default=True,
        description="10-1-2 as a hard constraint (Medical-role1-cover, Medical-role2-cover): no "
        "manoeuvre or training unit at a hub-day without Role 1 within 1 h and Role 2 within 2 h; "
        "applies when the scenario declares medical roles",
    )
    resupply: bool = Field(
        default=True,
        description="resupply flows share corridor tonnage with deployment (Resupply-cover)",
    )
    resupply_segment_days: int = Field(
        default=28,
        ge=1,
        le=365,
        description="days of one constant resupply rate per corridor (it covers every unit "
        "present on any day of the segment)",
    )
    explain_alternatives: int = Field(default=3, ge=0, le=50)
    warm_start: bool = Field(default=True, description="give the greedy plan to HiGHS as a start")
    departure_delays: tuple[int, ...] = Field(
        default=(0,),
        description="days after its earliest possible departure a unit may also leave (each a "
        "column of its own): 0 = earliest only; e.g. (0, 1, 2, 4) lets units share a corridor's "
        "daily capacity on different days",
    )
    max_columns: int = Field(
        default=500_000,
        ge=1,
        description="largest number of Assign-count columns built; a larger model is trimmed to "
        "the earliest-arriving candidates per line (said in the warnings; no bound of the full "
        "model is then claimed)",
    )
    candidates_per_line: int | None = Field(
        default=None,
        ge=1,
        le=10_000,
        description="consider only the N earliest-arriving eligible pledges per line (None = all); "
        "a size control for very large instances, reported as 'candidate-limit' in explanations",
    )


# ---------------------------------------------------------------------------------------------
# Solver outcomes
# ---------------------------------------------------------------------------------------------


class SolveStatus(StrEnum):
    """What the solver achieved. Every one is a result, never an exception."""

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"  # a plan with a proven gap to the bound (gap limit reached)
    TIME_LIMIT = "time-limit"  # stopped by the time limit; the best plan so far
    INTERRUPTED = "interrupted"  # stopped by the user; the best plan so far
    INFEASIBLE = "infeasible"
    NO_SOLUTION = "no-solution"  # stopped before any plan was found
    ERROR = "error"


class Progress(_Frozen):
    """One live report from the solver (for the Rich display)."""

    time: float
    incumbent: float | None
    bound: float | None
    gap: float | None
    nodes: int = 0


class SolveResult(_Frozen):
    """The typed result of one solver run on a model."""

    solver: str
    status: SolveStatus
    objective: float | None = None
    bound: float | None = None
    gap: float | None = None  # relative: |objective - bound| / max(|objective|, 1e-9)
    time: float = 0.0
    nodes: int = 0
    message: str = ""
    bound_provenance: str = "none"  # full-lp | full-lagrangian | full-mip-dual | none
    phase_out_of_time: str | None = None  # the phase the time limit stopped

    @property
    def has_solution(self) -> bool:
        return (
            self.status
            in (
                SolveStatus.OPTIMAL,
                SolveStatus.FEASIBLE,
                SolveStatus.TIME_LIMIT,
                SolveStatus.INTERRUPTED,
            )
            and self.objective is not None
        )


# ---------------------------------------------------------------------------------------------
# The plan (output schema, version PLAN_SCHEMA_VERSION)
# ---------------------------------------------------------------------------------------------


class UnitLine(_Frozen):
    """One movement and tour of one unit: a TPFDD-like unit line."""

    uln: str = Field(description="unit line number, stable for the same inputs")
    nation: str
    pledge: str
    unit: str = Field(description="unit label within the pledge, e.g. 'GBR-inf-1#2'")
    capability: str
    requirement: str
    priority: str
    rear_node: str
    corridor: str
    hub: str
    personnel: int
    tonnage: float
    ready_day: int = Field(description="day the unit can move: activation + notice-to-move")
    departure_day: int
    arrival_day: int
    required_day: int = Field(description="required arrival (relief in place included)")
    days_late: int
    tour_start_day: int
    tour_end_day: int
    rotation: int = Field(description="1 for the first tour on the line, 2 for its relief...")
    ready_date: date | None = None
    departure_date: date | None = None
    arrival_date: date | None = None
    required_date: date | None = None


class NationRotation(_Frozen):
    nation: str
    year: int = Field(description="year of the plan, 1 = first 12 months after C-day")
    units_pledged: int
    tours_started: int
    avg_deployed: float
    peak_deployed: int
    generation_ratio: float | None = Field(
        description="units pledged per unit deployed on average (total:deployed), None if none deployed"
    )


class FillCell(_Frozen):
    capability: str
    hub: str
    period: int
    start_day: int
    required: int
    filled: int


class BindingReason(_Frozen):
    """Why a requirement line is short or late, naming the model's constraint or a cause."""

    code: str = Field(
        description=(
            "no-eligible-pledge | caveat | inactive | readiness | Corridor-personnel-capacity | "
            "Corridor-tonnage-capacity | Hub-personnel-capacity | Pledge-unit-cycle | "
            "Pledge-rotation-budget | Pledge-availability | Line-window | solver-gap"
        )
    )
    constraint: str | None = Field(default=None, description="stable constraint family name")
    message: str
    count: int = Field(default=1, description="how many candidates this reason blocks")
    method: str = Field(default="", description="how it was determined")


class GapExplanation(_Frozen):
    requirement: str
    capability: str
    place: str
    priority: str
    shortfall_unit_periods: float
    shortfall_unit_days: float
    late_unit_days: float
    first_short_day: int | None
    periods_short: list[int]
    reasons: list[BindingReason]


class Alternative(_Frozen):
    pledge: str
    nation: str
    why_not: str
    code: str


class AssignmentExplanation(_Frozen):
    uln: str
    pledge: str
    requirement: str
    why: str
    alternatives: list[Alternative]


class KPIs(_Frozen):
    shortfall_basis: str = Field(
        default="per-period",
        description="per-period: a line's period counts as covered by a unit at the hub on the "
        "period's last day of the line's window; uncovered periods count their days",
    )
    coverage_pct: float
    essential_coverage_pct: float
    shortfall_unit_periods: float
    shortfall_unit_days: float
    late_unit_days: float
    days_to_close: int | None = Field(description="arrival of the last unit of the first rotation")
    units_deployed_peak: int
    personnel_deployed_peak: int
    generation_ratio: float | None
    nations_per_hub_avg: float
    transport_unit_km: float


class SolveSummary(_Frozen):
    solver: str
    status: SolveStatus
    objective: float | None
    bound: float | None
    gap: float | None
    build_seconds: float
    solve_seconds: float
    best_so_far: bool = Field(description="True when the plan is not proven optimal within the gap")
    bound_provenance: str = Field(
        default="none",
        description="where the bound comes from: full-lp (LP relaxation of the full model), "
        "full-lagrangian (column generation stopped early: the Lagrangian bound of that LP), "
        "full-mip-dual (HiGHS's MIP dual bound of the full model) or none (no valid bound; "
        "gap and bound are then null)",
    )
    phase_out_of_time: str | None = Field(
        default=None,
        description="the phase the time limit stopped, when it stopped one: build "
        "(the model could not be built in time: no unit is assigned), column-generation (pricing "
        "the full column set of a model too large to build did not finish), lp, restricted-mip, "
        "full-mip",
    )
    message: str = ""
    check_violations: int | None = Field(
        default=None,
        description="violations the independent checker (coalition plan check) "
        "found in this plan when it was made; 0 = none",
    )
    wall_seconds: float | None = Field(
        default=None, description="wall time of the plan from the tables to its check, seconds"
    )
    variables: int = 0
    constraints: int = 0
    nonzeros: int = 0


class BaselineSummary(_Frozen):
    name: str = "greedy"
    objective: float
    shortfall_unit_days: float
    coverage_pct: float


class PrecedenceBreak(_Frozen):
    """One enablers-first rule broken in one scope: a named gap (the rules are soft, see
    docs/planner/model.md, ``Precedence-order``)."""

    rule: str
    scope: str = Field(description='"force", a hub id or a region')
    before_day: int | None = Field(description="first arrival of a before unit (None: none comes)")
    after_day: int
    after_uln: str
    message: str


class PrecedenceSection(_Frozen):
    rules: list[str] = Field(description="the effective rules the plan was built against")
    broken: list[PrecedenceBreak] = []


class Plan(_Frozen):
    """The planner's output. Schema version :data:`PLAN_SCHEMA_VERSION`."""

    schema_version: str = PLAN_SCHEMA_VERSION
    scenario: str
    scenario_illustrative: bool
    option: str
    at: date | None = None
    c_day: date | None = Field(description="ceasefire day (C-day), when one is assumed or known")
    c_day_assumed: bool = Field(default=False, description="C-day is an illustrative assumption")
    assumptions: list[str] = []
    period_days: int
    horizon_days: int
    seed: int
    weights: Weights
    solve: SolveSummary
    baseline: BaselineSummary | None = None
    kpis: KPIs
    unit_lines: list[UnitLine]
    rotations: list[NationRotation]
    fill: list[FillCell]
    gaps: list[GapExplanation]
    precedence: PrecedenceSection | None = Field(
        default=None, description="enablers first; None when the rules were not modelled"
    )
    medical: dict[str, Any] | None = Field(
        default=None,
        description="10-1-2 medical coverage of the plan's unit lines (coalition.sustain.medical): "
        "ranges per hub and day range with role1/2/3_minutes, share_within_1h/2h, uncovered; "
        "'enforced' says whether the planner held 10-1-2 as a hard constraint",
    )
    resupply: dict[str, Any] | None = Field(
        default=None,
        description="resupply flows in the corridors (planner.resupply): flows per corridor and "
        "day range in t/day, unmet per hub and day range with its reason; None when not modelled",
    )
    assignments: list[AssignmentExplanation]
    active_pledges: list[str]
    inactive_pledges: list[str]
    warnings: list[str] = []
