"""Sustainment front door: scenario + plan -> the sustainment report.

:func:`build_report` is pure (typed values in, a typed report out). The two loaders around it
touch other packages through their public entry points only: :func:`plan_for` runs the planner
(:func:`coalition.planner.service.plan_option`) when no plan file is given, and
:func:`inventory_on_hand` reads tracked Class V stock from the custody inventory
(:func:`coalition.inventory.service.inventory_summary`) in a session the caller owns.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from coalition.errors import InputError, Problem
from coalition.scenario.schemas import Assumption, Scenario, SupplyClass
from coalition.sustain.classv import ClassVDays, legal_class_v_days
from coalition.sustain.demand import HubRange, PlanView, hub_ranges, plan_view
from coalition.sustain.factors import FactorTable, load_factors
from coalition.sustain.flows import Flow, resupply_flows
from coalition.sustain.medical import MedicalPicture, medical_picture
from coalition.sustain.precedence import Violation, check_precedence
from coalition.sustain.stock import OnHand, StockLine, stock_lines


@dataclass(frozen=True)
class SustainReport:
    scenario: Scenario
    view: PlanView
    ranges: tuple[HubRange, ...]
    stock: tuple[StockLine, ...]
    class_v: Mapping[str, ClassVDays]
    medical: MedicalPicture
    precedence: tuple[Violation, ...]
    table: FactorTable
    flows: tuple[Flow, ...] = ()

    @property
    def assumed(self) -> dict[str, str]:
        s = self.scenario.sustainment
        return {"climate": s.climate, "ration_cycle": s.ration_cycle, "activity": s.activity}

    def flags(self) -> list[str]:
        """Every caveat a figure of the report depends on, once."""
        out: dict[str, None] = {}
        for r in self.ranges:
            for d in r.demand.values():
                for f in d.flags:
                    out[f] = None
        for s in self.stock:
            for f in s.flags:
                out[f] = None
        from coalition.sustain.medical import medical_flags

        for f in medical_flags(self.scenario):
            out[f] = None
        if self.medical.air_used:
            out["medical: MEDEVAC lift not rationed (one helicopter present serves every hub in reach)"] = None
        return sorted(out)

    def to_json(self) -> dict[str, Any]:
        from coalition.sustain.report import report_json

        return report_json(self)


def build_report(
    scenario: Scenario,
    view: PlanView,
    *,
    table: FactorTable | None = None,
    on_hand: Mapping[tuple[str, SupplyClass], OnHand] | None = None,
    holds: Mapping[str, bool] | None = None,
) -> SustainReport:
    """Demand, stock, legal Class V days, medical coverage and precedence of one plan (pure)."""
    table = table or load_factors()
    ranges = tuple(hub_ranges(view, scenario, table))
    stock = tuple(stock_lines(scenario, ranges, on_hand=on_hand, holds=holds))
    peak_v: dict[str, float | None] = {}
    for r in ranges:
        v = r.demand[SupplyClass.V].per_day
        prev = peak_v.get(r.hub, 0.0)
        peak_v[r.hub] = None if v is None or prev is None else max(prev, v)
    class_v = {hub: legal_class_v_days(scenario, hub, v) for hub, v in sorted(peak_v.items())}
    return SustainReport(
        scenario,
        view,
        ranges,
        stock,
        class_v,
        medical_picture(view, scenario),
        tuple(check_precedence(view.lines, scenario)),
        table,
        tuple(resupply_flows(scenario, ranges, holds)),
    )


def condition_holds(scenario: Scenario, assumptions: Sequence[Assumption], at: date) -> dict[str, bool]:
    """Which host-nation-support conditions are known to hold at ``at`` (unknown = False)."""
    from coalition.conditions.engine import ConditionEngine, Truth

    engine = ConditionEngine(scenario, tuple(assumptions))
    out = {}
    for s in scenario.sustainment.host_nation:
        if s.condition:
            out[s.condition] = engine.evaluate(s.condition, at).value is Truth.TRUE
    return out


def read_plan_file(path: Path, option: str) -> PlanView:
    """The plan of ``option`` from a ``coalition plan --json`` file or one ``plan-<option>.json``."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError([Problem("no such file", file=str(path), field="--plan")]) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError([Problem(f"not a readable JSON plan ({exc})", file=str(path), field="--plan")]) from None
    plans = data.get("plans") if isinstance(data, dict) and "plans" in data else [data]
    if not isinstance(plans, list):
        raise InputError([Problem("'plans' must be a list of plans", file=str(path), field="plans")])
    for i, p in enumerate(plans):
        if isinstance(p, dict) and p.get("option") == option:
            return plan_view(p, file=f"{path}" + (f" plans[{i}]" if len(plans) > 1 else ""))
    found = [str(p.get("option")) for p in plans if isinstance(p, dict)]
    raise InputError(
        [
            Problem(
                f"the plan file has no plan for option {option!r}",
                file=str(path),
                field="option",
                hint="plans for: " + (", ".join(found) or "(none)"),
            )
        ]
    )


def plan_for(
    scenario: Scenario,
    option: str,
    *,
    assumptions: Sequence[Assumption] = (),
    at: date | None = None,
    time_limit: float = 20.0,
    seed: int = 0,
    period_days: int = 28,
) -> tuple[PlanView, Any]:
    """The plan ``coalition plan`` gives for the same arguments, as a view (explanations on, as
    there, because they take a share of the time budget)."""
    from coalition.planner.schemas import PlanOptions
    from coalition.planner.service import plan_option

    opts = PlanOptions(time_limit=time_limit, seed=seed, period_days=period_days)
    outcome, cday = plan_option(scenario, option, assumptions=assumptions, at=at, options=opts, explain=True)
    return plan_view(outcome.plan.model_dump(mode="json")), cday


def inventory_on_hand(
    session: Any,
    scenario: Scenario,
    catalogue: Any = None,
) -> tuple[dict[tuple[str, SupplyClass], OnHand], list[str]]:
    """Class V on hand per hub from the custody inventory (gross kg from the depot catalogue:
    ``catalogue``, default the scenario's; the ledger's own is ``ledger_network(...).catalogue``).

    Lots whose item type the catalogue does not know are not counted, and named."""
    from coalition.inventory.service import inventory_summary

    items = (catalogue or scenario.depots.catalogue).item_by_id
    out: dict[tuple[str, SupplyClass], OnHand] = {}
    unknown: list[str] = []
    for row in inventory_summary(session, by=("hub", "item_type")):
        if row.get("kind") != "lot" or not row.get("hub"):
            continue
        item = items.get(str(row["item_type"]))
        if item is None:
            unknown.append(f"{row['hub']}: item type {row['item_type']} not in the scenario catalogue")
            continue
        key = (str(row["hub"]), SupplyClass.V)
        prev = out.get(key, OnHand(0.0, "inventory")).quantity
        quantity = row["quantity"]
        if not isinstance(quantity, int):  # inventory_summary counts whole units
            raise TypeError(f"inventory quantity {quantity!r} at {row['hub']} is not a whole number")
        out[key] = OnHand(prev + quantity * item.gross_kg, "inventory")
    return out, unknown
