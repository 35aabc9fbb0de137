import inspect
import subprocess
import sys
import types
import typing
from datetime import date
from pathlib import Path

import pytest

import coalition
from coalition.errors import CoalitionError, Problem, closest

ROOT = Path(__file__).resolve().parent.parent

# The surface issue 17 names: a notebook user must reach these without deep imports.
REQUIRED = {"load_scenario", "validate_scenario", "evaluate_condition", "ConditionEngine",
            "gap_picture", "plan", "check_depot", "verify_bundle", "verify_log", "CoalitionError"}


def test_public_api_names_the_library_surface() -> None:
    assert set(coalition.__all__) >= REQUIRED
    assert len(coalition.__all__) == len(set(coalition.__all__))


@pytest.mark.parametrize("name", [n for n in coalition.__all__ if n != "__version__"])
def test_every_public_name_resolves_and_is_documented(name: str) -> None:
    obj = getattr(coalition, name)
    assert callable(obj), name
    assert (inspect.getdoc(obj) or "").strip(), f"{name} has no docstring for docs/api.md"
    if inspect.isclass(obj) and issubclass(obj, BaseException):
        assert issubclass(obj, CoalitionError), f"{name} is outside the one exception tree"


def _unreachable(annotation: object, exported: set[int], *, choice: bool) -> list[str]:
    """The coalition types in ``annotation`` that ``import coalition`` does not give. With
    ``choice`` (a parameter) a union needs one member a caller can pass (``Expr | str`` takes a
    string; ``None`` does not count); in a return value every member must resolve."""
    if isinstance(annotation, type):
        own = annotation.__module__.split(".")[0] == "coalition"
        return [f"{annotation.__module__}.{annotation.__qualname__}"] if own and id(annotation) not in exported else []
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [a for a in args if a is not type(None)]
        missing = [_unreachable(a, exported, choice=choice) for a in members]
        if choice and any(not m for m in missing):
            return []
        return [name for m in missing for name in m]
    return [name for a in args for name in _unreachable(a, exported, choice=choice)]


@pytest.mark.parametrize("name", [n for n in coalition.__all__[1:] if not inspect.isclass(getattr(coalition, n))])
def test_a_public_function_needs_no_deep_import(name: str) -> None:
    """Every coalition type a public function takes or returns is itself in ``coalition``
    (``coalition.plan`` takes a ``PlanHooks``, so ``coalition.PlanHooks`` exists)."""
    exported = {id(getattr(coalition, n)) for n in coalition.__all__[1:]}
    hints = typing.get_type_hints(getattr(coalition, name))
    missing = sorted({m for key, hint in hints.items()
                      for m in _unreachable(hint, exported, choice=key != "return")})
    assert not missing, f"coalition.{name} needs {missing}: add them to coalition.__all__"


def test_the_signature_check_sees_a_missing_type() -> None:
    from coalition.planner.engine import PlanHooks

    exported = {id(getattr(coalition, n)) for n in coalition.__all__[1:]} - {id(PlanHooks)}
    assert _unreachable(PlanHooks, exported, choice=True) == ["coalition.planner.engine.PlanHooks"]
    assert _unreachable(PlanHooks | None, exported, choice=True) == ["coalition.planner.engine.PlanHooks"]
    assert _unreachable(PlanHooks | str, exported, choice=True) == []
    assert _unreachable(PlanHooks | str, exported, choice=False) == ["coalition.planner.engine.PlanHooks"]
    assert _unreachable(tuple[PlanHooks, int], exported, choice=False) == ["coalition.planner.engine.PlanHooks"]


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        coalition.nope  # noqa: B018


def test_docs_api_page_matches_all() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "gen_api_doc.py"), "--check"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    page = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    for name in coalition.__all__[1:]:
        assert f"| `{name}` |" in page


def test_import_is_cheap() -> None:
    # The CLI imports coalition first: the solver, the ORM and the web stack load only on use.
    code = ("import sys, coalition; heavy = [m for m in ('highspy', 'sqlalchemy', 'fastapi', "
            "'pandas', 'dask') if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_front_doors_work_together() -> None:
    scenario = coalition.load_scenario()
    picture = coalition.gap_picture(scenario, "medium", date(2026, 9, 1))
    assert picture.option == "medium"
    report = coalition.validate_scenario()
    assert report.ok
    with pytest.raises(coalition.InputError) as bad:
        coalition.gap_picture(scenario, "huge", date(2026, 9, 1))
    assert isinstance(bad.value, CoalitionError)


def test_errors_raised_to_users_join_the_tree() -> None:
    from coalition.auth.service import AuthenticationFailed
    from coalition.dashboard.security import LoginRequired
    from coalition.ledger.notes import NoteError
    from coalition.ledger.trust import TrustError

    for cls in (AuthenticationFailed, LoginRequired, NoteError, TrustError):
        assert issubclass(cls, CoalitionError), cls


def test_problem_names_its_place() -> None:
    p = Problem("unknown nation 'GBX'", file="pledges.csv", row=3, field="nation", hint="did you mean 'GBR'?")
    assert str(p) == "pledges.csv, row 3, field 'nation': unknown nation 'GBX' (did you mean 'GBR'?)"


def test_closest_suggests() -> None:
    assert closest("parliament.GBX", ["parliament.GBR", "ceasefire"]) == "parliament.GBR"
    assert closest("zzz", ["ceasefire"]) is None
