"""The audit log is tamper-evident: with the append-only triggers dropped, an edited, deleted or
reordered entry is found by ``coalition audit verify``, which names the first bad entry."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from coalition.audit import service
from coalition.auth.schemas import Principal, Role
from coalition.cli.main import app
from coalition.store.db import make_engine, session_factory, transaction
from coalition.store.migrate import upgrade

WHO = Principal(user_id=7, name="gbr-viewer", nation="GBR", roles=frozenset({Role.VIEWER}))


@pytest.fixture
def log(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    monkeypatch.setenv("COALITION_DATABASE_URL", db_url)
    monkeypatch.setenv("COALITION_DATA_DIR", str(tmp_path))
    engine = make_engine(db_url)
    upgrade(engine)
    factory = session_factory(engine)
    with transaction(factory) as db:
        for i in range(1, 7):
            service.append(
                db,
                principal=WHO,
                request_id=f"r{i}",
                change=service.AuditChange(
                    action="read",
                    object_type="pledge",
                    object_id=f"GBR-{i}",
                    after={"units": i, "nested": {"a": [1, 2.5, "x"]}},
                    note=f"n{i}",
                ),
            )
    yield engine
    engine.dispose()


def _drop_triggers(db) -> None:  # type: ignore[no-untyped-def]
    if db.bind.dialect.name == "sqlite":
        db.execute(text("DROP TRIGGER audit_log_no_update"))
        db.execute(text("DROP TRIGGER audit_log_no_delete"))
    else:
        db.execute(text("DROP TRIGGER audit_log_append_only ON audit_log"))


def _verify() -> tuple[int, str]:
    out = CliRunner().invoke(app, ["audit", "verify"])
    return out.exit_code, out.output


def _tamper(engine, *sql: str) -> None:  # type: ignore[no-untyped-def]
    with transaction(session_factory(engine)) as db:
        _drop_triggers(db)
        for stmt in sql:
            db.execute(text(stmt))


def test_intact_log_verifies_before_any_checkpoint(log) -> None:  # type: ignore[no-untyped-def]
    code, output = _verify()
    assert code == 0, output
    assert "6 entries" in output and "0 checkpoint" in output


def test_edited_entry_is_named(log) -> None:  # type: ignore[no-untyped-def]
    _tamper(log, "UPDATE audit_log SET object_id = 'FRA-1' WHERE seq = 3")
    code, output = _verify()
    assert code == 1
    assert "entry seq 3" in output and "edited" in output


def test_edited_json_is_found(log) -> None:  # type: ignore[no-untyped-def]
    _tamper(log, "UPDATE audit_log SET note = 'nothing to see' WHERE seq = 5")
    code, output = _verify()
    assert code == 1 and "entry seq 5" in output


def test_deleted_entry_is_named(log) -> None:  # type: ignore[no-untyped-def]
    _tamper(log, "DELETE FROM audit_log WHERE seq = 2")
    code, output = _verify()
    assert code == 1 and "entry seq 2" in output and "missing" in output


def test_deleted_entry_with_renumbering_is_named(log) -> None:  # type: ignore[no-untyped-def]
    _tamper(log, "DELETE FROM audit_log WHERE seq = 2", "UPDATE audit_log SET seq = seq - 1 WHERE seq > 2")
    code, output = _verify()
    assert code == 1 and "entry seq 2" in output


def test_reordered_entries_are_named(log) -> None:  # type: ignore[no-untyped-def]
    # swap the positions of entries 4 and 5 (hashes travel with their rows)
    _tamper(
        log,
        "UPDATE audit_log SET seq = -4 WHERE seq = 4",
        "UPDATE audit_log SET seq = 4 WHERE seq = 5",
        "UPDATE audit_log SET seq = 5 WHERE seq = -4",
    )
    code, output = _verify()
    assert code == 1 and "entry seq 4" in output


def test_truncated_tail_is_found(log) -> None:  # type: ignore[no-untyped-def]
    _tamper(log, "DELETE FROM audit_log WHERE seq = 6")
    code, output = _verify()
    assert code == 1 and "entry seq 6" in output


def test_rewritten_chain_is_caught_by_the_signed_checkpoint(log, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """An attacker who recomputes every hash after the edit (and the head) defeats the chain,
    but not the operator-signed checkpoint."""
    from coalition.audit import chain
    from coalition.audit.models import AuditEntry
    from coalition.ledger.keys import KeyRing

    KeyRing.generate(tmp_path / "keys", [])
    out = CliRunner().invoke(app, ["audit", "checkpoint"])
    assert out.exit_code == 0 and "signed by log-operator" in out.output, out.output
    assert _verify()[0] == 0
    _tamper(log, "UPDATE audit_log SET object_id = 'FRA-1' WHERE seq = 3")
    factory = session_factory(log)
    with transaction(factory) as db:
        prev = chain.GENESIS
        for e in db.query(AuditEntry).order_by(AuditEntry.seq):
            e.prev_hash = prev
            e.entry_hash = chain.entry_hash(prev, e)
            prev = e.entry_hash
        db.execute(text("UPDATE audit_head SET entry_hash = :h"), {"h": prev})
    code, output = _verify()
    assert code == 1 and "checkpoint 1" in output and "root" in output


def test_append_only_triggers_still_hold(log) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy.exc import DBAPIError

    assert CliRunner().invoke(app, ["audit", "checkpoint"]).exit_code == 0
    for stmt in ("UPDATE audit_log SET note = 'x'", "DELETE FROM audit_log", "DELETE FROM audit_checkpoints"):
        with pytest.raises(DBAPIError, match="append-only"):
            with transaction(session_factory(log)) as db:
                db.execute(text(stmt))
