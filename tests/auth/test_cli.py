"""`coalition users add|token|list` and the demo set-up of `coalition serve` (through Typer)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from coalition.cli.main import app


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("COALITION_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("COALITION_DATABASE_URL", raising=False)
    return tmp_path


def test_users_add_prints_a_token_once_and_it_works(env: Path) -> None:
    runner = CliRunner()
    out = runner.invoke(app, ["users", "add", "--nation", "GBR", "--role", "planner", "alice"])
    assert out.exit_code == 0, out.output
    token = re.search(r"(coa_[A-Za-z0-9_\-]{40,})", out.output).group(1)
    listed = runner.invoke(app, ["users", "list"])
    assert "alice" in listed.output and "GBR" in listed.output and token not in listed.output
    again = runner.invoke(app, ["users", "token", "alice", "--days", "3"])
    assert again.exit_code == 0 and again.output.strip().startswith("coa_")
    assert again.output.strip() != token

    from coalition.auth import service
    from coalition.settings import Settings
    from coalition.store.db import make_engine, session_factory, transaction

    engine = make_engine(Settings.from_env().database_url)
    with transaction(session_factory(engine)) as db:
        p = service.authenticate(db, token=token)
        assert (p.name, p.nation, sorted(p.roles)) == ("alice", "GBR", ["planner"])
    engine.dispose()


def test_users_bad_input_exit_codes(env: Path) -> None:
    runner = CliRunner()
    bad = runner.invoke(app, ["users", "add", "--nation", "GB", "--role", "planner", "bob"])
    assert bad.exit_code != 0
    bad_role = runner.invoke(app, ["users", "add", "--nation", "GBR", "--role", "general", "bob"])
    assert bad_role.exit_code == 2
    unknown = runner.invoke(app, ["users", "token", "nobody"])
    assert unknown.exit_code != 0


def test_demo_users_and_ledger(env: Path) -> None:
    from coalition.api import create_app
    from coalition.cli.serve_cmds import DEMO_USERS, ensure_demo_ledger, ensure_demo_users
    from coalition.settings import Settings

    app = create_app(Settings.from_env())
    state = app.state.coalition
    rows = ensure_demo_users(state.session_factory)
    assert [r[0] for r in rows] == [u[0] for u in DEMO_USERS]
    assert all(r[3].startswith("coa_") for r in rows)
    assert len(ensure_demo_users(state.session_factory)) == len(DEMO_USERS)  # idempotent
    assert "sample history" in ensure_demo_ledger(state)
    assert "already" in ensure_demo_ledger(state)
    state.engine.dispose()


def test_serve_prints_whole_tokens(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    calls: list[dict] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append(kw))
    out = CliRunner().invoke(app, ["serve", "--demo-users", "--port", "8999"], terminal_width=60)
    assert out.exit_code == 0, out.output
    assert calls == [{"host": "127.0.0.1", "port": 8999, "log_level": "info", "access_log": False}]
    tokens = re.findall(r"^  gbr-planner\s+GBR\s+planner\s+(\S+)$", out.output, re.M)
    assert len(tokens) == 1 and len(tokens[0]) > 40  # the whole token, not cut by the width
    from coalition.auth import service
    from coalition.settings import Settings
    from coalition.store.db import make_engine, session_factory, transaction

    engine = make_engine(Settings.from_env().database_url)
    with transaction(session_factory(engine)) as db:
        assert service.authenticate(db, token=tokens[0]).name == "gbr-planner"
    engine.dispose()


def test_users_tokens_and_revoke_cascades(env: Path) -> None:
    runner = CliRunner()
    out = runner.invoke(app, ["users", "add", "--nation", "GBR", "--role", "planner", "bob"])
    assert out.exit_code == 0, out.output
    token = re.search(r"(coa_[A-Za-z0-9_\-]{40,})", out.output).group(1)

    from coalition.auth import service
    from coalition.settings import Settings
    from coalition.store.db import make_engine, session_factory, transaction

    engine = make_engine(Settings.from_env().database_url)
    factory = session_factory(engine)
    with transaction(factory) as db:
        parent = service.authenticate(db, token=token)
        user = service.get_user(db, name="bob")
        child, child_secret = service.mint_token(db, by=parent, user=user, days=1, label="kid")
        child_id = child.id
    listed = runner.invoke(app, ["users", "tokens", "bob"])
    assert listed.exit_code == 0 and "kid" in listed.output and token not in listed.output
    out = runner.invoke(app, ["users", "revoke", "bob", str(parent.token_id)])
    assert out.exit_code == 0 and "1 token(s) minted from it" in out.output
    with transaction(factory) as db:
        for secret in (token, child_secret):
            with pytest.raises(service.AuthenticationFailed, match="revoked"):
                service.authenticate(db, token=secret)
    assert child_id != parent.token_id
    missing = runner.invoke(app, ["users", "revoke", "bob", "9999"])
    assert missing.exit_code != 0 and "not found" in str(missing.exception)
    engine.dispose()
