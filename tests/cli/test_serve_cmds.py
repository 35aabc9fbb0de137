"""``coalition serve --workers N``: the worker processes build the serving process's settings.

uvicorn is replaced by a recorder that does what each worker does first, ``Settings.from_env()``
in the environment it inherits; the database, the app and its migration are real.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from coalition.cli.main import app
from coalition.errors import InputError
from coalition.settings import VARIABLES, Settings


@pytest.fixture
def workers_seen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[tuple[dict[str, Any], Settings]]:
    import uvicorn

    for name in set(VARIABLES.values()):  # monkeypatch restores every variable serve exports
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    monkeypatch.setenv("COALITION_DATA_DIR", str(tmp_path))
    seen: list[tuple[dict[str, Any], Settings]] = []

    def run(target: object, **kw: Any) -> None:
        assert target == "coalition.api.app:create_worker_app"
        seen.append((kw, Settings.from_env()))

    monkeypatch.setattr(uvicorn, "run", run)
    return seen


def test_workers_get_the_settings_and_insecure_cookies(workers_seen: list[tuple[dict[str, Any], Settings]],
                                                       tmp_path: Path) -> None:
    given = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'served.db'}",
                     rate_limit_per_minute=7, secret_key="shared-secret")
    out = CliRunner().invoke(app, ["serve", "--workers", "2", "--insecure-cookies", "--port", "8998"], obj=given)
    assert out.exit_code == 0, out.output
    [(kw, worker)] = workers_seen
    assert kw["workers"] == 2 and kw["factory"] is True and kw["port"] == 8998
    assert worker == given.with_overrides(insecure_cookies=True)
    assert (tmp_path / "served.db").exists()  # the serving process migrated the workers' database


def test_without_the_flag_cookies_stay_secure(workers_seen: list[tuple[dict[str, Any], Settings]]) -> None:
    out = CliRunner().invoke(app, ["serve", "--workers", "2"])
    assert out.exit_code == 0, out.output
    [(_, worker)] = workers_seen
    assert worker.insecure_cookies is False
    assert os.environ["COALITION_INSECURE_COOKIES"] == "0"


def test_a_setting_workers_cannot_get_stops_serve(workers_seen: list[tuple[dict[str, Any], Settings]],
                                                  tmp_path: Path) -> None:
    given = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'c.db'}", cpu_workers=3)
    out = CliRunner().invoke(app, ["serve", "--workers", "2"], obj=given)
    assert isinstance(out.exception, InputError), out.output  # exit 2 through coalition.cli.main.run
    [problem] = out.exception.problems
    assert problem.field == "cpu_workers" and "worker processes cannot be given it" in problem.message
    assert workers_seen == []
    assert not (tmp_path / "c.db").exists()  # refused before the database was touched
