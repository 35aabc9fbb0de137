"""ORM table of transfer requests awaiting a second officer's approval (separation of duties).

Moved from ``coalition.api.models`` (the table, ``api_transfer_requests``, is unchanged and still
created by the ``auth`` branch's ``auth_0002``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from coalition.store.db import Base, UtcDateTime


class TransferRequest(Base):
    """A requested transfer awaiting a second officer's approval (separation of duties)."""

    __tablename__ = "api_transfer_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nation: Mapped[str] = mapped_column(String(3), nullable=False)
    requested_by: Mapped[str] = mapped_column(String(64), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)  # a JSON object
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    approved_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    seq: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
