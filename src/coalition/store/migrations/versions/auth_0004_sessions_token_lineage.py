"""auth: server-side dashboard sessions; token lineage (parent) and narrowed roles

Revision ID: auth_0004_sessions
Revises: auth_0003
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "auth_0004_sessions"
down_revision = "auth_0003"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("auth_tokens") as batch:
        batch.add_column(sa.Column("parent_id", sa.Integer, nullable=True))
        batch.add_column(sa.Column("roles", sa.JSON, nullable=True))
        batch.create_foreign_key("fk_auth_tokens_parent_id_auth_tokens", "auth_tokens", ["parent_id"], ["id"])
        batch.create_index("ix_auth_tokens_parent_id", ["parent_id"])
    op.create_table(
        "auth_sessions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("token_id", sa.Integer, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("last_seen_at", TZ, nullable=False),
        sa.Column("ended_at", TZ, nullable=True),
        sa.Column("end_reason", sa.String(32), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_auth_sessions"),
        sa.ForeignKeyConstraint(["token_id"], ["auth_tokens.id"], name="fk_auth_sessions_token_id_auth_tokens"),
        sa.UniqueConstraint("secret_hash", name="uq_auth_sessions_secret_hash"),
    )
    op.create_index("ix_auth_sessions_token_id", "auth_sessions", ["token_id"])


def downgrade() -> None:
    op.drop_table("auth_sessions")
    with op.batch_alter_table("auth_tokens") as batch:
        batch.drop_index("ix_auth_tokens_parent_id")
        batch.drop_constraint("fk_auth_tokens_parent_id_auth_tokens", type_="foreignkey")
        batch.drop_column("roles")
        batch.drop_column("parent_id")
