"""ledger: the signed key log, and each batch's commitment to it.

``ledger_key_event`` is a hash chain of key events (registration countersigned by the coalition
root keys, rotation signed by the old key, revocation), the only way a nation's key enters the
ledger (coalition.ledger.trust). ``ledger_batch.keys_size`` / ``keys_head`` record the key log
state every batch statement commits to. ``ledger_cosignature.note_key_id`` is the
C2SP key ID of a witness cosignature line (its timestamp is inside the signature blob).
``ledger_key`` stays as a cache of the replayed key log.

Revision ID: ledger_0003
Revises: ledger_0002
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "ledger_0003"
down_revision = "ledger_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_key_event",
        sa.Column("n", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("hash", sa.LargeBinary(), nullable=False),
        sa.Column("signatures", sa.Text(), nullable=False),
        sa.Column("nation", sa.String(length=3), nullable=False),
        sa.Column("key_id", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("n", name="pk_ledger_key_event"),
    )
    with op.batch_alter_table("ledger_batch") as batch:
        batch.add_column(sa.Column("keys_size", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("keys_head", sa.LargeBinary(), nullable=True))
    with op.batch_alter_table("ledger_cosignature") as batch:
        batch.add_column(sa.Column("note_key_id", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ledger_cosignature") as batch:
        batch.drop_column("note_key_id")
    with op.batch_alter_table("ledger_batch") as batch:
        batch.drop_column("keys_head")
        batch.drop_column("keys_size")
    op.drop_table("ledger_key_event")
