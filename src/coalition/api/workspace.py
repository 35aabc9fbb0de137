"""Stored scenarios and their releasability markings (the service's own persistence).

A stored scenario is the validated JSON of a :class:`Scenario`; the service keeps a parsed copy
per (id, revision) in memory so read endpoints do not re-validate the document on every request.
Loading and validating files is the scenario package's job (``load_scenario``), the same path the
CLI uses; nothing here parses scenario files.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from coalition.api.models import ReleaseMarking, StoredScenario
from coalition.auth.rules import ALL, PUBLIC, Marking
from coalition.auth.schemas import HQ, Principal
from coalition.auth.service import now
from coalition.errors import NotFoundError
from coalition.scenario.schemas import Scenario
from coalition.settings import Settings

# Kinds whose records carry a nation of origin and are restricted by default: released to the
# headquarters (which plans with them) and to nobody else until the originating nation says so.
RESTRICTED_KINDS = ("pledge", "depot")


class ScenarioCache:
    """Parsed scenarios by (row id, revision); small LRU, thread-safe."""

    def __init__(self, size: int = 8) -> None:
        self._items: OrderedDict[tuple[int, int], Scenario] = OrderedDict()
        self._dumps: dict[tuple[int, str], tuple[Scenario, dict[int, Any]]] = {}
        self._lock = threading.Lock()
        self._size = size

    def dumps(self, scenario: Scenario, attr: str) -> dict[int, Any]:
        """JSON values of a scenario's records, computed once per cached scenario (records are
        immutable). Keyed by ``id(record)``; valid while ``scenario`` is the cached object."""
        key = (id(scenario), attr)
        with self._lock:
            hit = self._dumps.get(key)
            if hit is not None and hit[0] is scenario:
                return hit[1]
        values = {id(r): r.model_dump(mode="json") for r in getattr(scenario, attr)}
        with self._lock:
            if len(self._dumps) > 8 * 16:
                self._dumps.clear()
            self._dumps[key] = (scenario, values)
        return values

    def get(self, row_id: int, revision: int, document: Any = None,
            load: Any = None) -> Scenario:
        key = (row_id, revision)
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
                return hit
        scenario = Scenario.model_validate(document if document is not None else load())
        with self._lock:
            self._items[key] = scenario
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return scenario


def load_default(settings: Settings) -> Scenario:
    """The configured scenario (or the embedded paris-2026) through the scenario package."""
    from coalition.scenario.service import load_scenario

    return load_scenario(settings.scenario)


def store_scenario(
    session: Session, *, scenario: Scenario, principal: Principal, make_default: bool = False
) -> StoredScenario:
    if make_default:
        for row in session.scalars(select(StoredScenario).where(StoredScenario.is_default)):
            row.is_default = False
    row = StoredScenario(
        key=scenario.id,
        name=scenario.name,
        document=scenario.model_dump(mode="json"),
        revision=1,
        is_default=make_default,
        origin=principal.nation,
        uploaded_by=principal.name,
        created_at=now(),
    )
    session.add(row)
    session.flush()
    return row


def ensure_default(session: Session, *, settings: Settings) -> StoredScenario | None:
    """Store the configured scenario as the default on first use; None if none can be loaded."""
    row = session.scalar(select(StoredScenario).where(StoredScenario.is_default))
    if row is not None:
        return row
    scenario = load_default(settings)
    system = Principal(user_id=None, name="system", nation=HQ, roles=frozenset())
    return store_scenario(session, scenario=scenario, principal=system, make_default=True)


def list_stored(session: Session) -> list[StoredScenario]:
    return list(session.scalars(select(StoredScenario).order_by(StoredScenario.id)))


def get_stored(session: Session, *, ref: str | None) -> StoredScenario:
    """By numeric id, by key (newest with that key), or the default when ``ref`` is None."""
    if ref is None:
        row = session.scalar(select(StoredScenario).where(StoredScenario.is_default))
        if row is None:
            raise NotFoundError("no default scenario is stored; upload one or restart the service")
        return row
    if ref.isdigit():
        row = session.get(StoredScenario, int(ref))
    else:
        row = session.scalar(
            select(StoredScenario).where(StoredScenario.key == ref).order_by(
                StoredScenario.id.desc()
            )
        )
    if row is None:
        raise NotFoundError(f"scenario '{ref}' not found")
    return row


def scenario_header(session: Session, *, ref: str | None) -> tuple[int, int]:
    """(id, revision) of a stored scenario without loading its document (hot path)."""
    query = select(StoredScenario.id, StoredScenario.revision)
    if ref is None:
        query = query.where(StoredScenario.is_default)
    elif ref.isdigit():
        query = query.where(StoredScenario.id == int(ref))
    else:
        query = query.where(StoredScenario.key == ref).order_by(StoredScenario.id.desc())
    row = session.execute(query.limit(1)).first()
    if row is None:
        if ref is None:
            raise NotFoundError("no default scenario is stored; upload one or restart the service")
        raise NotFoundError(f"scenario '{ref}' not found")
    return int(row[0]), int(row[1])


def replace_document(session: Session, *, row: StoredScenario, scenario: Scenario) -> None:
    """Write a changed scenario back as a new revision (the audit log keeps before/after)."""
    row.document = scenario.model_dump(mode="json")
    row.revision = row.revision + 1
    session.flush()


def default_marking(kind: str, record: Any) -> Marking:
    if kind == "pledge":
        return Marking(origin=record.nation, releasable_to=(HQ,))
    if kind == "depot":
        origin = getattr(record, "nation", None) or getattr(record, "operator", None) or HQ
        return Marking(origin=str(origin), releasable_to=(HQ,))
    return PUBLIC


def markings(session: Session, *, scenario_id: int, kind: str) -> dict[str, Marking]:
    rows = session.scalars(
        select(ReleaseMarking).where(
            ReleaseMarking.scenario_id == scenario_id, ReleaseMarking.kind == kind
        )
    )
    return {
        r.object_id: Marking(origin=r.origin, releasable_to=tuple(r.releasable_to)) for r in rows
    }


def set_marking(
    session: Session, *, scenario_id: int, kind: str, object_id: str, marking: Marking
) -> ReleaseMarking:
    row = session.scalar(
        select(ReleaseMarking).where(
            ReleaseMarking.scenario_id == scenario_id,
            ReleaseMarking.kind == kind,
            ReleaseMarking.object_id == object_id,
        )
    )
    if row is None:
        row = ReleaseMarking(scenario_id=scenario_id, kind=kind, object_id=object_id,
                             origin=marking.origin, releasable_to=list(marking.releasable_to))
        session.add(row)
    else:
        row.origin = marking.origin
        row.releasable_to = list(marking.releasable_to)
    session.flush()
    return row


__all__ = [
    "ALL",
    "RESTRICTED_KINDS",
    "ScenarioCache",
    "default_marking",
    "ensure_default",
    "get_stored",
    "list_stored",
    "load_default",
    "markings",
    "replace_document",
    "scenario_header",
    "set_marking",
    "store_scenario",
]
