"""The ledger branch of the migrations builds exactly the tables the ORM models describe."""

from __future__ import annotations

from sqlalchemy import inspect, text

import coalition.inventory.models  # noqa: F401 - registers the tables on Base.metadata
import coalition.ledger.models  # noqa: F401
from coalition.store.db import Base, make_engine, session_factory, transaction
from coalition.store.migrate import downgrade, upgrade

OURS = ("ledger_", "inv_")


def _our_tables() -> list:
    return [t for t in Base.metadata.sorted_tables if t.name.startswith(OURS)]


def test_upgrade_builds_model_tables_and_downgrade_removes_them(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    upgrade(engine)  # idempotent: a second run is a no-op
    insp = inspect(engine)
    names = set(insp.get_table_names())
    for table in _our_tables():
        assert table.name in names
        stored = {c["name"]: c for c in insp.get_columns(table.name)}
        assert set(stored) == {c.name for c in table.columns}, table.name
        for col in table.columns:
            assert stored[col.name]["nullable"] == col.nullable or col.primary_key, (
                table.name,
                col.name,
            )
    with engine.connect() as conn:
        heads = {r[0] for r in conn.execute(text("select version_num from alembic_version"))}
    assert any(h.startswith("ledger_") for h in heads)  # the ledger branch is at its head
    downgrade(engine, "ledger@base")
    left = set(inspect(engine).get_table_names())
    assert not any(n.startswith(OURS) for n in left)
    engine.dispose()


def test_quantity_check_constraint_is_enforced(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    factory = session_factory(engine)
    import pytest
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        with transaction(factory) as s:
            s.execute(
                text(
                    "insert into inv_lot_stock (stock_key, lot, status, reason, custodian, location,"
                    " hub, depot, storehouse, bay, end_user, end_user_ref, manifest, quantity,"
                    " last_seq) values ('k','L','serviceable','','GBR','','','','','','','','',-1,1)"
                )
            )
    engine.dispose()


def test_sqlite_runs_wal_with_full_sync(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    engine.dispose()


def test_planner_0003_adds_names_and_pins_and_downgrade_removes_them(db_url: str) -> None:
    engine = make_engine(db_url)
    added = {"name", "name_nation", "pinned", "pinned_by", "pinned_at"}
    try:
        upgrade(engine, "planner_0002")
        assert not added & {c["name"] for c in inspect(engine).get_columns("planner_run")}
        with engine.begin() as conn:  # a run stored before names existed
            conn.execute(
                text(
                    "insert into scenario (id, key, name, origin, created_by, created_at, head, is_default)"
                    " values (1, 'k', 'n', 'GBR', 'x', '2026-12-01T00:00:00+00:00', 1, false)"
                )
            )
            conn.execute(
                text(
                    "insert into planner_run (id, kind, scenario_id, revision, option, seed, assumptions,"
                    " assumptions_hash, options, run_key, status, progress, message, requested_by, nation,"
                    " cancel_requested, created_at) values (5, 'plan', 1, 1, 'small', 0, '[]', 'h', '{}',"
                    " 'k', 'done', 1.0, '', 'someone', 'GBR', false, '2026-12-01T00:00:00+00:00')"
                )
            )
            # a result row: a foreign key to planner_run (a migration that copied the table fails)
            conn.execute(text("insert into planner_run_result (run_id, plan) values (5, '{}')"))
        upgrade(engine)
        cols = {c["name"]: c for c in inspect(engine).get_columns("planner_run")}
        from coalition.planner.runs import PlanRun

        model = PlanRun.__table__.columns  # the migrated table is exactly the model's
        assert set(cols) == {c.name for c in model} and added <= set(cols)
        assert all(cols[c.name]["nullable"] == c.nullable for c in model if not c.primary_key)
        assert "ix_planner_run_kind_pinned_id" in {i["name"] for i in inspect(engine).get_indexes("planner_run")}
        with engine.begin() as conn:
            assert conn.execute(text("select name, pinned from planner_run where id = 5")).one() == (None, False)
            conn.execute(text("update planner_run set name = 'kept?', pinned = true where id = 5"))
        downgrade(engine, "planner_0002")
        assert not added & {c["name"] for c in inspect(engine).get_columns("planner_run")}
        with engine.connect() as conn:  # the run itself survives the downgrade
            assert conn.execute(text("select status from planner_run where id = 5")).scalar() == "done"
        upgrade(engine)
        assert added <= {c["name"] for c in inspect(engine).get_columns("planner_run")}
    finally:
        engine.dispose()
