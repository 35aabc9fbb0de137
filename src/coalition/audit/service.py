"""DB operations of the audit package (keyword-only; the caller owns the transaction).

:func:`append` links each entry to the chain inside the caller's transaction, so an entry is
committed with the change it records or not at all. Appends are serialised by locking the one
``audit_head`` row first (a row lock on PostgreSQL, held until commit; on SQLite the UPDATE takes
the database write lock), which also makes ``seq`` follow commit order without gaps.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from coalition.audit import chain
from coalition.audit.models import AuditCheckpoint, AuditEntry, AuditHead
from coalition.auth.schemas import Principal
from coalition.ledger.canonical import canonical_json
from coalition.ledger.notes import checkpoint_text
from coalition.store.db import rowcount, table_of

OPERATOR_KEY_ID = "log-operator"  # the custody ledger's operator key also signs audit checkpoints


def now() -> datetime:
    return datetime.now(UTC)


def _json(value: Any) -> Any:
    """What the JSON column will give back (tuples become lists, keys become strings)."""
    return None if value is None else json.loads(canonical_json(value))


def _lock_head(session: Session) -> tuple[int, str]:
    locked = session.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq))
    if not rowcount(locked):  # the migration creates the row; this covers a hand-made schema
        session.execute(insert(table_of(AuditHead)), [{"id": 1, "seq": 0, "entry_hash": chain.GENESIS}])
    row = session.execute(select(AuditHead.seq, AuditHead.entry_hash).where(AuditHead.id == 1)).one()
    return int(row[0]), str(row[1])


@dataclass(frozen=True, slots=True)
class AuditChange:
    """What one audit entry records: the action on an object, its state before and after, a note."""

    action: str
    object_type: str
    object_id: str
    before: Any = None
    after: Any = None
    note: str = ""


def append(session: Session, *, principal: Principal, request_id: str, change: AuditChange) -> AuditEntry:
    """Append one chained entry in the caller's transaction."""
    c = change
    action, object_type, object_id, before, after, note = (
        c.action,
        c.object_type,
        c.object_id,
        c.before,
        c.after,
        c.note,
    )
    seq, prev = _lock_head(session)
    entry = AuditEntry(
        at=now(),
        user_id=principal.user_id,
        user_name=principal.name[:64],
        nation=principal.nation[:3],
        request_id=request_id[:64],
        action=action[:64],
        object_type=object_type[:64],
        object_id=str(object_id)[:200],
        before=_json(before),
        after=_json(after),
        note=note,
        seq=seq + 1,
        prev_hash=prev,
    )
    entry.entry_hash = chain.entry_hash(prev, entry)
    session.add(entry)
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=entry.seq, entry_hash=entry.entry_hash))
    session.flush()
    return entry


@dataclass(frozen=True)
class AuditFilter:
    """Which entries a list asks for (None = any): the acting user's nation and name, the
    object, the action, the request; time from ``since`` (inclusive) to ``until`` (exclusive)."""

    nation: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    user_name: str | None = None
    action: str | None = None
    request_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def list_audit(
    session: Session,
    where: AuditFilter = AuditFilter(),
    *,
    offset: int = 0,
    limit: int = 50,  # noqa: B008 - frozen
) -> tuple[list[AuditEntry], int]:
    """One page of entries matching ``where``, newest first, and the number that match."""
    query = select(AuditEntry)
    for column, value in (
        (AuditEntry.nation, where.nation),
        (AuditEntry.object_type, where.object_type),
        (AuditEntry.object_id, where.object_id),
        (AuditEntry.user_name, where.user_name),
        (AuditEntry.action, where.action),
        (AuditEntry.request_id, where.request_id),
    ):
        if value is not None:
            query = query.where(column == value)
    if where.since is not None:
        query = query.where(AuditEntry.at >= where.since)
    if where.until is not None:
        query = query.where(AuditEntry.at < where.until)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = list(session.scalars(query.order_by(AuditEntry.id.desc()).offset(offset).limit(limit)))
    return rows, total


@dataclass(frozen=True)
class CheckpointOut:
    id: int
    size: int
    root: bytes
    time: str
    key_id: str
    signature: bytes | None


def statement(size: int, root: bytes, time: str) -> bytes:
    """What an audit checkpoint signs: a C2SP tlog-checkpoint body (origin, size, root; the
    ledger's own format, :mod:`coalition.ledger.notes`) with the time as an extension line."""
    return (checkpoint_text(chain.CHECKPOINT_LOG, size, root) + f"time {time}\n").encode()


def chain_hashes(session: Session, size: int | None = None) -> list[str]:
    query = select(AuditEntry.entry_hash).where(AuditEntry.seq.is_not(None)).order_by(AuditEntry.seq)
    if size is not None:
        query = query.where(AuditEntry.seq <= size)
    return [h or "" for h in session.scalars(query)]


def make_checkpoint(session: Session, *, keyring: Any | None = None) -> CheckpointOut:
    """Record (and sign, when the operator key is here) the Merkle root of the whole chain.

    The chain is checked first: a checkpoint never blesses a log that does not verify."""
    from coalition.audit.verify import verify_log

    report = verify_log(session)
    if not report.ok:
        from coalition.errors import IntegrityError

        raise IntegrityError(f"audit log does not verify, no checkpoint made: {report.first}")
    hashes = chain_hashes(session)
    root = chain.tree(hashes).root()
    time = now().strftime("%Y-%m-%dT%H:%M:%SZ")
    key_id, signature = "", None
    if keyring is not None and keyring.has(OPERATOR_KEY_ID):
        key_id = OPERATOR_KEY_ID
        signature = keyring.sign(OPERATOR_KEY_ID, statement(len(hashes), root, time))
    row = AuditCheckpoint(size=len(hashes), root=root, time=time, key_id=key_id, signature=signature)
    session.add(row)
    session.flush()
    return CheckpointOut(row.id, row.size, root, time, key_id, signature)
