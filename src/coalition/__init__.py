"""coalition: plan and run a multinational reassurance force.

Conditional pledges become a feasible, time-phased force (``scenario``, ``conditions``,
``forcegen``, ``planner``); protected depots follow the ammunition-safety rules (``depots``);
custody of every weapon is proven by a signed Merkle log (``ledger``); a CLI, REST API and
dashboard share the same services.

The names in ``__all__`` are the library surface for a Python user or a notebook::

    import coalition
    scenario = coalition.load_scenario()              # the embedded paris-2026 scenario
    picture = coalition.gap_picture(scenario, "medium", date(2026, 9, 1))
    outcome, cday = coalition.plan(scenario, "medium")

They are imported on first use (PEP 562), so ``import coalition`` stays cheap and the CLI does
not pay for the solver, the database layer or the web stack it does not need. ``docs/api.md`` is
generated from these names' docstrings by ``tools/gen_api_doc.py``; a test keeps the two equal.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> (module, attribute). Grouped as docs/api.md presents them.
_EXPORTS: dict[str, tuple[str, str]] = {
    # scenario
    "load_scenario": ("coalition.scenario.service", "load_scenario"),
    "validate_scenario": ("coalition.scenario.service", "validate_path"),
    "save_scenario": ("coalition.scenario.service", "save_scenario"),
    "Scenario": ("coalition.scenario.schemas", "Scenario"),
    # conditions
    "parse_assumptions": ("coalition.conditions.engine", "parse_assumptions"),
    "evaluate_condition": ("coalition.conditions.engine", "evaluate"),
    "ConditionEngine": ("coalition.conditions.engine", "ConditionEngine"),
    "c_day": ("coalition.conditions.engine", "c_day"),
    # force generation and planning
    "gap_picture": ("coalition.forcegen.gaps", "gap_picture"),
    "plan": ("coalition.planner.service", "plan_option"),
    "PlanOptions": ("coalition.planner.schemas", "PlanOptions"),
    "check_plan": ("coalition.planner.check", "check_plan"),
    # depots
    "check_depot": ("coalition.depots.rules", "check_depot"),
    "load_rulebook": ("coalition.depots.rulebook", "load_rulebook"),
    # custody ledger
    "verify_bundle": ("coalition.ledger.verifier", "verify_bundle"),
    "verify_log": ("coalition.ledger.verify", "verify_log"),
    # errors
    "CoalitionError": ("coalition.errors", "CoalitionError"),
    "InputError": ("coalition.errors", "InputError"),
    "ScenarioError": ("coalition.errors", "ScenarioError"),
    "NotFoundError": ("coalition.errors", "NotFoundError"),
    "PermissionDeniedError": ("coalition.errors", "PermissionDeniedError"),
    "ConflictError": ("coalition.errors", "ConflictError"),
    "IntegrityError": ("coalition.errors", "IntegrityError"),
    "Problem": ("coalition.errors", "Problem"),
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    try:
        module, attribute = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'coalition' has no attribute {name!r}") from None
    value = getattr(import_module(module), attribute)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # static checkers see the real objects
    from coalition.conditions.engine import ConditionEngine, c_day, parse_assumptions
    from coalition.conditions.engine import evaluate as evaluate_condition
    from coalition.depots.rulebook import load_rulebook
    from coalition.depots.rules import check_depot
    from coalition.errors import (
        CoalitionError,
        ConflictError,
        InputError,
        IntegrityError,
        NotFoundError,
        PermissionDeniedError,
        Problem,
        ScenarioError,
    )
    from coalition.forcegen.gaps import gap_picture
    from coalition.ledger.verifier import verify_bundle
    from coalition.ledger.verify import verify_log
    from coalition.planner.check import check_plan
    from coalition.planner.schemas import PlanOptions
    from coalition.planner.service import plan_option as plan
    from coalition.scenario.schemas import Scenario
    from coalition.scenario.service import load_scenario, save_scenario
    from coalition.scenario.service import validate_path as validate_scenario
