"""ORM tables of stored scenarios: one row per scenario, one immutable row per revision.

Created by the ``scenario`` Alembic branch (``scenario_0001``), which also moved the rows of the
former ``api_scenarios`` / ``api_markings`` tables here. A revision row is written once and never
updated or deleted (database triggers refuse it); the scenario row's ``head`` is the only value
that moves, and it moves under a row lock together with the insert of the next revision.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from coalition.store.db import Base, UtcDateTime


class StoredScenario(Base):
    """A stored scenario: its key (the document's ``id``), name, newest revision, default flag."""

    __tablename__ = "scenario"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    head: Mapped[int] = mapped_column(Integer, nullable=False)
    is_default: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    origin: Mapped[str] = mapped_column(String(3), nullable=False)
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class ScenarioRevision(Base):
    """One immutable revision: the change that produced it and, every few revisions, a snapshot.

    ``snapshot`` (the whole state: document, markings, assumption sets) is written for the first
    revision, for imports and every :data:`coalition.scenario.store.SNAPSHOT_EVERY` revisions;
    the revisions between are rebuilt by replaying their ``change`` with the pure
    :func:`coalition.scenario.rules.apply` (so an edit writes a few hundred bytes, not the
    document).
    """

    __tablename__ = "scenario_revision"
    __table_args__ = (UniqueConstraint("scenario_id", "revision"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scenario_id: Mapped[int] = mapped_column(ForeignKey("scenario.id"), nullable=False)
    revision: Mapped[int] = mapped_column(Integer, nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    change: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    author: Mapped[str] = mapped_column(String(64), nullable=False)
    nation: Mapped[str] = mapped_column(String(3), nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


__all__ = ["ScenarioRevision", "StoredScenario"]
