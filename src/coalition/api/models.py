"""ORM tables the service keeps for itself: stored scenarios, releasability markings, plan jobs.

Created by the ``auth`` Alembic branch (the service's branch) together with users and the audit log.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from coalition.store.db import Base


class StoredScenario(Base):
    """A validated scenario document (the JSON of :class:`coalition.scenario.schemas.Scenario`)."""

    __tablename__ = "api_scenarios"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    document: Mapped[dict] = mapped_column(JSON, nullable=False)
    revision: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    is_default: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    origin: Mapped[str] = mapped_column(String(3), nullable=False)
    uploaded_by: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class ReleaseMarking(Base):
    """Releasability of one record of a stored scenario (absent = the kind's default marking)."""

    __tablename__ = "api_markings"
    __table_args__ = (UniqueConstraint("scenario_id", "kind", "object_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scenario_id: Mapped[int] = mapped_column(ForeignKey("api_scenarios.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    object_id: Mapped[str] = mapped_column(String(100), nullable=False)
    origin: Mapped[str] = mapped_column(String(3), nullable=False)
    releasable_to: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)


class PlanJob(Base):
    """A planner run in the background: status, progress and, when done, the plan JSON."""

    __tablename__ = "api_plan_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scenario_id: Mapped[int] = mapped_column(ForeignKey("api_scenarios.id"), nullable=False)
    option: Mapped[str] = mapped_column(String(64), nullable=False)
    at: Mapped[str | None] = mapped_column(String(10), nullable=True)
    assumptions: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    time_limit_s: Mapped[float] = mapped_column(Float, nullable=False, default=30.0)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="queued")
    progress: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    message: Mapped[str] = mapped_column(Text, nullable=False, default="")
    result: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    requested_by: Mapped[str] = mapped_column(String(64), nullable=False)
    nation: Mapped[str] = mapped_column(String(3), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class TransferRequest(Base):
    """A requested transfer awaiting a second officer's approval (separation of duties)."""

    __tablename__ = "api_transfer_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nation: Mapped[str] = mapped_column(String(3), nullable=False)
    requested_by: Mapped[str] = mapped_column(String(64), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    payload: Mapped[dict] = mapped_column(JSON, nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    approved_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    seq: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
