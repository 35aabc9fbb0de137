"""ORM models of the inventory projection.

Every row here is *derived* from the custody ledger: it is written only by the projector in the
same transaction as the event that causes it, and can be rebuilt from the log at any time
(:func:`coalition.ledger.service.rebuild_projection`). Location is a path ``hub/depot/storehouse/bay``
(parts may be empty), also kept split into columns for grouping.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from coalition.store.db import Base


class InvSerial(Base):
    """A serialised unit (weapon, optic, vehicle): one row per serial, ever."""

    __tablename__ = "inv_serial"

    serial: Mapped[str] = mapped_column(String(80), primary_key=True)
    item_type: Mapped[str] = mapped_column(String(60))
    title_nation: Mapped[str] = mapped_column(String(3), index=True)
    unit_value: Mapped[float] = mapped_column(Float, default=0.0)
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(40), default="")
    custodian: Mapped[str] = mapped_column(String(3))
    location: Mapped[str] = mapped_column(String(250), default="")
    hub: Mapped[str] = mapped_column(String(60), default="")
    depot: Mapped[str] = mapped_column(String(60), default="")
    storehouse: Mapped[str] = mapped_column(String(60), default="")
    bay: Mapped[str] = mapped_column(String(60), default="")
    end_user: Mapped[str] = mapped_column(String(120), default="")
    end_user_ref: Mapped[str] = mapped_column(String(120), default="")
    manifest: Mapped[str] = mapped_column(String(60), default="")
    arrived_on: Mapped[str | None] = mapped_column(String(10), nullable=True)
    last_counted_on: Mapped[str | None] = mapped_column(String(10), nullable=True)
    loss_occurred_on: Mapped[str | None] = mapped_column(String(10), nullable=True)
    loss_reported_on: Mapped[str | None] = mapped_column(String(10), nullable=True)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    issued_by: Mapped[str] = mapped_column(String(3), default="", server_default="")


class InvLot(Base):
    """An ammunition lot: identity, title, hazard, suspension. Quantities live in InvLotStock."""

    __tablename__ = "inv_lot"

    lot: Mapped[str] = mapped_column(String(80), primary_key=True)
    item_type: Mapped[str] = mapped_column(String(60))
    title_nation: Mapped[str] = mapped_column(String(3), index=True)
    unit_value: Mapped[float] = mapped_column(Float, default=0.0)
    neq_kg: Mapped[float] = mapped_column(Float, default=0.0)  # net explosive quantity per unit
    hazard: Mapped[str] = mapped_column(String(8), default="")  # e.g. "1.1D"
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    suspended: Mapped[bool] = mapped_column(Boolean, default=False)
    suspension_reason: Mapped[str] = mapped_column(String(200), default="")
    manifest: Mapped[str] = mapped_column(String(60), default="")
    quantity_registered: Mapped[int] = mapped_column(BigInteger)
    arrived_on: Mapped[str | None] = mapped_column(String(10), nullable=True)
    last_counted_on: Mapped[str | None] = mapped_column(String(10), nullable=True)
    last_seq: Mapped[int] = mapped_column(BigInteger)


class InvLotStock(Base):
    """Quantity of one lot in one place and state (key = lot|location|status|end user)."""

    __tablename__ = "inv_lot_stock"
    __table_args__ = (CheckConstraint("quantity >= 0", name="quantity_not_negative"),)

    stock_key: Mapped[str] = mapped_column(String(500), primary_key=True)
    lot: Mapped[str] = mapped_column(String(80), index=True)
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(40), default="")
    custodian: Mapped[str] = mapped_column(String(3))
    location: Mapped[str] = mapped_column(String(250), default="")
    hub: Mapped[str] = mapped_column(String(60), default="")
    depot: Mapped[str] = mapped_column(String(60), default="")
    storehouse: Mapped[str] = mapped_column(String(60), default="")
    bay: Mapped[str] = mapped_column(String(60), default="")
    end_user: Mapped[str] = mapped_column(String(120), default="")
    end_user_ref: Mapped[str] = mapped_column(String(120), default="")
    manifest: Mapped[str] = mapped_column(String(60), default="")
    quantity: Mapped[int] = mapped_column(BigInteger)
    loss_occurred_on: Mapped[str | None] = mapped_column(String(10), nullable=True)
    loss_reported_on: Mapped[str | None] = mapped_column(String(10), nullable=True)
    last_seq: Mapped[int] = mapped_column(BigInteger)


class InvManifest(Base):
    """A shipment registered serial by serial before it leaves the donor."""

    __tablename__ = "inv_manifest"
    __table_args__ = {"sqlite_with_rowid": False}  # clustered on its key (ledger_0007)

    manifest: Mapped[str] = mapped_column(String(60), primary_key=True)
    donor: Mapped[str] = mapped_column(String(3), index=True)
    origin: Mapped[str] = mapped_column(String(250))
    destination: Mapped[str] = mapped_column(String(250))
    status: Mapped[str] = mapped_column(String(20))  # registered | dispatched | received
    registered_seq: Mapped[int] = mapped_column(BigInteger)
    dispatched_seq: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    received_seq: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    receiver: Mapped[str] = mapped_column(String(3), default="", server_default="")


class InvManifestLine(Base):
    """One expected serial (quantity 1) or lot quantity of a manifest."""

    __tablename__ = "inv_manifest_line"
    __table_args__ = {"sqlite_with_rowid": False}  # clustered on its key (ledger_0007)

    manifest: Mapped[str] = mapped_column(String(60), primary_key=True)
    ref: Mapped[str] = mapped_column(String(90), primary_key=True)  # "S:<serial>" | "L:<lot>"
    quantity: Mapped[int] = mapped_column(BigInteger)


class InvDiscrepancy(Base):
    """A difference found at receipt or stocktake, with a reason code; closed by a later event."""

    __tablename__ = "inv_discrepancy"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    ref: Mapped[str] = mapped_column(String(90), primary_key=True)
    manifest: Mapped[str] = mapped_column(String(60), default="")
    location: Mapped[str] = mapped_column(String(250), default="")
    title_nation: Mapped[str] = mapped_column(String(3), default="")
    reason: Mapped[str] = mapped_column(String(40))
    expected: Mapped[int] = mapped_column(Integer)
    found: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default="open")


Index(
    "ix_inv_serial_place",
    InvSerial.hub,
    InvSerial.depot,
    InvSerial.storehouse,
    InvSerial.title_nation,
    InvSerial.status,
    InvSerial.unit_value,  # covering: the inventory query reads the index only (ledger_0002)
)
Index("ix_inv_serial_location", InvSerial.location)
Index("ix_inv_lot_stock_location", InvLotStock.location)
