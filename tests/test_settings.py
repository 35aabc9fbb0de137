"""Settings: the one place the environment is read or written, and a bad variable is a clear message."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr

import coalition
from coalition.errors import InputError
from coalition.settings import VARIABLES, Settings, export_to_workers, worker_environment

SRC = Path(coalition.__file__).resolve().parent
ENV_NAMES = {"environ", "environb", "getenv", "getenvb", "putenv", "unsetenv"}


def _environment_uses(tree: ast.AST) -> list[tuple[int, str]]:
    """Every read or write of the process environment: ``os.environ[...]`` (also assigned,
    updated or deleted), ``os.getenv``/``putenv``/``unsetenv``, through any name ``os`` is
    imported as, ``from os import environ``, and ``__import__("os")``."""
    aliases = {"os"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            aliases |= {a.asname or a.name for a in node.names if a.name == "os"}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in ENV_NAMES and \
                isinstance(node.value, ast.Name) and node.value.id in aliases:
            out.append((node.lineno, f"os.{node.attr}"))
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            out += [(node.lineno, f"from os import {a.name}") for a in node.names if a.name in ENV_NAMES]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "__import__":
            out.append((node.lineno, "__import__"))
    return out


def test_the_scan_sees_reads_and_writes() -> None:
    sample = """
import os
import os as system
from os import environ, getenv, path
a = os.environ.get("X")
os.environ["COALITION_INSECURE_COOKIES"] = "1"
os.environ.update({"X": "1"})
del os.environ["X"]
os.putenv("X", "1")
system.environ.setdefault("X", "1")
b = __import__("os").environ
c = path.join("a", "b")
"""
    found = _environment_uses(ast.parse(sample))
    assert sorted({n for n, _ in found}) == [4, 5, 6, 7, 8, 9, 10, 11]  # not line 12 (os.path)
    assert (4, "from os import environ") in found and (4, "from os import getenv") in found


def test_only_settings_reads_or_writes_the_environment() -> None:
    bad = []
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC).as_posix()
        if rel == "settings.py":
            continue
        for line, what in _environment_uses(ast.parse(path.read_text(encoding="utf-8"))):
            bad.append(f"{rel}:{line}: {what}")
    assert not bad, bad


def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No COALITION_* variable; monkeypatch restores them all, also those a test exports."""
    for name in {n for n in os.environ if n.startswith("COALITION_")} | set(VARIABLES.values()):
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)


def test_worker_environment_rebuilds_the_same_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Every setting with a variable, away from its default, survives the hand-over to a worker."""
    given = Settings(
        database_url=f"sqlite:///{tmp_path / 'other.db'}", data_dir=tmp_path / "data", scenario="my/scenario",
        secret_key="s3cret", executor="dask://tcp://10.0.0.1:8786", plan_workers=3, plan_quota=4,
        plan_time_limit_max=12.5, session_idle_minutes=7, session_absolute_hours=2, rate_limit_per_minute=9,
        rate_limit_burst=5, trust_file=tmp_path / "trust.json", demo_passphrase="pass", witnesses=("http://w1",
        "http://w2"), backdate_tolerance_s=60, witness_quorum=2, insecure_cookies=True,
        key_passphrase=SecretStr("kp"), pkcs11_pin=SecretStr("1234"), token=SecretStr("tok"))
    assert set(VARIABLES) == set(Settings.model_fields) - {"max_upload_bytes", "cpu_workers", "cpu_time_limit_s"}
    changed = [n for n, f in Settings.model_fields.items() if n in VARIABLES and getattr(given, n) == f.default]
    assert not changed, f"the sample leaves {changed} at the default: it would not test them"
    _clean_environment(monkeypatch)
    export_to_workers(given)
    assert Settings.from_env() == given
    # the defaults (None, False, no witnesses) hand over too, over a polluted environment
    monkeypatch.setenv("COALITION_SCENARIO", "stale")
    export_to_workers(Settings(data_dir=tmp_path))
    assert os.environ["COALITION_SCENARIO"] == ""
    assert Settings.from_env() == Settings(data_dir=tmp_path)


def test_a_setting_without_a_variable_is_not_handed_over_silently() -> None:
    with pytest.raises(InputError) as caught:
        worker_environment(Settings(cpu_workers=4))
    [problem] = caught.value.problems
    assert problem.field == "cpu_workers" and "no COALITION_* variable" in problem.message


def test_a_data_dir_override_moves_the_default_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _clean_environment(monkeypatch)
    assert Settings.from_env(data_dir=tmp_path).database_url == f"sqlite:///{tmp_path / 'coalition.db'}"
    assert Settings.from_env(data_dir=tmp_path, database_url="sqlite:///x.db").database_url == "sqlite:///x.db"
    monkeypatch.setenv("COALITION_DATABASE_URL", "sqlite:///env.db")
    assert Settings.from_env(data_dir=tmp_path).database_url == "sqlite:///env.db"


@pytest.mark.parametrize(("env", "value", "kind"), [
    ("COALITION_PLAN_WORKERS", "two", "a whole number"),
    ("COALITION_PLAN_TIME_LIMIT_MAX", "ten minutes", "a number"),
    ("COALITION_SESSION_IDLE_MINUTES", "1.5", "a whole number"),
    ("COALITION_WITNESS_QUORUM", "", None),  # empty = unset: the default
])
def test_a_bad_variable_names_itself(monkeypatch: pytest.MonkeyPatch, env: str, value: str,
                                     kind: str | None) -> None:
    monkeypatch.setenv(env, value)
    if kind is None:
        assert Settings.from_env().witness_quorum == 0
        return
    with pytest.raises(InputError) as caught:
        Settings.from_env()
    [problem] = caught.value.problems
    assert problem.field == env and kind in problem.message and repr(value) in problem.message


def test_secrets_from_the_environment_are_never_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COALITION_KEY_PASSPHRASE", "hunter2-canary")
    monkeypatch.setenv("COALITION_TOKEN", "tok-canary")
    s = Settings.from_env()
    assert s.key_passphrase is not None and s.key_passphrase.get_secret_value() == "hunter2-canary"
    assert "canary" not in repr(s) and "canary" not in s.model_dump_json()


def test_the_cli_turns_a_bad_variable_into_exit_2(tmp_path: Path) -> None:
    env = {"COALITION_DATA_DIR": str(tmp_path), "COALITION_PLAN_QUOTA": "many", "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-m", "coalition.cli", "users", "list"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "COALITION_PLAN_QUOTA='many' is not a whole number" in " ".join(proc.stderr.split())
    assert "Traceback" not in proc.stderr
