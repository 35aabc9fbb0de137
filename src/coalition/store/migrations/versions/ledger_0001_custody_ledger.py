"""ledger: custody log, Merkle nodes, checkpoints, keys and the inventory projection.

Hand-written (no autogenerate at run time); mirrors coalition.ledger.models and
coalition.inventory.models.

Revision ID: ledger_0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "ledger_0001"
down_revision = None
branch_labels = ("ledger",)
depends_on = None

S = sa.String
BIG = sa.BigInteger
BIN = sa.LargeBinary


def upgrade() -> None:
    _log_tables()
    _signing_tables()
    _inventory_item_tables()
    _inventory_manifest_tables()


def _log_tables() -> None:
    """Keys, the head (lock) row, the events and their references."""
    op.create_table(
        "ledger_key",
        sa.Column("key_id", S(40), primary_key=True),
        sa.Column("kind", S(12), nullable=False),
        sa.Column("nation", S(3), nullable=True),
        sa.Column("public_key", BIN, nullable=False),
        sa.Column("created_at", S(32), nullable=False),
    )
    head = op.create_table(
        "ledger_head",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("size", BIG, nullable=False),
        sa.Column("last_hash", BIN, nullable=False),
    )
    # the one lock row every appender takes; an empty log has size 0 and the all-zero hash
    op.bulk_insert(head, [{"id": 1, "size": 0, "last_hash": bytes(32)}])
    op.create_table(
        "ledger_event",
        sa.Column("seq", BIG, primary_key=True, autoincrement=False),
        sa.Column("batch_id", BIG, nullable=False),
        sa.Column("time", S(32), nullable=False),
        sa.Column("nation", S(3), nullable=False),
        sa.Column("person", S(120), nullable=False),
        sa.Column("type", S(20), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("prev_hash", BIN, nullable=False),
        sa.Column("hash", BIN, nullable=False),
    )
    op.create_index("ix_ledger_event_batch_id", "ledger_event", ["batch_id"])
    op.create_index("ix_ledger_event_nation", "ledger_event", ["nation"])
    op.create_index("ix_ledger_event_type", "ledger_event", ["type"])
    op.create_table(
        "ledger_event_ref",
        sa.Column("ref", S(90), primary_key=True),
        sa.Column("seq", BIG, primary_key=True, autoincrement=False),
    )
    op.create_index("ix_ledger_event_ref_seq", "ledger_event_ref", ["seq"])


def _signing_tables() -> None:
    """Batches and their signatures, the Merkle nodes, checkpoints and their cosignatures."""
    op.create_table(
        "ledger_batch",
        sa.Column("batch_id", BIG, primary_key=True, autoincrement=False),
        sa.Column("first_seq", BIG, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("nation", S(3), nullable=False),
        sa.Column("counterparty", S(3), nullable=True),
        sa.Column("root", BIN, nullable=False),
        sa.Column("time", S(32), nullable=False),
    )
    op.create_table(
        "ledger_signature",
        sa.Column(
            "batch_id",
            BIG,
            sa.ForeignKey("ledger_batch.batch_id", name="fk_ledger_signature_batch_id_ledger_batch"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("role", S(12), primary_key=True),
        sa.Column("key_id", S(40), nullable=False),
        sa.Column("signature", BIN, nullable=False),
    )
    op.create_table(
        "ledger_node",
        sa.Column("level", sa.SmallInteger, primary_key=True, autoincrement=False),
        sa.Column("idx", BIG, primary_key=True, autoincrement=False),
        sa.Column("hash", BIN, nullable=False),
    )
    op.create_table(
        "ledger_checkpoint",
        sa.Column("checkpoint_id", BIG, primary_key=True, autoincrement=False),
        sa.Column("size", BIG, nullable=False),
        sa.Column("root", BIN, nullable=False),
        sa.Column("time", S(32), nullable=False),
        sa.Column("key_id", S(40), nullable=False),
        sa.Column("signature", BIN, nullable=False),
    )
    op.create_index("ix_ledger_checkpoint_size", "ledger_checkpoint", ["size"])
    op.create_table(
        "ledger_cosignature",
        sa.Column(
            "checkpoint_id",
            BIG,
            sa.ForeignKey(
                "ledger_checkpoint.checkpoint_id",
                name="fk_ledger_cosignature_checkpoint_id_ledger_checkpoint",
            ),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("key_id", S(40), primary_key=True),
        sa.Column("time", S(32), nullable=False),
        sa.Column("signature", BIN, nullable=False),
    )


# --- inventory projection -------------------------------------------------------------


def _place() -> list[sa.Column[str]]:  # the same location columns on two tables
    return [
        sa.Column("custodian", S(3), nullable=False),
        sa.Column("location", S(250), nullable=False),
        sa.Column("hub", S(60), nullable=False),
        sa.Column("depot", S(60), nullable=False),
        sa.Column("storehouse", S(60), nullable=False),
        sa.Column("bay", S(60), nullable=False),
        sa.Column("end_user", S(120), nullable=False),
        sa.Column("end_user_ref", S(120), nullable=False),
        sa.Column("manifest", S(60), nullable=False),
    ]


def _inventory_item_tables() -> None:
    """Serials, lots and the stock of each lot by place and status."""
    op.create_table(
        "inv_serial",
        sa.Column("serial", S(80), primary_key=True),
        sa.Column("item_type", S(60), nullable=False),
        sa.Column("title_nation", S(3), nullable=False),
        sa.Column("unit_value", sa.Float, nullable=False),
        sa.Column("sensitive", sa.Boolean, nullable=False),
        sa.Column("status", S(20), nullable=False),
        sa.Column("reason", S(40), nullable=False),
        *_place(),
        sa.Column("arrived_on", S(10), nullable=True),
        sa.Column("last_counted_on", S(10), nullable=True),
        sa.Column("loss_occurred_on", S(10), nullable=True),
        sa.Column("loss_reported_on", S(10), nullable=True),
        sa.Column("last_seq", BIG, nullable=False),
    )
    op.create_index("ix_inv_serial_title_nation", "inv_serial", ["title_nation"])
    op.create_index("ix_inv_serial_place", "inv_serial", ["hub", "depot", "storehouse", "title_nation", "status"])
    op.create_index("ix_inv_serial_location", "inv_serial", ["location"])
    op.create_table(
        "inv_lot",
        sa.Column("lot", S(80), primary_key=True),
        sa.Column("item_type", S(60), nullable=False),
        sa.Column("title_nation", S(3), nullable=False),
        sa.Column("unit_value", sa.Float, nullable=False),
        sa.Column("neq_kg", sa.Float, nullable=False),
        sa.Column("hazard", S(8), nullable=False),
        sa.Column("sensitive", sa.Boolean, nullable=False),
        sa.Column("suspended", sa.Boolean, nullable=False),
        sa.Column("suspension_reason", S(200), nullable=False),
        sa.Column("manifest", S(60), nullable=False),
        sa.Column("quantity_registered", BIG, nullable=False),
        sa.Column("arrived_on", S(10), nullable=True),
        sa.Column("last_counted_on", S(10), nullable=True),
        sa.Column("last_seq", BIG, nullable=False),
    )
    op.create_index("ix_inv_lot_title_nation", "inv_lot", ["title_nation"])
    op.create_table(
        "inv_lot_stock",
        sa.Column("stock_key", S(500), primary_key=True),
        sa.Column("lot", S(80), nullable=False),
        sa.Column("status", S(20), nullable=False),
        sa.Column("reason", S(40), nullable=False),
        *_place(),
        sa.Column("quantity", BIG, nullable=False),
        sa.Column("loss_occurred_on", S(10), nullable=True),
        sa.Column("loss_reported_on", S(10), nullable=True),
        sa.Column("last_seq", BIG, nullable=False),
        sa.CheckConstraint("quantity >= 0", name="ck_inv_lot_stock_quantity_not_negative"),
    )
    op.create_index("ix_inv_lot_stock_lot", "inv_lot_stock", ["lot"])
    op.create_index("ix_inv_lot_stock_location", "inv_lot_stock", ["location"])


def _inventory_manifest_tables() -> None:
    """Manifests, their lines and the discrepancies found on receipt."""
    op.create_table(
        "inv_manifest",
        sa.Column("manifest", S(60), primary_key=True),
        sa.Column("donor", S(3), nullable=False),
        sa.Column("origin", S(250), nullable=False),
        sa.Column("destination", S(250), nullable=False),
        sa.Column("status", S(20), nullable=False),
        sa.Column("registered_seq", BIG, nullable=False),
        sa.Column("dispatched_seq", BIG, nullable=True),
        sa.Column("received_seq", BIG, nullable=True),
    )
    op.create_index("ix_inv_manifest_donor", "inv_manifest", ["donor"])
    op.create_table(
        "inv_manifest_line",
        sa.Column("manifest", S(60), primary_key=True),
        sa.Column("ref", S(90), primary_key=True),
        sa.Column("quantity", BIG, nullable=False),
    )
    op.create_table(
        "inv_discrepancy",
        sa.Column("seq", BIG, primary_key=True, autoincrement=False),
        sa.Column("ref", S(90), primary_key=True),
        sa.Column("manifest", S(60), nullable=False),
        sa.Column("location", S(250), nullable=False),
        sa.Column("title_nation", S(3), nullable=False),
        sa.Column("reason", S(40), nullable=False),
        sa.Column("expected", sa.Integer, nullable=False),
        sa.Column("found", sa.Integer, nullable=False),
        sa.Column("status", S(10), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "inv_discrepancy",
        "inv_manifest_line",
        "inv_manifest",
        "inv_lot_stock",
        "inv_lot",
        "inv_serial",
        "ledger_cosignature",
        "ledger_checkpoint",
        "ledger_node",
        "ledger_signature",
        "ledger_batch",
        "ledger_event_ref",
        "ledger_event",
        "ledger_head",
        "ledger_key",
    ):
        op.drop_table(table)
