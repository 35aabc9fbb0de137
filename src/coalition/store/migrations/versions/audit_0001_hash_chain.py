"""audit: hash chain over the audit log, its head row and signed checkpoints

Existing entries are linked into the chain in id order (the append-only triggers are lifted
for that one statement and put back in the same transaction).

Revision ID: audit_0001
Revises:
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "audit_0001"
down_revision = None
branch_labels = ("audit",)
depends_on = "auth_0003"


def _triggers(on: bool) -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        for verb in ("update", "delete"):
            if on:
                op.execute(
                    f"CREATE TRIGGER audit_log_no_{verb} BEFORE {verb.upper()} ON "
                    "audit_log BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
                )
            else:
                op.execute(f"DROP TRIGGER audit_log_no_{verb}")
        return
    if on:
        op.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
    else:
        op.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")


def upgrade() -> None:
    from coalition.audit import chain

    op.add_column("audit_log", sa.Column("seq", sa.Integer, nullable=True))
    op.add_column("audit_log", sa.Column("prev_hash", sa.String(64), nullable=True))
    op.add_column("audit_log", sa.Column("entry_hash", sa.String(64), nullable=True))
    op.create_index("ix_audit_log_seq", "audit_log", ["seq"], unique=True)
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("entry_hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_head"),
    )
    op.create_table(
        "audit_checkpoints",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("root", sa.LargeBinary(32), nullable=False),
        sa.Column("time", sa.String(32), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("signature", sa.LargeBinary(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_audit_checkpoints"),
    )
    bind = op.get_bind()
    log = sa.table(
        "audit_log",
        *(
            sa.column(c)
            for c in (
                "id",
                "at",
                "user_id",
                "user_name",
                "nation",
                "request_id",
                "action",
                "object_type",
                "object_id",
                "before",
                "after",
                "note",
                "seq",
                "prev_hash",
                "entry_hash",
            )
        ),
    )
    log.c.before.type = sa.JSON()
    log.c.after.type = sa.JSON()
    log.c.at.type = sa.DateTime(timezone=True)
    rows = bind.execute(sa.select(log).order_by(log.c.id)).mappings().all()
    prev = chain.GENESIS
    if rows:
        _triggers(False)
        for seq, row in enumerate(rows, start=1):
            entry = type("Row", (), {**dict(row), "seq": seq})
            digest = chain.entry_hash(prev, entry)
            bind.execute(log.update().where(log.c.id == row["id"]).values(seq=seq, prev_hash=prev, entry_hash=digest))
            prev = digest
        _triggers(True)
    bind.execute(
        sa.text("INSERT INTO audit_head (id, seq, entry_hash) VALUES (1, :n, :h)"), {"n": len(rows), "h": prev}
    )
    # checkpoints are history too: append-only like the log
    if bind.dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_checkpoints_no_{verb.lower()} BEFORE {verb} ON "
                "audit_checkpoints BEGIN SELECT RAISE(ABORT, 'audit checkpoints are "
                "append-only'); END"
            )
    else:
        op.execute(
            "CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE OR "
            "TRUNCATE ON audit_checkpoints FOR EACH STATEMENT EXECUTE FUNCTION "
            "audit_log_append_only()"
        )


def downgrade() -> None:
    op.drop_table("audit_checkpoints")
    op.drop_table("audit_head")
    op.drop_index("ix_audit_log_seq", table_name="audit_log")
    _triggers(False)
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("entry_hash")
        batch.drop_column("prev_hash")
        batch.drop_column("seq")
    _triggers(True)
