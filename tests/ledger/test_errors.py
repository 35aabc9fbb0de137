"""No traceback anywhere: a locked database, concurrent checkpoints, concurrent first inits,
non-UTF-8 input, a wrong --skip."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from coalition.ledger import checkpoints

from .ledger_helpers import Ledger, shipped

COALITION = [sys.executable, "-m", "coalition.cli.main"]


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*COALITION, *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **env})


def test_locked_sqlite_database_is_a_message_not_a_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             capsys) -> None:  # type: ignore[no-untyped-def]
    import coalition.store.db as db
    from coalition.cli.main import run

    data = tmp_path / "d"
    monkeypatch.setenv("COALITION_DATA_DIR", str(data))
    monkeypatch.delenv("COALITION_DATABASE_URL", raising=False)
    monkeypatch.setattr(sys, "argv", ["coalition", "ledger", "init", "--no-sample"])
    run_ok = pytest.raises(SystemExit)
    with run_ok:
        run()
        raise SystemExit(0)
    real = db._sqlite_pragmas

    def quick(conn, rec):  # type: ignore[no-untyped-def]
        real(conn, rec)
        conn.execute("PRAGMA busy_timeout=200")  # do not wait 30 s in a test

    monkeypatch.setattr(db, "_sqlite_pragmas", quick)
    holder = sqlite3.connect(data / "coalition.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        monkeypatch.setattr(sys, "argv", ["coalition", "ledger", "checkpoint"])
        with pytest.raises(SystemExit) as exit_:
            run()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert "database is locked" in err and "Traceback" not in err


def test_concurrent_checkpoints_do_not_collide(ledger: Ledger) -> None:
    shipped(ledger)
    errors: list[BaseException] = []
    made: list[int] = []

    def one() -> None:
        try:
            with ledger.session() as s:
                made.append(checkpoints.make_checkpoint(s, keyring=ledger.keyring).checkpoint_id)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert set(made) == {1}  # the same head: one checkpoint, returned to every caller
    assert ledger.verify().ok


def test_concurrent_first_inits_make_one_key_store_and_one_log(tmp_path: Path) -> None:
    env = {"COALITION_DATA_DIR": str(tmp_path / "d"), "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    env.pop("COALITION_DATABASE_URL", None)
    procs = [subprocess.Popen([*COALITION, "ledger", "init"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env={k: v for k, v in {**os.environ, **env}.items() if k != "COALITION_DATABASE_URL"})
             for _ in range(3)]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (_out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err
        assert "Traceback" not in err
    assert sum("loaded the ILLUSTRATIVE sample" in out for out, _ in outs) == 1
    v = _run(["ledger", "verify"], {k: v for k, v in env.items()})
    assert v.returncode == 0, v.stdout + v.stderr


def test_init_from_another_folder_finds_the_same_keys(tmp_path: Path) -> None:
    env = {"COALITION_DATA_DIR": "rel-data", "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    first = subprocess.run([*COALITION, "ledger", "init", "--no-sample"], cwd=a, capture_output=True, text=True,
                           env={**{k: v for k, v in os.environ.items() if k != "COALITION_DATABASE_URL"}, **env})
    assert first.returncode == 0, first.stderr
    assert str(a / "rel-data" / "keys") in first.stdout.replace("\n", "")  # made absolute from settings
    # a different folder with the same (absolute) data dir: the same key store, nothing new
    env["COALITION_DATA_DIR"] = str(a / "rel-data")
    again = subprocess.run([*COALITION, "ledger", "init", "--no-sample"], cwd=b, capture_output=True, text=True,
                           env={**{k: v for k, v in os.environ.items() if k != "COALITION_DATABASE_URL"}, **env})
    assert again.returncode == 0, again.stderr
    assert "0 nation key(s) registered" in again.stdout
    assert not (b / ".coalition").exists() and not (b / "rel-data").exists()


def test_non_utf8_import_names_the_line(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from coalition.cli.main import app
    from coalition.errors import InputError

    f = tmp_path / "events.jsonl"
    f.write_bytes(b'# fine\n{"type": "count"}\n{"person": "Jos\xe9"}\n')
    res = CliRunner().invoke(app, ["ledger", "import", str(f), "--data-dir", str(tmp_path / "d")])
    assert isinstance(res.exception, InputError)
    assert "row 3" in str(res.exception) and "not UTF-8" in str(res.exception)
