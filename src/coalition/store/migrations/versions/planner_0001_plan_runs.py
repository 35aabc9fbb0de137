"""planner: plan runs (small rows, for lists) and their results (stored apart, fetched by id);
the rows of api_plan_jobs are moved here (a data migration), then that table is dropped.

A moved job keeps its id, status, progress, times and plan. The old rows did not record the
scenario revision they planned, so a moved run carries the scenario's revision at the time of
the migration and a run key of its own (``migrated-<id>``): it is listed and readable, never
reused in place of a new solve.

Revision ID: planner_0001
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "planner_0001"
down_revision = None
branch_labels = ("planner",)
depends_on = ("scenario_0001",)

TZ = sa.DateTime(timezone=True)

JOB_COLUMNS = (
    "id",
    "scenario_id",
    "option",
    "at",
    "assumptions",
    "time_limit_s",
    "status",
    "progress",
    "message",
    "result",
    "error",
    "requested_by",
    "nation",
    "created_at",
    "finished_at",
)
old_jobs = sa.table(
    "api_plan_jobs",
    sa.column("id", sa.Integer),
    sa.column("scenario_id", sa.Integer),
    sa.column("option", sa.String),
    sa.column("at", sa.String),
    sa.column("assumptions", sa.JSON),
    sa.column("time_limit_s", sa.Float),
    sa.column("status", sa.String),
    sa.column("progress", sa.Float),
    sa.column("message", sa.Text),
    sa.column("result", sa.JSON),
    sa.column("error", sa.Text),
    sa.column("requested_by", sa.String),
    sa.column("nation", sa.String),
    sa.column("created_at", TZ),
    sa.column("finished_at", TZ),
)
scenario = sa.table("scenario", sa.column("id", sa.Integer), sa.column("head", sa.Integer))
run = sa.table(
    "planner_run",
    *(
        sa.column(n)
        for n in (
            "id",
            "scenario_id",
            "revision",
            "option",
            "at",
            "seed",
            "assumptions_hash",
            "run_key",
            "status",
            "progress",
            "message",
            "error",
            "requested_by",
            "nation",
            "cancel_requested",
            "reused_from",
        )
    ),
    sa.column("assumptions", sa.JSON),
    sa.column("options", sa.JSON),
    sa.column("summary", sa.JSON),
    sa.column("created_at", TZ),
    sa.column("started_at", TZ),
    sa.column("finished_at", TZ),
)
run_result = sa.table("planner_run_result", sa.column("run_id"), sa.column("plan", sa.JSON))


def _old_jobs_table() -> None:
    op.create_table(
        "api_plan_jobs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("scenario_id", sa.Integer, nullable=False),
        sa.Column("option", sa.String(64), nullable=False),
        sa.Column("at", sa.String(10), nullable=True),
        sa.Column("assumptions", sa.JSON, nullable=False),
        sa.Column("time_limit_s", sa.Float, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("progress", sa.Float, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("result", sa.JSON, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("requested_by", sa.String(64), nullable=False),
        sa.Column("nation", sa.String(3), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("finished_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_plan_jobs"),
        sa.ForeignKeyConstraint(
            ["scenario_id"], ["api_scenarios.id"], name="fk_api_plan_jobs_scenario_id_api_scenarios"
        ),
    )


def upgrade() -> None:
    op.create_table(
        "planner_run",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("scenario_id", sa.Integer, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("option", sa.String(64), nullable=False),
        sa.Column("at", sa.String(10), nullable=True),
        sa.Column("seed", sa.Integer, nullable=False),
        sa.Column("assumptions", sa.JSON, nullable=False),
        sa.Column("assumptions_hash", sa.String(64), nullable=False),
        sa.Column("options", sa.JSON, nullable=False),
        sa.Column("run_key", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("progress", sa.Float, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("requested_by", sa.String(64), nullable=False),
        sa.Column("nation", sa.String(3), nullable=False),
        sa.Column("cancel_requested", sa.Boolean, nullable=False),
        sa.Column("summary", sa.JSON, nullable=True),
        sa.Column("reused_from", sa.Integer, nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("started_at", TZ, nullable=True),
        sa.Column("finished_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_planner_run"),
        sa.ForeignKeyConstraint(["scenario_id"], ["scenario.id"], name="fk_planner_run_scenario_id_scenario"),
    )
    op.create_index("ix_planner_run_run_key", "planner_run", ["run_key"])
    op.create_index("ix_planner_run_status", "planner_run", ["status", "id"])
    op.create_index("ix_planner_run_nation", "planner_run", ["nation", "id"])
    op.create_table(
        "planner_run_result",
        sa.Column("run_id", sa.Integer, nullable=False),
        sa.Column("plan", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("run_id", name="pk_planner_run_result"),
        sa.ForeignKeyConstraint(["run_id"], ["planner_run.id"], name="fk_planner_run_result_run_id_planner_run"),
    )
    bind = op.get_bind()
    heads = {r[0]: r[1] for r in bind.execute(sa.select(scenario.c.id, scenario.c.head))}
    for j in bind.execute(sa.select(old_jobs).order_by(old_jobs.c.id)).mappings().all():
        result = j["result"]
        summary = None
        if isinstance(result, dict):
            summary = {
                "status": (result.get("solve") or {}).get("status"),
                "coverage_pct": (result.get("kpis") or {}).get("coverage_pct"),
            }
        bind.execute(
            run.insert().values(
                id=j["id"],
                scenario_id=j["scenario_id"],
                revision=heads.get(j["scenario_id"], 1),
                option=j["option"],
                at=j["at"],
                seed=0,
                assumptions=list(j["assumptions"] or []),
                assumptions_hash="",
                options={"time_limit": j["time_limit_s"]},
                run_key=f"migrated-{j['id']}",
                status=j["status"],
                progress=j["progress"],
                message=j["message"],
                error=j["error"],
                requested_by=j["requested_by"],
                nation=j["nation"],
                cancel_requested=False,
                summary=summary,
                reused_from=None,
                created_at=j["created_at"],
                started_at=None,
                finished_at=j["finished_at"],
            )
        )
        if result is not None:
            bind.execute(run_result.insert().values(run_id=j["id"], plan=result))
    if bind.dialect.name == "postgresql":
        bind.execute(
            sa.text(
                "SELECT setval(pg_get_serial_sequence('planner_run', 'id'), "
                "(SELECT COALESCE(MAX(id), 1) FROM planner_run))"
            )
        )
    op.drop_table("api_plan_jobs")


def downgrade() -> None:
    _old_jobs_table()
    bind = op.get_bind()
    results = {r[0]: r[1] for r in bind.execute(sa.select(run_result.c.run_id, run_result.c.plan))}
    for r in bind.execute(sa.select(run).order_by(run.c.id)).mappings().all():
        bind.execute(
            old_jobs.insert().values(
                id=r["id"],
                scenario_id=r["scenario_id"],
                option=r["option"],
                at=r["at"],
                assumptions=r["assumptions"],
                time_limit_s=float((r["options"] or {}).get("time_limit", 20.0)),
                status=r["status"],
                progress=r["progress"],
                message=r["message"],
                result=results.get(r["id"]),
                error=r["error"],
                requested_by=r["requested_by"],
                nation=r["nation"],
                created_at=r["created_at"],
                finished_at=r["finished_at"],
            )
        )
    op.drop_table("planner_run_result")
    op.drop_table("planner_run")
