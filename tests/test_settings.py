"""Settings: the one place the environment is read, and a bad variable is a clear message."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import coalition
from coalition.errors import InputError
from coalition.settings import Settings

SRC = Path(coalition.__file__).resolve().parent
# `coalition serve --workers N` hands the insecure-cookie choice to its uvicorn worker processes,
# which build their own Settings from the environment: a write, not a read.
WRITES = {("cli/serve_cmds.py", "COALITION_INSECURE_COOKIES")}


def _environment_uses(tree: ast.AST) -> list[tuple[int, str]]:
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in {"environ", "getenv", "putenv"} and \
                isinstance(node.value, ast.Name) and node.value.id == "os":
            out.append((node.lineno, node.attr))
    return out


def test_only_settings_reads_the_environment() -> None:
    bad = []
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC).as_posix()
        if rel == "settings.py" or rel.startswith("store/migrations/"):
            continue
        text = path.read_text(encoding="utf-8")
        for line, attr in _environment_uses(ast.parse(text)):
            source = text.splitlines()[line - 1]
            if any(rel == f and var in source and "] =" in source for f, var in WRITES):
                continue
            bad.append(f"{rel}:{line}: os.{attr}")
    assert not bad, bad


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
