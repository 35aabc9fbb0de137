"""Stored scenarios: immutable revisions and the one edit path (the CLI and the API share it).

* :func:`create` stores a new scenario (revision 1); its key (the document's ``id``) is unique.
* :func:`edit` applies one typed change (:mod:`coalition.scenario.rules`) to the current
  revision and writes the next one. It takes the scenario's lock first (SQLite ``BEGIN
  IMMEDIATE``, PostgreSQL ``SELECT … FOR UPDATE``), so two writers are serialised; a writer whose
  ``expected_revision`` is no longer the head gets :class:`RevisionConflict` and writes nothing.
  The database backs this up: (scenario id, revision) is unique and revision rows are
  append-only (triggers refuse UPDATE/DELETE).
* :func:`upload` is what an upload does: a document whose id names a stored scenario is an
  import into it (diffed, every difference checked), otherwise a new scenario.
* :func:`state_at` rebuilds any revision (snapshot + replay of the pure changes after it).

Services never commit: the caller (CLI command, API request) owns the transaction. Every edit
and every change of the default writes its audit entry in that same transaction.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy import exc as sa_exc
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from coalition.auth.rules import Marking
from coalition.auth.schemas import HQ, Principal, Role
from coalition.auth.service import AuditChange, now, record_audit
from coalition.errors import ConflictError, InputError, NotFoundError, PermissionDeniedError
from coalition.scenario import rules
from coalition.scenario.models import ScenarioRevision, StoredScenario
from coalition.scenario.rules import ImportDocument, ScenarioState
from coalition.scenario.schemas import Scenario
from coalition.store.db import rowcount

SNAPSHOT_EVERY = 32
"""A revision whose number is a multiple of this stores the whole state (bounds the replay)."""

SYSTEM = Principal(user_id=None, name="system", nation=HQ, roles=frozenset({Role.ADMIN}))


class RevisionConflict(ConflictError):
    """The edit was made against a revision that is no longer the newest (HTTP 409)."""

    def __init__(self, message: str, *, current_revision: int) -> None:
        super().__init__(message)
        self.current_revision = current_revision
        self.details = {"current_revision": current_revision}


class ChangeRefused(PermissionDeniedError):
    """The principal may not make the change; ``problems`` names every refused part."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        head = (
            "refused, nothing was saved: "
            if len(problems) == 1
            else f"refused as a whole ({len(problems)} changes not allowed), nothing was saved: "
        )
        super().__init__(head + "; ".join(problems))


class LifecycleRefused(ConflictError):
    """A step the pledge lifecycle does not allow (HTTP 409)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


# ---------------------------------------------------------------------------------------------
# Cache of rebuilt revisions (revisions are immutable, so an entry never goes stale)
# ---------------------------------------------------------------------------------------------


class ScenarioCache:
    """Rebuilt states by (scenario id, revision); small LRU, thread-safe. Only committed
    revisions are put here (readers fill it), so a rolled-back edit never leaves a state."""

    def __init__(self, size: int = 16) -> None:
        self._items: OrderedDict[tuple[int, int], ScenarioState] = OrderedDict()
        self._dumps: dict[tuple[int, str], tuple[Scenario, dict[int, Any]]] = {}
        self._lock = threading.Lock()
        self._size = size

    def peek(self, scenario_id: int, revision: int) -> ScenarioState | None:
        with self._lock:
            hit = self._items.get((scenario_id, revision))
            if hit is not None:
                self._items.move_to_end((scenario_id, revision))
            return hit

    def put(self, scenario_id: int, revision: int, state: ScenarioState) -> None:
        with self._lock:
            self._items[(scenario_id, revision)] = state
            while len(self._items) > self._size:
                self._items.popitem(last=False)

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


# ---------------------------------------------------------------------------------------------
# Finding scenarios
# ---------------------------------------------------------------------------------------------


def _query_for(ref: str | int | None) -> Any:
    query = select(StoredScenario.id, StoredScenario.head)
    if ref is None:
        return query.where(StoredScenario.is_default)
    if isinstance(ref, int) or str(ref).isdigit():
        return query.where(StoredScenario.id == int(ref))
    return query.where(StoredScenario.key == str(ref))


def _not_found(ref: str | int | None) -> NotFoundError:
    if ref is None:
        return NotFoundError(
            "no default scenario is stored; upload one, or ask an HQ admin to "
            "set the default (POST /api/scenarios/{id}/default)"
        )
    return NotFoundError(f"scenario '{ref}' not found (give a stored scenario's id or key)")


def scenario_header(session: Session, *, ref: str | int | None) -> tuple[int, int]:
    """(id, head revision) of a stored scenario by id, key or (None) the default (hot path)."""
    row = session.execute(_query_for(ref).limit(1)).first()
    if row is None:
        raise _not_found(ref)
    return int(row[0]), int(row[1])


def get_stored(session: Session, *, ref: str | int | None) -> StoredScenario:
    sid, _rev = scenario_header(session, ref=ref)
    row = session.get(StoredScenario, sid)
    assert row is not None
    return row


def list_stored(session: Session, *, offset: int = 0, limit: int = 500) -> tuple[list[StoredScenario], int]:
    """One page of stored scenarios (paged in SQL) and the total."""
    total = session.scalar(select(func.count()).select_from(StoredScenario)) or 0
    rows = list(session.scalars(select(StoredScenario).order_by(StoredScenario.id).offset(offset).limit(limit)))
    return rows, int(total)


def revisions(session: Session, *, scenario_id: int) -> list[ScenarioRevision]:
    """Every revision, oldest first; the snapshots (a whole document each) are loaded only if
    read."""
    from sqlalchemy.orm import defer

    return list(
        session.scalars(
            select(ScenarioRevision)
            .options(defer(ScenarioRevision.snapshot))
            .where(ScenarioRevision.scenario_id == scenario_id)
            .order_by(ScenarioRevision.revision)
        )
    )


# ---------------------------------------------------------------------------------------------
# Rebuilding a revision
# ---------------------------------------------------------------------------------------------


def state_at(session: Session, *, scenario_id: int, revision: int, cache: ScenarioCache | None = None) -> ScenarioState:
    """The state of one revision: the newest snapshot at or before it, then the changes after."""
    if cache is not None and (hit := cache.peek(scenario_id, revision)) is not None:
        return hit
    base = session.scalar(
        select(func.max(ScenarioRevision.revision)).where(
            ScenarioRevision.scenario_id == scenario_id,
            ScenarioRevision.revision <= revision,
            ScenarioRevision.snapshot.is_not(None),
        )
    )
    if base is None:
        head = session.scalar(select(StoredScenario.head).where(StoredScenario.id == scenario_id))
        if head is None:
            raise _not_found(scenario_id)
        raise NotFoundError(f"scenario {scenario_id} has no revision {revision} (revisions are 1..{head})")
    start = base
    state: ScenarioState | None = None
    if cache is not None:  # a cached revision between the snapshot and the target saves replay
        for r in range(revision - 1, base - 1, -1):
            if (state := cache.peek(scenario_id, r)) is not None:
                start = r
                break
    rows = session.execute(
        select(
            ScenarioRevision.revision,
            ScenarioRevision.change,
            ScenarioRevision.nation,
            ScenarioRevision.snapshot if state is None else ScenarioRevision.kind,
        )
        .where(
            ScenarioRevision.scenario_id == scenario_id,
            ScenarioRevision.revision >= start,
            ScenarioRevision.revision <= revision,
        )
        .order_by(ScenarioRevision.revision)
    ).all()
    if not rows or rows[-1][0] != revision:
        raise NotFoundError(f"scenario {scenario_id} has no revision {revision}")
    for number, change, nation, extra in rows:
        if state is None:
            state = ScenarioState.from_json(extra)
        elif number > start:
            state = rules.apply(state, rules.parse_change(change), nation)
    assert state is not None
    if cache is not None:
        cache.put(scenario_id, revision, state)
    return state


def current_state(
    session: Session, *, ref: str | int | None, revision: int | None = None, cache: ScenarioCache | None = None
) -> tuple[int, int, ScenarioState]:
    """(id, revision, state) of a stored scenario at ``revision`` (default: the head)."""
    sid, head = scenario_header(session, ref=ref)
    rev = head if revision is None else revision
    if rev < 1 or rev > head:
        raise NotFoundError(f"scenario '{ref}' has no revision {rev} (revisions are 1..{head})")
    return sid, rev, state_at(session, scenario_id=sid, revision=rev, cache=cache)


def markings(
    session: Session, *, scenario_id: int, kind: str, cache: ScenarioCache | None = None
) -> dict[str, Marking]:
    """The marking overrides of one kind at the head revision, by object id."""
    _sid, head = scenario_header(session, ref=scenario_id)
    state = state_at(session, scenario_id=scenario_id, revision=head, cache=cache)
    return {oid: m for (k, oid), m in state.markings.items() if k == kind}


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------


def _lock(session: Session, scenario_id: int) -> StoredScenario:
    """Serialise writers of one scenario. SQLite: the database write lock (``BEGIN IMMEDIATE``,
    or the first write of a transaction that already wrote); PostgreSQL: the scenario row."""
    conn = session.connection()
    query = select(StoredScenario).where(StoredScenario.id == scenario_id)
    if conn.dialect.name == "sqlite":
        raw = conn.connection.driver_connection
        if raw is None:
            raise RuntimeError("the session's connection is closed")
        if not raw.in_transaction:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        query = query.with_for_update()
    row = session.scalars(query.execution_options(populate_existing=True)).first()
    if row is None:
        raise _not_found(scenario_id)
    return row


def _snapshot_row(
    row: StoredScenario,
    revision: int,
    state: ScenarioState,
    principal: Principal,
    kind: str,
    change: dict[str, Any],
    note: str,
) -> ScenarioRevision:
    return ScenarioRevision(
        scenario_id=row.id,
        revision=revision,
        kind=kind,
        change=change,
        snapshot=state.to_json(),
        author=principal.name,
        nation=principal.nation,
        note=note,
        created_at=now(),
    )


def create(
    session: Session, *, scenario: Scenario, principal: Principal, make_default: bool = False, request_id: str = ""
) -> StoredScenario:
    """Store a new scenario as revision 1. Its key must be new (an upload of a known key is an
    import: :func:`upload`)."""
    if session.scalar(select(StoredScenario.id).where(StoredScenario.key == scenario.id)):
        raise ConflictError(
            f"a scenario with key '{scenario.id}' is already stored; upload it "
            "as an import into that scenario (with If-Match)"
        )
    row = StoredScenario(
        key=scenario.id,
        name=scenario.name,
        head=1,
        is_default=False,
        origin=principal.nation,
        created_by=principal.name,
        created_at=now(),
    )
    session.add(row)
    session.flush()
    session.add(_snapshot_row(row, 1, ScenarioState(scenario), principal, "create", {"kind": "create"}, ""))
    session.flush()
    if principal.user_id is not None or request_id:
        record_audit(
            session,
            principal=principal,
            request_id=request_id,
            change=AuditChange(
                action="create", object_type="scenario", object_id=str(row.id), after={"key": row.key, "revision": 1}
            ),
        )
    if make_default:
        _make_default(session, row)
    return row


@dataclass(frozen=True)
class EditResult:
    scenario_id: int
    revision: int
    state: ScenarioState
    before: ScenarioState


def _validate(state: ScenarioState) -> None:
    """A changed document must still validate (references, conditions): same checks as files."""
    from coalition.scenario.validate import check_scenario, errors

    problems = errors(check_scenario(state.scenario))
    if problems:
        raise InputError(problems)


def _audit_of(change: BaseModel, before: ScenarioState, after: ScenarioState) -> tuple[str, str, str, Any, Any]:
    if isinstance(change, rules.TransitionPledge | rules.EditPledge):
        pid = change.pledge if isinstance(change, rules.TransitionPledge) else change.pledge.id
        old, new = before.pledge(pid), after.pledge(pid)
        action = "transition" if isinstance(change, rules.TransitionPledge) else "edit"
        return (
            action,
            "pledge",
            pid,
            old.model_dump(mode="json") if old else None,
            new.model_dump(mode="json") if new else None,
        )
    if isinstance(change, rules.SetReleasability):
        records = before.scenario.pledges if change.object_kind == "pledge" else before.scenario.depots.depots
        record = next(r for r in records if r.id == change.object_id)
        return (
            "release",
            change.object_kind,
            change.object_id,
            before.marking(change.object_kind, record).model_dump(mode="json"),
            after.marking(change.object_kind, record).model_dump(mode="json"),
        )
    if isinstance(change, rules.SetAssumptions):
        old_set = before.assumption_sets.get(change.name)
        return (
            "assumptions",
            "assumption-set",
            change.name,
            list(old_set.assumptions) if old_set else None,
            list(change.assumptions),
        )
    assert isinstance(change, ImportDocument)
    return (
        "import",
        "scenario",
        after.scenario.id,
        None,
        [f"{d.what} {d.target}: {d.detail}" for d in rules.diff(before.scenario, after.scenario)],
    )


def _check_base(key: str, head: int, expected_revision: int | None, change: BaseModel) -> None:
    """The change must be based on the head revision (an import must always say which one)."""
    if isinstance(change, ImportDocument) and expected_revision is None:
        raise RevisionConflict(
            f"an import into scenario '{key}' must say which revision it replaces "
            f'(If-Match: "{head}" or --expect {head})',
            current_revision=head,
        )
    if expected_revision is not None and expected_revision != head:
        raise RevisionConflict(
            f"scenario '{key}' is at revision {head}, not {expected_revision}: someone "
            "changed it since you read it; reload and try again",
            current_revision=head,
        )


def _raise_refused(refused: Sequence[rules.Refusal], change: BaseModel) -> None:
    """Any refusal stops the edit: a missing record is not found, a lifecycle step out of order
    (outside an import) is a lifecycle refusal, anything else a refused change."""
    if not refused:
        return
    messages = [r.message for r in refused]
    if all(r.rule == "missing" for r in refused):
        raise NotFoundError("; ".join(messages))
    if not isinstance(change, ImportDocument) and any(r.rule == "lifecycle" for r in refused):
        raise LifecycleRefused(messages)
    raise ChangeRefused(messages)


def edit(
    session: Session,
    scenario_id: int,
    expected_revision: int | None,
    change: BaseModel,
    principal: Principal,
    *,
    cache: ScenarioCache | None = None,
    request_id: str = "",
    note: str = "",
) -> EditResult:
    """Apply one typed change to the head revision and write the next revision.

    ``expected_revision``: the revision the caller based the change on; a stale one raises
    :class:`RevisionConflict` (with the current revision). ``None`` applies a typed change to
    whatever the head is (it is still atomic: the change is made under the lock); an import
    always needs it. Ownership and lifecycle are checked for every part of the change; any
    refusal raises and nothing is written.
    """
    row = _lock(session, scenario_id)
    _check_base(row.key, row.head, expected_revision, change)
    before = state_at(session, scenario_id=row.id, revision=row.head, cache=cache)
    _raise_refused(rules.refusals(before, change, principal), change)
    if isinstance(change, ImportDocument) and before.scenario == change.scenario:
        return EditResult(scenario_id=row.id, revision=row.head, state=before, before=before)
    after = rules.apply(before, change, principal.nation)
    if isinstance(change, rules.EditPledge | ImportDocument):
        _validate(after)
    revision = row.head + 1
    audit = _audit_of(change, before, after)
    if isinstance(change, ImportDocument):
        stored = {"kind": "import", "note": change.note, "diff": audit[4]}
    else:
        stored = change.model_dump(mode="json")
    snapshot = after.to_json() if (isinstance(change, ImportDocument) or revision % SNAPSHOT_EVERY == 0) else None
    # Core statements, not the unit of work: an edit is on the hot path (benchmarks/
    # bench_store.py), and the head moves only from the revision read under the lock.
    key, row_id = row.key, row.id
    try:
        session.execute(
            insert(ScenarioRevision),
            [
                {
                    "scenario_id": row_id,
                    "revision": revision,
                    "kind": str(stored["kind"]),
                    "change": stored,
                    "snapshot": snapshot,
                    "author": principal.name,
                    "nation": principal.nation,
                    "note": note or getattr(change, "note", ""),
                    "created_at": now(),
                }
            ],
        )
        moved = session.execute(
            update(StoredScenario)
            .where(StoredScenario.id == row_id, StoredScenario.head == revision - 1)
            .values(head=revision, name=after.scenario.name)
            .execution_options(synchronize_session=False)
        )
    except sa_exc.IntegrityError as exc:  # the unique (scenario, revision): a second writer
        raise RevisionConflict(
            f"revision {revision} of scenario '{key}' was written by someone else; reload and try again",
            current_revision=revision,
        ) from exc
    if rowcount(moved) != 1:
        raise RevisionConflict(
            f"scenario '{key}' moved on while the change was made; reload and try again", current_revision=revision
        )
    session.expire(row)
    action, otype, oid, old, new = audit
    record_audit(
        session,
        principal=principal,
        request_id=request_id,
        change=AuditChange(
            action=action,
            object_type=otype,
            object_id=oid,
            before=old,
            after=new,
            note=f"scenario {row_id} revision {revision}"
            + (f"; {note}" if (note := getattr(change, "note", "")) else ""),
        ),
    )
    return EditResult(scenario_id=row_id, revision=revision, state=after, before=before)


def upload(
    session: Session,
    *,
    scenario: Scenario,
    principal: Principal,
    expected_revision: int | None,
    cache: ScenarioCache | None = None,
    request_id: str = "",
) -> tuple[StoredScenario, int, bool]:
    """Store an uploaded document: an import into the stored scenario with the same key (each
    difference checked), else a new scenario. Returns (row, revision, created)."""
    existing = session.scalar(select(StoredScenario.id).where(StoredScenario.key == scenario.id))
    if existing is None:
        row = create(session, scenario=scenario, principal=principal, request_id=request_id)
        return row, 1, True
    if not isinstance(scenario, Scenario):  # a document prepared off the event loop (api/offload)
        scenario = Scenario.model_validate(scenario.model_dump(mode="json"))  # typed, to diff it
    result = edit(
        session,
        existing,
        expected_revision,
        ImportDocument(scenario=scenario),
        principal,
        cache=cache,
        request_id=request_id,
    )
    stored = session.get(StoredScenario, existing)
    if stored is None:  # edit() just wrote it in this transaction
        raise NotFoundError(f"stored scenario {existing} vanished during the upload")
    return stored, result.revision, False


def _make_default(session: Session, row: StoredScenario) -> None:
    for other in session.scalars(select(StoredScenario).where(StoredScenario.is_default, StoredScenario.id != row.id)):
        other.is_default = False
    row.is_default = True
    session.flush()


def set_default(session: Session, *, scenario_id: int, principal: Principal, request_id: str = "") -> StoredScenario:
    """Make a stored scenario the coalition default: an HQ admin action, audited."""
    if principal.nation != HQ or Role.ADMIN not in principal.roles:
        raise PermissionDeniedError(
            f"setting the coalition's default scenario is an HQ admin action; {principal.name} "
            f"({principal.nation}, {', '.join(sorted(principal.roles)) or 'no roles'}) may not"
        )
    row = _lock(session, scenario_id)
    previous = session.scalar(select(StoredScenario.id).where(StoredScenario.is_default))
    _make_default(session, row)
    record_audit(
        session,
        principal=principal,
        request_id=request_id,
        change=AuditChange(
            action="default",
            object_type="scenario",
            object_id=str(row.id),
            before={"default": previous},
            after={"default": row.id, "key": row.key},
        ),
    )
    return row


def ensure_default(session: Session, *, scenario: Scenario) -> StoredScenario:
    """On first run, store ``scenario`` as the default (or make the stored one with its key the
    default when none is set)."""
    row = session.scalar(select(StoredScenario).where(StoredScenario.is_default))
    if row is not None:
        return row
    row = session.scalar(select(StoredScenario).where(StoredScenario.key == scenario.id))
    if row is None:
        return create(session, scenario=scenario, principal=SYSTEM, make_default=True)
    _make_default(session, row)
    return row


__all__ = [
    "SNAPSHOT_EVERY",
    "ChangeRefused",
    "EditResult",
    "LifecycleRefused",
    "RevisionConflict",
    "ScenarioCache",
    "create",
    "current_state",
    "edit",
    "ensure_default",
    "get_stored",
    "list_stored",
    "markings",
    "revisions",
    "scenario_header",
    "set_default",
    "state_at",
    "upload",
]
