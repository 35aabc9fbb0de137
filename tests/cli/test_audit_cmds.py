"""coalition.cli.audit_cmds on a real database: `audit verify` passes a chained log and names the
first edited entry (exit 1); `audit checkpoint` records the root and verify then checks it;
a database without the audit tables is exit 2 with a message, not a traceback."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text
from typer.testing import CliRunner

from coalition.auth.service import AuditChange, record_audit, system_principal
from coalition.cli.audit_cmds import audit_app
from coalition.cli.main import app
from coalition.settings import Settings
from coalition.store.db import make_engine, session_factory, transaction
from coalition.store.migrate import upgrade

runner = CliRunner()


def _log(url: str, n: int) -> None:
    engine = make_engine(url)
    try:
        upgrade(engine)
        with transaction(session_factory(engine)) as db:
            for i in range(n):
                record_audit(
                    db,
                    principal=system_principal(),
                    request_id=f"r{i}",
                    change=AuditChange(action="test", object_type="probe", object_id=str(i), after={"i": i}),
                )
    finally:
        engine.dispose()


def _settings(tmp_path: Path, url: str) -> Settings:
    return Settings(database_url=url, data_dir=tmp_path / "data")


def test_verify_passes_then_names_the_edited_entry(tmp_path: Path, sqlite_url: str) -> None:
    _log(sqlite_url, 3)
    ok = runner.invoke(app, ["audit", "verify"], obj=_settings(tmp_path, sqlite_url))
    assert ok.exit_code == 0, ok.output
    assert "audit log verifies: 3 entries chained" in ok.output
    engine = make_engine(sqlite_url)
    with engine.begin() as conn:  # the attacker has the database: the append-only trigger goes first
        conn.execute(text("DROP TRIGGER audit_log_no_update"))
        conn.execute(text("UPDATE audit_log SET note = 'edited' WHERE seq = 2"))
    engine.dispose()
    bad = runner.invoke(app, ["audit", "verify"], obj=_settings(tmp_path, sqlite_url))
    assert bad.exit_code == 1
    assert "does NOT verify" in bad.output and "first bad entry: entry seq 2 " in bad.output


def test_checkpoint_then_verify_counts_it(tmp_path: Path, sqlite_url: str) -> None:
    _log(sqlite_url, 2)
    cp = runner.invoke(app, ["audit", "checkpoint"], obj=_settings(tmp_path, sqlite_url))
    assert cp.exit_code == 0, cp.output
    assert "2 entries" in cp.output and "unsigned (no operator key)" in cp.output
    ok = runner.invoke(app, ["audit", "verify"], obj=_settings(tmp_path, sqlite_url))
    assert ok.exit_code == 0 and "1 checkpoint(s)" in ok.output


def test_a_database_without_the_audit_log_is_exit_2(tmp_path: Path, sqlite_url: str) -> None:
    result = runner.invoke(audit_app, ["verify"], obj=_settings(tmp_path, sqlite_url))
    assert result.exit_code == 2
    assert "no audit log in this database" in result.output
