"""One CLI pattern for settings: read from the environment once per invocation, shared by every
helper of the command, injectable by a caller, and never read by a command that needs none."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from coalition.cli import context
from coalition.cli.main import app
from coalition.errors import InputError
from coalition.settings import Settings

runner = CliRunner()


def _probe_app(seen: list[Settings]) -> typer.Typer:
    probe = typer.Typer()
    probe.callback()(context.begin_invocation)  # as coalition.cli.main does

    def helper() -> None:  # a helper deep in a command reads the same object
        seen.append(context.settings())

    @probe.command()
    def show() -> None:
        seen.append(context.settings())
        helper()
        seen.append(context.settings(database_url="sqlite:///elsewhere.db"))

    @probe.command()
    def other() -> None:
        seen.append(context.settings())

    return probe


def test_environment_is_read_once_per_invocation(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = Settings.from_env.__func__  # type: ignore[attr-defined]

    def counting(cls: type[Settings], **overrides: object) -> Settings:
        calls.append(1)
        return real(cls, **overrides)  # type: ignore[no-any-return]

    monkeypatch.setattr(Settings, "from_env", classmethod(counting))
    monkeypatch.setenv("COALITION_DATABASE_URL", "sqlite:///from-env.db")
    seen: list[Settings] = []
    result = runner.invoke(_probe_app(seen), ["show"])
    assert result.exit_code == 0, result.output
    assert len(calls) == 1
    assert seen[0] is seen[1]  # the same object, not an equal copy
    assert seen[0].database_url == "sqlite:///from-env.db"
    assert seen[2].database_url == "sqlite:///elsewhere.db"  # an override, on top of the same base
    assert seen[2].data_dir == seen[0].data_dir
    # a second invocation reads the environment again (a changed variable is seen)
    monkeypatch.setenv("COALITION_DATABASE_URL", "sqlite:///changed.db")
    assert runner.invoke(_probe_app(seen), ["show"]).exit_code == 0
    assert len(calls) == 2
    assert seen[3].database_url == "sqlite:///changed.db"


def test_caller_can_pass_settings_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COALITION_PLAN_WORKERS", "not-a-number")  # would fail if read
    given = Settings(database_url="sqlite:///given.db")
    seen: list[Settings] = []
    result = runner.invoke(_probe_app(seen), ["other"], obj=given)
    assert result.exit_code == 0, result.output
    assert seen == [given]


def test_malformed_environment_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COALITION_PLAN_WORKERS", "many")
    result = runner.invoke(_probe_app([]), ["other"])
    assert isinstance(result.exception, InputError)
    assert "COALITION_PLAN_WORKERS" in str(result.exception)


def test_bad_override_is_an_input_error() -> None:
    with pytest.raises(InputError, match="plan_workers"):
        Settings().with_overrides(plan_workers="lots")


def test_command_needing_no_settings_ignores_a_broken_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COALITION_PLAN_WORKERS", "many")
    result = runner.invoke(app, ["version"])
    assert result.exit_code == 0
    assert result.output.strip()


def test_real_command_uses_the_injected_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the environment is broken; the settings passed in point at an empty database
    monkeypatch.setenv("COALITION_PLAN_WORKERS", "many")
    given = Settings(database_url=f"sqlite:///{tmp_path / 'empty.db'}", data_dir=tmp_path)
    result = runner.invoke(app, ["audit", "verify"], obj=given)
    assert not isinstance(result.exception, InputError), result.exception
    assert result.exit_code == 2  # no audit log in that database
    assert "no audit log" in result.output


def test_outside_a_command_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COALITION_DATABASE_URL", "sqlite:///library.db")
    assert context.settings().database_url == "sqlite:///library.db"


def test_a_data_dir_moves_the_default_database_but_not_a_set_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("COALITION_DATABASE_URL", raising=False)
    monkeypatch.setenv("COALITION_DATA_DIR", str(tmp_path / "home"))
    moved = context.settings_in(tmp_path / "other")
    assert Path(moved.data_dir) == tmp_path / "other"
    assert moved.database_url == f"sqlite:///{tmp_path / 'other' / 'coalition.db'}"
    assert context.settings_in(None).database_url == f"sqlite:///{tmp_path / 'home' / 'coalition.db'}"
    monkeypatch.setenv("COALITION_DATABASE_URL", "sqlite:///set.db")
    assert context.settings_in(tmp_path / "other").database_url == "sqlite:///set.db"
    flag = context.settings_in(tmp_path / "other", database_url="sqlite:///flag.db")
    assert flag.database_url == "sqlite:///flag.db"


def test_ledger_commands_use_the_invocation_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # the environment names one database, the caller passes settings naming another: the ledger
    # context (coalition.cli.ledger_ctx) opens the caller's
    monkeypatch.setenv("COALITION_DATABASE_URL", f"sqlite:///{tmp_path / 'env.db'}")
    given = Settings.from_env(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'given.db'}")
    result = runner.invoke(app, ["ledger", "trust", "export", str(tmp_path / "trust.json")], obj=given)
    assert (tmp_path / "given.db").exists(), result.output
    assert not (tmp_path / "env.db").exists()
