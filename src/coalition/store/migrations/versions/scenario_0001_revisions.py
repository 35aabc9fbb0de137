"""scenario: stored scenarios with immutable revisions; the rows of api_scenarios/api_markings
are moved here (a data migration: every stored scenario keeps its id, document, revision number
and releasability markings).

Keys become unique. Where the old tables held several scenarios with one key (each upload made a
new one), the newest keeps the key, which is what a lookup by key found before, and each older
one is renamed ``<key>-<id>``; nothing is dropped.

Revision ID: scenario_0001
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "scenario_0001"
down_revision = None
branch_labels = ("scenario",)
depends_on = "auth_0001"

TZ = sa.DateTime(timezone=True)

old_scenarios = sa.table(
    "api_scenarios",
    sa.column("id", sa.Integer),
    sa.column("key", sa.String),
    sa.column("name", sa.String),
    sa.column("document", sa.JSON),
    sa.column("revision", sa.Integer),
    sa.column("is_default", sa.Boolean),
    sa.column("origin", sa.String),
    sa.column("uploaded_by", sa.String),
    sa.column("created_at", TZ),
)
old_markings = sa.table(
    "api_markings",
    sa.column("scenario_id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("object_id", sa.String),
    sa.column("origin", sa.String),
    sa.column("releasable_to", sa.JSON),
)
scenario = sa.table(
    "scenario",
    sa.column("id", sa.Integer),
    sa.column("key", sa.String),
    sa.column("name", sa.String),
    sa.column("head", sa.Integer),
    sa.column("is_default", sa.Boolean),
    sa.column("origin", sa.String),
    sa.column("created_by", sa.String),
    sa.column("created_at", TZ),
)
scenario_revision = sa.table(
    "scenario_revision",
    sa.column("scenario_id", sa.Integer),
    sa.column("revision", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("change", sa.JSON),
    sa.column("snapshot", sa.JSON),
    sa.column("author", sa.String),
    sa.column("nation", sa.String),
    sa.column("note", sa.Text),
    sa.column("created_at", TZ),
)


def _create_tables() -> None:
    op.create_table(
        "scenario",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("head", sa.Integer, nullable=False),
        sa.Column("is_default", sa.Boolean, nullable=False),
        sa.Column("origin", sa.String(3), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_scenario"),
        sa.UniqueConstraint("key", name="uq_scenario_key"),
    )
    op.create_table(
        "scenario_revision",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("scenario_id", sa.Integer, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("change", sa.JSON, nullable=False),
        sa.Column("snapshot", sa.JSON, nullable=True),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("nation", sa.String(3), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_scenario_revision"),
        sa.ForeignKeyConstraint(["scenario_id"], ["scenario.id"], name="fk_scenario_revision_scenario_id_scenario"),
        sa.UniqueConstraint("scenario_id", "revision", name="uq_scenario_revision_scenario_id"),
    )


def _append_only() -> None:
    """The database refuses UPDATE and DELETE of a revision (revisions are history)."""
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER scenario_revision_no_{verb.lower()} BEFORE {verb} ON "
                "scenario_revision BEGIN SELECT RAISE(ABORT, 'scenario revisions are immutable'); "
                "END"
            )
        return
    op.execute(
        "CREATE FUNCTION scenario_revision_immutable() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION 'scenario revisions are immutable'; END $$"
    )
    op.execute(
        "CREATE TRIGGER scenario_revision_immutable BEFORE UPDATE OR DELETE OR TRUNCATE ON "
        "scenario_revision FOR EACH STATEMENT EXECUTE FUNCTION scenario_revision_immutable()"
    )


def _copy_old_rows() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(old_scenarios).order_by(old_scenarios.c.id)).mappings().all()
    if not rows:
        return
    marks: dict[int, list[dict[str, object]]] = {}
    for m in bind.execute(sa.select(old_markings)).mappings():
        marks.setdefault(m["scenario_id"], []).append(
            {
                "kind": m["kind"],
                "id": m["object_id"],
                "origin": m["origin"],
                "releasable_to": list(m["releasable_to"] or []),
            }
        )
    newest = {}
    for r in rows:
        newest[r["key"]] = r["id"]
    for r in rows:
        key = r["key"] if newest[r["key"]] == r["id"] else f"{r['key']}-{r['id']}"[:64]
        created = r["created_at"] or datetime.now(UTC)
        bind.execute(
            scenario.insert().values(
                id=r["id"],
                key=key,
                name=r["name"],
                head=r["revision"],
                is_default=bool(r["is_default"]),
                origin=r["origin"],
                created_by=r["uploaded_by"],
                created_at=created,
            )
        )
        snapshot = {
            "document": r["document"],
            "markings": sorted(marks.get(r["id"], []), key=lambda m: (m["kind"], m["id"])),
            "assumption_sets": [],
        }
        bind.execute(
            scenario_revision.insert().values(
                scenario_id=r["id"],
                revision=r["revision"],
                kind="migrated",
                change={"kind": "migrated", "from": "api_scenarios", "key": r["key"]},
                snapshot=snapshot,
                author=r["uploaded_by"],
                nation=r["origin"],
                note="moved from api_scenarios (earlier revisions were not kept there)",
                created_at=created,
            )
        )
    if bind.dialect.name == "postgresql":  # ids were given explicitly: move the sequence on
        bind.execute(
            sa.text(
                "SELECT setval(pg_get_serial_sequence('scenario', 'id'), (SELECT COALESCE(MAX(id), 1) FROM scenario))"
            )
        )


def upgrade() -> None:
    _create_tables()
    _append_only()
    _copy_old_rows()


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER scenario_revision_no_update")
        op.execute("DROP TRIGGER scenario_revision_no_delete")
    else:
        op.execute("DROP TRIGGER scenario_revision_immutable ON scenario_revision")
        op.execute("DROP FUNCTION scenario_revision_immutable()")
    op.drop_table("scenario_revision")
    op.drop_table("scenario")
