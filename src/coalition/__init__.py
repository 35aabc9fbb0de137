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
    "ValidationReport": ("coalition.scenario.service", "ValidationReport"),
    "Assumption": ("coalition.scenario.schemas", "Assumption"),
    # conditions
    "parse_assumptions": ("coalition.conditions.engine", "parse_assumptions"),
    "evaluate_condition": ("coalition.conditions.engine", "evaluate"),
    "ConditionEngine": ("coalition.conditions.engine", "ConditionEngine"),
    "Verdict": ("coalition.conditions.engine", "Verdict"),
    "c_day": ("coalition.conditions.engine", "c_day"),
    # force generation and planning
    "gap_picture": ("coalition.forcegen.gaps", "gap_picture"),
    "ForceGenOptions": ("coalition.forcegen.schemas", "ForceGenOptions"),
    "ActivationPicture": ("coalition.forcegen.schemas", "ActivationPicture"),
    "GapPicture": ("coalition.forcegen.schemas", "GapPicture"),
    "plan": ("coalition.planner.service", "plan_option"),
    "PlanOptions": ("coalition.planner.schemas", "PlanOptions"),
    "PlanHooks": ("coalition.planner.engine", "PlanHooks"),
    "PlanOutcome": ("coalition.planner.engine", "PlanOutcome"),
    "CDay": ("coalition.planner.service", "CDay"),
    "Plan": ("coalition.planner.schemas", "Plan"),
    "check_plan": ("coalition.planner.check", "check_plan"),
    "PlanCheckReport": ("coalition.planner.check", "CheckReport"),
    # depots
    "check_depot": ("coalition.depots.rules", "check_depot"),
    "Depot": ("coalition.depots.schemas", "Depot"),
    "StockLine": ("coalition.depots.schemas", "StockLine"),
    "Catalogue": ("coalition.depots.schemas", "Catalogue"),
    "DepotCheckReport": ("coalition.depots.rules", "CheckReport"),
    "load_rulebook": ("coalition.depots.rulebook", "load_rulebook"),
    "RuleBook": ("coalition.depots.rulebook", "RuleBook"),
    # custody ledger
    "verify_bundle": ("coalition.ledger.verifier", "verify_bundle"),
    "verify_log": ("coalition.ledger.verify", "verify_log"),
    "Trust": ("coalition.ledger.trust", "Trust"),
    "VerifyReport": ("coalition.ledger.checks", "Report"),
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
    from coalition.conditions.engine import ConditionEngine as ConditionEngine
    from coalition.conditions.engine import Verdict as Verdict
    from coalition.conditions.engine import c_day as c_day
    from coalition.conditions.engine import evaluate as _evaluate
    from coalition.conditions.engine import parse_assumptions as parse_assumptions
    from coalition.depots.rulebook import RuleBook as RuleBook
    from coalition.depots.rulebook import load_rulebook as load_rulebook
    from coalition.depots.rules import CheckReport as _DepotCheckReport
    from coalition.depots.rules import check_depot as check_depot
    from coalition.depots.schemas import Catalogue as Catalogue
    from coalition.depots.schemas import Depot as Depot
    from coalition.depots.schemas import StockLine as StockLine
    from coalition.errors import CoalitionError as CoalitionError
    from coalition.errors import ConflictError as ConflictError
    from coalition.errors import InputError as InputError
    from coalition.errors import IntegrityError as IntegrityError
    from coalition.errors import NotFoundError as NotFoundError
    from coalition.errors import PermissionDeniedError as PermissionDeniedError
    from coalition.errors import Problem as Problem
    from coalition.errors import ScenarioError as ScenarioError
    from coalition.forcegen.gaps import gap_picture as gap_picture
    from coalition.forcegen.schemas import ActivationPicture as ActivationPicture
    from coalition.forcegen.schemas import ForceGenOptions as ForceGenOptions
    from coalition.forcegen.schemas import GapPicture as GapPicture
    from coalition.ledger.checks import Report as _VerifyReport
    from coalition.ledger.trust import Trust as Trust
    from coalition.ledger.verifier import verify_bundle as verify_bundle
    from coalition.ledger.verify import verify_log as verify_log
    from coalition.planner.check import CheckReport as _PlanCheckReport
    from coalition.planner.check import check_plan as check_plan
    from coalition.planner.engine import PlanHooks as PlanHooks
    from coalition.planner.engine import PlanOutcome as PlanOutcome
    from coalition.planner.schemas import Plan as Plan
    from coalition.planner.schemas import PlanOptions as PlanOptions
    from coalition.planner.service import CDay as CDay
    from coalition.planner.service import plan_option as _plan_option
    from coalition.scenario.schemas import Assumption as Assumption
    from coalition.scenario.schemas import Scenario as Scenario
    from coalition.scenario.service import ValidationReport as ValidationReport
    from coalition.scenario.service import load_scenario as load_scenario
    from coalition.scenario.service import save_scenario as save_scenario
    from coalition.scenario.service import validate_path as _validate_path

    # the names that differ from the function or class they stand for
    evaluate_condition = _evaluate
    plan = _plan_option
    validate_scenario = _validate_path
    DepotCheckReport = _DepotCheckReport
    PlanCheckReport = _PlanCheckReport
    VerifyReport = _VerifyReport
