"""The planner's sustainment blocks behind one hook (issue 15): medical coverage (10-1-2, hard,
:mod:`coalition.planner.medical`) and resupply flows sharing the corridors
(:mod:`coalition.planner.resupply`).

* :func:`attach` puts their data on the planning tables (``PlanningTables.sustain``);
* :func:`define_blocks` adds their variables and rows to the model (called once by
  :func:`coalition.planner.model.build_model`);
* :func:`complete_values` sets their auxiliary variables from a plan's assignments (greedy plan,
  recomputed solver plan);
* :func:`medical_enforced` / :func:`resupply_section` feed the plan JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING

import numpy as np

from coalition.planner.medical import WORDS as MEDICAL_WORDS
from coalition.planner.medical import MedicalData, define_medical, medical_data, medical_values
from coalition.planner.resupply import WORDS as RESUPPLY_WORDS
from coalition.planner.resupply import ResupplyData, define_resupply, resupply_data, resupply_values
from coalition.planner.resupply import resupply_section as resupply_section  # re-export
from coalition.scenario.schemas import Scenario

if TYPE_CHECKING:
    from coalition.planner.matrix import Model
    from coalition.planner.schemas import PlanOptions
    from coalition.planner.tables import PlanningTables

#: human words of the blocks' families (joined to planner.model.FAMILY_WORDS)
WORDS = {**MEDICAL_WORDS, **RESUPPLY_WORDS}
#: rows the greedy treats as soft (completed afterwards by complete_values)
SOFT_FAMILIES = (
    "Resupply-cover",
    "Medical-air-facility",
    "Medical-air-lift",
    "Medical-role1-line",
    "Medical-role2-line",
)
#: families whose rows a unit can break (the explanations' tight-constraint test)
BLOCKING_FAMILIES = ("Medical-role1-cover", "Medical-role2-cover")


@dataclass(frozen=True)
class SustainTables:
    medical: MedicalData
    resupply: ResupplyData


def _holds(scenario: Scenario, c_day: date | None, assumptions: list[str] | None) -> dict[str, bool]:
    if c_day is None:
        return {}
    from coalition.conditions.engine import parse_assumptions
    from coalition.sustain.service import condition_holds

    texts = [a for a in (assumptions or []) if "=" in a]
    return condition_holds(scenario, parse_assumptions(texts) if texts else (), c_day)


def resupply_conditions(
    scenario: Scenario, options: PlanOptions, c_day: date | None = None, assumptions: list[str] | None = None
) -> dict[str, bool] | None:
    """All that the resupply data of :func:`attach` takes from a world: which host-nation-support
    conditions hold at C-day under the assumptions (``None`` with resupply off). For one scenario,
    option and :class:`PlanOptions`, equal results give equal resupply data."""
    return _holds(scenario, c_day, assumptions) if options.resupply else None


def attach(
    tables: PlanningTables,
    scenario: Scenario,
    options: PlanOptions,
    c_day: date | None = None,
    assumptions: list[str] | None = None,
) -> PlanningTables:
    """The tables with their sustainment data (host-nation shares under a condition count where
    the condition holds at C-day under the plan's assumptions)."""
    med = medical_data(scenario, tables.hub_id, tables.pledge_id, bool(options.medical))
    res = resupply_data(
        scenario,
        tables.pledge_capability,
        tables.hub_id,
        bool(options.resupply),
        resupply_conditions(scenario, options, c_day, assumptions),
    )
    return replace(tables, sustain=SustainTables(med, res))


def define_blocks(m: Model) -> None:
    define_medical(m)
    define_resupply(m)


def complete_values(m: Model, v: np.ndarray) -> np.ndarray:
    return resupply_values(m, medical_values(m, v))


def first_lines(m: Model) -> frozenset[int]:
    """Lines the greedy fills before the others: Role 2/3 facilities (10-1-2 needs them there)."""
    idx = m.sustain_index.get("medical")
    return idx.facility_lines if idx is not None else frozenset()


def medical_enforced(tables: PlanningTables) -> tuple[bool, str]:
    s = getattr(tables, "sustain", None)
    if s is None:
        return False, "10-1-2 not enforced: the model was built without sustainment data"
    return s.medical.enforced, s.medical.why_not
