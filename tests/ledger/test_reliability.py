"""Crash and concurrency: kill -9 during a bulk import; two processes appending at once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from coalition.ledger.models import LedgerEvent
from coalition.ledger.verify import verify_log
from coalition.store.db import make_engine, session_factory, transaction

COALITION = [sys.executable, "-m", "coalition.cli.main"]


def _events(path: Path, prefix: str, n: int) -> Path:
    with path.open("w") as fh:
        for i in range(n):
            fh.write(json.dumps({
                "type": "manifest", "nation": "GBR", "person": "bulk loader", "time": "2026-03-01T10:00:00Z",
                "payload": {"manifest": f"{prefix}-M{i}", "origin": "GBR-HOME", "destination": "UA-LVIV/LV-D1", "receiver": "FRA",
                            "serials": [{"serial": f"{prefix}-{i}", "item_type": "RIFLE", "unit_value": 900}]},
            }) + "\n")
    return path


def _init(url: str, data: Path) -> None:
    """Database and keys made in-process (what `ledger init --no-sample` does, minus a start-up)."""
    from coalition.ledger import service
    from coalition.ledger.keys import KeyRing
    from coalition.store.migrate import upgrade

    engine = make_engine(url)
    upgrade(engine)
    from coalition.ledger.keyevents import trust_from_keyring

    keyring = KeyRing.generate(data / "keys", ["GBR"])
    (data / "trust.json").write_text(trust_from_keyring(keyring).to_json())
    with transaction(session_factory(engine)) as s:
        service.register_keys(s, keyring=keyring)
    engine.dispose()


def _check(url: str, data: Path) -> tuple[list[int], bool, list]:
    from coalition.ledger.trust import load_trust

    engine = make_engine(url)
    with transaction(session_factory(engine)) as s:
        seqs = list(s.scalars(select(LedgerEvent.seq).order_by(LedgerEvent.seq)))
        rep = verify_log(s, trust=load_trust(data / "trust.json"))
    engine.dispose()
    return seqs, rep.ok, rep.findings


def test_kill_9_during_bulk_import_loses_no_acknowledged_event(db_url: str, tmp_path: Path) -> None:
    data = tmp_path / "data"
    _init(db_url, data)
    src = _events(tmp_path / "events.jsonl", "K", 3000)
    proc = subprocess.Popen(
        [*COALITION, "ledger", "import", str(src), "--commit-every", "100", "--database-url", db_url,
         "--data-dir", str(data)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    acked = 0
    assert proc.stdout is not None
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if line.startswith("acknowledged"):
            acked = int(line.split("..")[1].split()[0])
            if acked >= 300:
                os.kill(proc.pid, signal.SIGKILL)  # mid-import: the next chunk is being written
                break
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "the import finished before it could be killed"
    seqs, ok, findings = _check(db_url, data)
    assert ok, findings
    assert len(seqs) >= acked  # every acknowledged event survived
    assert seqs == list(range(1, len(seqs) + 1))
    assert len(seqs) % 100 == 0  # whole chunks only: a killed transaction leaves nothing behind
    # resume from the last acknowledged event: nothing dropped, nothing repeated
    done = subprocess.run([*COALITION, "ledger", "import", str(src), "--commit-every", "500", "--resume",
                           "--database-url", db_url, "--data-dir", str(data)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"the first {len(seqs)} of 3000 events are already in the log" in done.stdout
    seqs, ok, findings = _check(db_url, data)
    assert ok, findings
    assert seqs == list(range(1, 3001))


def test_two_processes_appending_at_once_never_fork_the_chain(db_url: str, tmp_path: Path) -> None:
    data = tmp_path / "data"
    _init(db_url, data)
    procs = [
        subprocess.Popen(
            [*COALITION, "ledger", "import", str(_events(tmp_path / f"{p}.jsonl", p, 150)), "--commit-every", "15",
             "--database-url", db_url, "--data-dir", str(data)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for p in ("A", "B")
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err
    seqs, ok, findings = _check(db_url, data)
    assert ok, findings
    assert seqs == list(range(1, 301))
    # they really interleaved (each chunk took the lock separately)
    firsts = sorted(int(line.split()[2].split("..")[0]) for out, _ in outs for line in out.splitlines()
                    if line.startswith("acknowledged"))
    assert firsts == list(range(1, 301, 15))
