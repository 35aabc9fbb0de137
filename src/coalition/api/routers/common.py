"""Helpers shared by the routers: the current scenario, markings, serialisation, filters."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import Enum
from typing import Annotated, Any

from fastapi import Query
from pydantic import BaseModel

from coalition.api import workspace
from coalition.api.deps import Ctx
from coalition.api.models import StoredScenario
from coalition.auth.rules import Marking
from coalition.auth.scope import Scope, restrict
from coalition.scenario.schemas import Scenario

ScenarioRef = Annotated[
    str | None,
    Query(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$",
          description="stored scenario id or key; default: the default scenario"),
]


def current_scenario(ctx: Ctx, ref: str | None) -> tuple[int, Scenario]:
    row_id, revision = workspace.scenario_header(ctx.db, ref=ref)

    def load() -> Any:
        return ctx.db.get(StoredScenario, row_id).document  # type: ignore[union-attr]

    return row_id, ctx.state.scenarios.get(row_id, revision, load=load)


def marking_of(ctx: Ctx, scenario_id: int, kind: str,
               key: Callable[[Any], str]) -> Callable[[Any], Marking]:
    """How to find a record's marking: a stored override, else the kind's default."""
    if kind not in workspace.RESTRICTED_KINDS:
        return lambda record: workspace.default_marking(kind, record)
    overrides = workspace.markings(ctx.db, scenario_id=scenario_id, kind=kind)

    def find(record: Any) -> Marking:
        return overrides.get(key(record)) or workspace.default_marking(kind, record)

    return find


def scoped(ctx: Ctx, action: str, scenario_id: int, key: Callable[[Any], str]) -> Scope[Any]:
    """The choke point for scenario records (see :func:`coalition.auth.scope.restrict`)."""
    kind = action.partition(".")[0]
    return restrict(ctx.principal, action, marking_of(ctx, scenario_id, kind, key))


def dump(record: BaseModel | Any) -> Any:
    if isinstance(record, BaseModel):
        return record.model_dump(mode="json")
    return record


def matches(record: Any, filters: dict[str, Any]) -> bool:
    for name, wanted in filters.items():
        if wanted is None:
            continue
        value = getattr(record, name, None)
        if isinstance(value, Enum):
            value = value.value
        if isinstance(value, (tuple, list)):
            if wanted not in [v.value if isinstance(v, Enum) else v for v in value]:
                return False
        elif str(value) != str(wanted):
            return False
    return True


def apply_filters(records: Iterable[Any], filters: dict[str, Any] | None) -> list[Any]:
    if not filters:
        return list(records)
    return [r for r in records if matches(r, filters)]
