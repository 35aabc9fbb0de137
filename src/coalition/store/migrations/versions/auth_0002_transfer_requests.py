"""auth: transfer requests awaiting a second officer's approval

Revision ID: auth_0002
Revises: auth_0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "auth_0002"
down_revision = "auth_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_transfer_requests",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("nation", sa.String(3), nullable=False),
        sa.Column("requested_by", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("approved_by", sa.String(64), nullable=True),
        sa.Column("seq", sa.Integer, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_api_transfer_requests"),
    )


def downgrade() -> None:
    op.drop_table("api_transfer_requests")
