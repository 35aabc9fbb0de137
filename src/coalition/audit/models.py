"""ORM tables of the audit package: the audit log, its chain head and its checkpoints.

The log is append-only: nothing in the package updates or deletes an :class:`AuditEntry`, there
is no retention job, and database triggers refuse UPDATE/DELETE. On top of that every entry
carries ``entry_hash = H(prev_hash, content)`` (:mod:`coalition.audit.chain`), and checkpoints
sign the Merkle root of the entry hashes, so an edit made after dropping the triggers is found
by ``coalition audit verify``. ``audit_head`` is not history: it is the one row that serialises
appends (a row lock on PostgreSQL, the write lock on SQLite) and caches the chain's tail.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from coalition.store.db import Base


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, index=True)
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    user_name: Mapped[str] = mapped_column(String(64), nullable=False)
    nation: Mapped[str] = mapped_column(String(3), nullable=False)
    request_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    object_type: Mapped[str] = mapped_column(String(64), nullable=False)
    object_id: Mapped[str] = mapped_column(String(200), nullable=False)
    before: Mapped[dict[str, Any] | list[Any] | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict[str, Any] | list[Any] | None] = mapped_column(JSON, nullable=True)
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # the chain: position (1, 2, ... without gaps), the previous entry's hash, this entry's hash
    seq: Mapped[int | None] = mapped_column(Integer, nullable=True, unique=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    entry_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)


class AuditHead(Base):
    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # always 1
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    entry_hash: Mapped[str] = mapped_column(String(64), nullable=False)


class AuditCheckpoint(Base):
    """The Merkle root of the first ``size`` entry hashes, signed by the log operator's key
    (the custody ledger's ``log-operator`` key) when one is on this machine."""

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    root: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    time: Mapped[str] = mapped_column(String(32), nullable=False)
    key_id: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    signature: Mapped[bytes | None] = mapped_column(LargeBinary(64), nullable=True)
