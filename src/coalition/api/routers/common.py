"""Helpers shared by the routers: the current scenario, markings, serialisation, filters.

The stored scenario, its revisions and markings belong to :mod:`coalition.scenario.store`;
this module only adapts them to a request (the app's cache, the principal's scope, ETags).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import Enum
from typing import Annotated, Any

from fastapi import Query
from pydantic import BaseModel

from coalition.api.deps import Ctx
from coalition.auth.rules import Marking
from coalition.auth.scope import Scope, restrict
from coalition.errors import ConflictError
from coalition.scenario import store
from coalition.scenario.rules import ScenarioState
from coalition.scenario.schemas import Scenario

ScenarioRef = Annotated[
    str | None,
    Query(
        max_length=64,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$",
        description="stored scenario id or key; default: the default scenario",
    ),
]


def current_state(ctx: Ctx, ref: str | None) -> tuple[int, int, ScenarioState]:
    """(id, head revision, state) of the referenced (or default) stored scenario."""
    return store.current_state(ctx.db, ref=ref, cache=ctx.state.scenarios)


def current_scenario(ctx: Ctx, ref: str | None) -> tuple[int, Scenario]:
    sid, _rev, state = current_state(ctx, ref)
    return sid, state.scenario


def etag(revision: int) -> str:
    return f'"{revision}"'


def parse_if_match(value: str | None, current: int) -> int | None:
    """The revision an ``If-Match`` names (``"3"``, ``W/"3"`` or ``3``); None when absent."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.startswith("W/"):
        text = text[2:]
    text = text.strip('"')
    if not text.isdigit():
        raise store.RevisionConflict(
            f'If-Match must be the scenario\'s ETag (e.g. "{current}"), not {value!r}', current_revision=current
        )
    return int(text)


def marking_of(ctx: Ctx, scenario_id: int, kind: str, key: Callable[[Any], str]) -> Callable[[Any], Marking]:
    """How to find a record's marking: the stored override of the head revision, else the
    kind's default."""
    _sid, _rev, state = current_state(ctx, str(scenario_id))
    return lambda record: state.marking(kind, record)


def scoped(ctx: Ctx, action: str, scenario_id: int, key: Callable[[Any], str]) -> Scope[Any]:
    """The choke point for scenario records (see :func:`coalition.auth.scope.restrict`)."""
    kind = action.partition(".")[0]
    return restrict(ctx.principal, action, marking_of(ctx, scenario_id, kind, key))


def state_scope(ctx: Ctx, action: str, state: ScenarioState) -> Scope[Any]:
    kind = action.partition(".")[0]
    return restrict(ctx.principal, action, lambda record: state.marking(kind, record))


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


class StateCache:
    """Answers derived from one cached revision state, keyed by the state object itself (held,
    so its id cannot be reused) and a question; small LRU, thread-safe."""

    def __init__(self, size: int = 512) -> None:
        import threading
        from collections import OrderedDict

        self._items: OrderedDict[tuple[Any, ...], tuple[Any, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size

    def get(self, state: Any, key: tuple[Any, ...]) -> Any:
        with self._lock:
            hit = self._items.get((id(state), *key))
            if hit is not None and hit[0] is state:
                self._items.move_to_end((id(state), *key))
                return hit[1]
        return None

    def put(self, state: Any, key: tuple[Any, ...], value: Any) -> None:
        with self._lock:
            self._items[(id(state), *key)] = (state, value)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


__all__ = [
    "StateCache",
    "ConflictError",
    "ScenarioRef",
    "apply_filters",
    "current_scenario",
    "current_state",
    "dump",
    "etag",
    "marking_of",
    "matches",
    "parse_if_match",
    "scoped",
    "state_scope",
]
