"""The `auth` Alembic branch: up, down to its base and up again, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import inspect

from coalition.store.db import make_engine
from coalition.store.migrate import downgrade, upgrade

# api_scenarios, api_markings and api_plan_jobs moved to the scenario and planner branches
# (tests/scenario/test_migration.py); downgrading auth takes those dependents down first.
TABLES = {"auth_users", "auth_tokens", "audit_log", "api_transfer_requests"}
MOVED = {"scenario", "scenario_revision", "planner_run", "planner_run_result"}


def test_auth_branch_round_trip(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        upgrade(engine)
        assert TABLES <= set(inspect(engine).get_table_names())
        downgrade(engine, "auth@base")
        assert not (TABLES | MOVED) & set(inspect(engine).get_table_names())
        upgrade(engine)
        assert TABLES <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
