"""`coalition ledger ...` end to end: the fresh-clone report, import errors, verify after tampering."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from coalition.cli.main import app
from coalition.errors import CoalitionError, InputError
from coalition.ledger.sample import sample_events_path

COALITION = [sys.executable, "-m", "coalition.cli.main"]


class Result:
    def __init__(self, code: int, stdout: str, stderr: str) -> None:
        self.returncode, self.stdout, self.stderr = code, stdout, stderr


def _cli(args: list[str], data: Path) -> Result:
    """In-process run with the exit-code mapping of coalition.cli.main.run (2 input, 1 other)."""
    db = f"sqlite:///{data / 'coalition.db'}"
    res = CliRunner().invoke(app, [*args, "--database-url", db, "--data-dir", str(data)])
    exc = res.exception
    if isinstance(exc, InputError):
        return Result(2, res.stdout, str(exc))
    if isinstance(exc, CoalitionError):
        return Result(1, res.stdout, str(exc))
    if exc is not None and not isinstance(exc, SystemExit):
        raise exc
    return Result(res.exit_code, res.stdout, "")


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COALITION_")}
    return subprocess.run([*COALITION, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def _sample_serials(donor: str) -> set[str]:
    out = set()
    for line in sample_events_path().read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        e = json.loads(line)
        if e["type"] == "manifest" and e["nation"] == donor:
            out |= {s["serial"] for s in e["payload"].get("serials", [])}
    return out


def test_fresh_machine_report_shows_every_british_serial(tmp_path: Path) -> None:
    proc = _run(["ledger", "report", "--donor", "GBR", "--as-of", "2026-11-25", "--json"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout[proc.stdout.index("{"):]
    rep = json.loads(text)
    serials = {i["ref"]: i for i in rep["items"] if i["kind"] == "serial"}
    assert set(serials) == _sample_serials("GBR")
    assert all(i["where"] for i in serials.values())
    assert serials["GBR-NVD-0030"]["status"] == "in_transit" and not serials["GBR-NVD-0030"]["delivered"]
    assert serials["GBR-NVD-0007"]["status"] == "lost"
    assert rep["delinquency"]["late_loss_reports"]["refs"] == ["GBR-NVD-0007"]
    assert rep["delinquency"]["initial_overdue"]["count"] > 0 and rep["delinquency"]["initial_overdue"]["value"] > 0
    assert (tmp_path / ".coalition" / "keys" / "GBR-k1.pem").exists()
    # the same database then verifies, and a tampered byte is named by sequence number
    data = tmp_path / ".coalition"
    ok = _cli(["ledger", "verify"], data)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    with sqlite3.connect(tmp_path / ".coalition" / "coalition.db") as db:
        db.execute("update ledger_event set body = replace(body, 'GBR-NVD-0021', 'GBR-NVD-0099') where seq = 12")
    bad = _cli(["ledger", "verify"], data)
    assert bad.returncode == 1
    assert "first bad sequence number: 12" in bad.stderr.replace("\n", " ")
    one = _cli(["ledger", "verify", "--workers", "1"], data)  # this process only: the same verdict
    assert one.returncode == 1 and "first bad sequence number: 12" in one.stderr.replace("\n", " ")


def test_import_rejects_bad_lines_with_row_and_field_and_writes_nothing(tmp_path: Path) -> None:
    """In a real process, so the message (not a traceback) and exit status 2 are what users see."""
    assert _cli(["ledger", "init", "--no-sample"], tmp_path / ".coalition").returncode == 0
    src = tmp_path / "events.jsonl"
    good = {"type": "manifest", "nation": "GBR", "person": "x",
            "payload": {"manifest": "M1", "origin": "A", "destination": "B", "receiver": "FRA", "serials": [{"serial": "S1", "item_type": "R"}]}}
    src.write_text("\n".join([
        json.dumps(good),
        "{not json",
        json.dumps({**good, "type": "reciept"}),
        json.dumps({**good, "payload": {"manifest": "M2", "origin": "A", "destination": "B", "receiver": "FRA", "serials": [{"serial": ""}]}}),
    ]) + "\n")
    proc = _run(["ledger", "import", str(src)], tmp_path)
    assert proc.returncode == 2
    err = " ".join(proc.stderr.split())
    assert "row 2" in err and "row 3" in err and "did you mean 'receipt'" in err and "payload.serials.0" in err
    assert "Traceback" not in proc.stderr
    with sqlite3.connect(tmp_path / ".coalition" / "coalition.db") as db:
        assert db.execute("select count(*) from ledger_event").fetchone()[0] == 0


def test_import_refuses_invariant_break_atomically(tmp_path: Path) -> None:
    data = tmp_path / ".coalition"
    assert _cli(["ledger", "init", "--no-sample"], data).returncode == 0
    src = tmp_path / "events.jsonl"
    ev = {"type": "manifest", "nation": "GBR", "person": "x",
          "payload": {"manifest": "M1", "origin": "A", "destination": "B", "receiver": "FRA", "serials": [{"serial": "S1", "item_type": "R"}]}}
    dup = {**ev, "payload": {**ev["payload"], "manifest": "M2"}}
    src.write_text(json.dumps(ev) + "\n" + json.dumps(dup) + "\n")
    proc = _cli(["ledger", "import", str(src)], data)
    assert proc.returncode == 1
    assert "S1 already exists" in proc.stderr
    with sqlite3.connect(tmp_path / ".coalition" / "coalition.db") as db:
        assert db.execute("select count(*) from ledger_event").fetchone()[0] == 0


def test_cli_inventory_proof_export_reconcile(tmp_path: Path) -> None:
    data = tmp_path / ".coalition"
    assert _cli(["ledger", "init"], data).returncode == 0
    inv = _cli(["ledger", "inventory", "--by", "hub,title_nation,status"], data)
    assert inv.returncode == 0 and "UA-LVIV" in inv.stdout
    assert _cli(["ledger", "inventory", "--by", "hubb"], data).returncode == 2
    proof = _cli(["ledger", "proof", "5"], data)
    assert proof.returncode == 0 and "valid" in proof.stdout
    assert _cli(["ledger", "proof", "999"], data).returncode == 1
    assert _cli(["ledger", "checkpoint"], data).returncode == 0
    trust = tmp_path / "pinned-trust.json"
    assert _cli(["ledger", "trust", "export", str(trust)], data).returncode == 0
    assert trust.read_text() == (data / "trust.json").read_text()  # init wrote the same one beside the keys
    assert _cli(["ledger", "verify", "--trust", str(trust)], data).returncode == 0
    exp = _cli(["ledger", "export", str(tmp_path / "b"), "--donor", "GBR"], data)
    assert exp.returncode == 0, exp.stderr
    v = subprocess.run([sys.executable, "-m", "coalition.ledger.verifier", str(tmp_path / "b"), "--trust", str(trust)],
                       capture_output=True, text=True)
    assert v.returncode == 0, v.stdout
    # a trust file of other roots: verify and coalition-verify both exit 1
    other = tmp_path / "other"
    assert _cli(["ledger", "init", "--no-sample"], other).returncode == 0
    assert _cli(["ledger", "verify", "--trust", str(other / "trust.json")], data).returncode == 1
    v = subprocess.run([sys.executable, "-m", "coalition.ledger.verifier", str(tmp_path / "b"), "--trust",
                        str(other / "trust.json")], capture_output=True, text=True)
    assert v.returncode == 1, v.stdout
    counts = tmp_path / "counts.csv"
    counts.write_text("location,serial,lot,quantity\nUA-LVIV/LV-D1/SH-2,,GBR-556-2026-A,199990\n"
                      "UA-LVIV/LV-D1/SH-2,GBR-NVD-0021,,\n")
    rec = _cli(["ledger", "reconcile", str(counts)], data)
    assert rec.returncode == 0, rec.stderr
    assert "short" in rec.stdout and "unexpected" in rec.stdout and "ARMOURY" in rec.stdout
    counts.write_text("location,serial,lot,quantity\n,S1,,\nUA-LVIV,S1,L1,\n")
    bad = _cli(["ledger", "reconcile", str(counts)], data)
    assert bad.returncode == 2 and "row 1" in bad.stderr and "row 2" in bad.stderr
    # a recorded stocktake: the sample's Polish count, split per nation, reconciled as one
    st = _cli(["ledger", "reconcile", "--stocktake", "21"], data)
    assert st.returncode == 0, st.stderr
    assert "DEU-MANPADS-0001" in st.stdout and "GBR-ATGM-0007" in st.stdout and "FRA-OPT-0003" in st.stdout
    for wrong in (["--stocktake", "1"], ["--stocktake", "21", str(counts)], []):
        res = _cli(["ledger", "reconcile", *wrong], data)
        assert res.returncode == 2 and "Traceback" not in res.stderr, (wrong, res.stderr)
    rb = _cli(["ledger", "rebuild"], data)
    assert rb.returncode == 0 and "equalled the log" in rb.stdout


def test_fresh_machine_export_initialises_and_the_bundle_verifies_offline(tmp_path: Path) -> None:
    """`ledger export` on an empty ledger loads the sample first instead of failing on missing keys."""
    data = tmp_path / ".coalition"
    res = _cli(["ledger", "export", str(tmp_path / "bundle"), "--donor", "GBR"], data)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "initialising with the ILLUSTRATIVE sample" in res.stdout
    proc = subprocess.run([sys.executable, "-m", "coalition.ledger.verifier", str(tmp_path / "bundle")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "OK" in proc.stdout
