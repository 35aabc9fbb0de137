"""scenario: drop the emptied api_scenarios and api_markings tables (their rows moved to
scenario / scenario_revision in scenario_0001; the plan jobs that referenced them moved to
planner_run in planner_0001). The downgrade recreates them from each scenario's head revision.

Revision ID: scenario_0002
Revises: scenario_0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "scenario_0002"
down_revision = "scenario_0001"
branch_labels = None
depends_on = ("planner_0001",)

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.drop_table("api_markings")
    op.drop_table("api_scenarios")


def downgrade() -> None:
    from sqlalchemy.orm import Session

    from coalition.scenario import store
    from coalition.scenario.models import StoredScenario

    op.create_table(
        "api_scenarios",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("document", sa.JSON, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("is_default", sa.Boolean, nullable=False),
        sa.Column("origin", sa.String(3), nullable=False),
        sa.Column("uploaded_by", sa.String(64), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_api_scenarios"),
    )
    op.create_index("ix_api_scenarios_key", "api_scenarios", ["key"])
    op.create_table(
        "api_markings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("scenario_id", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("object_id", sa.String(100), nullable=False),
        sa.Column("origin", sa.String(3), nullable=False),
        sa.Column("releasable_to", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_api_markings"),
        sa.ForeignKeyConstraint(
            ["scenario_id"], ["api_scenarios.id"], name="fk_api_markings_scenario_id_api_scenarios"
        ),
        sa.UniqueConstraint("scenario_id", "kind", "object_id", name="uq_api_markings_scenario_id"),
    )
    old = sa.table(
        "api_scenarios",
        *(sa.column(n) for n in ("id", "key", "name", "revision", "is_default", "origin", "uploaded_by", "created_at")),
        sa.column("document", sa.JSON),
    )
    marks = sa.table(
        "api_markings",
        *(sa.column(n) for n in ("scenario_id", "kind", "object_id", "origin")),
        sa.column("releasable_to", sa.JSON),
    )
    session = Session(bind=op.get_bind())
    for row in session.scalars(sa.select(StoredScenario).order_by(StoredScenario.id)).all():
        state = store.state_at(session, scenario_id=row.id, revision=row.head)
        session.execute(
            old.insert().values(
                id=row.id,
                key=row.key,
                name=row.name,
                document=state.scenario.model_dump(mode="json"),
                revision=row.head,
                is_default=row.is_default,
                origin=row.origin,
                uploaded_by=row.created_by,
                created_at=row.created_at,
            )
        )
        for (kind, oid), m in state.markings.items():
            session.execute(
                marks.insert().values(
                    scenario_id=row.id, kind=kind, object_id=oid, origin=m.origin, releasable_to=list(m.releasable_to)
                )
            )
    session.flush()
