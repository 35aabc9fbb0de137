"""Bundles: the offline verifier accepts an exported bundle and rejects a modified one."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from coalition.ledger import checkpoints
from coalition.ledger.export import export_bundle
from coalition.ledger.verifier import main, verify_bundle

from .ledger_helpers import Ledger, ev, shipped


@pytest.fixture
def bundles(ledger: Ledger, tmp_path: Path) -> dict[str, Path]:
    shipped(ledger)  # GBR items, seq 1-3
    with ledger.session() as s:
        checkpoints.make_checkpoint(s, keyring=ledger.keyring)
    shipped(ledger, name="M2", nation="DEU", serials=2, lot_qty=0)  # DEU items, seq 4-6
    ledger.append(ev("issue", "FRA", {"serials": ["GBR-S0", "DEU-S1"], "end_user": "UA 1 Bde", "reference": "E"}))
    out = {}
    with ledger.session() as s:
        out["full"] = tmp_path / "full"
        export_bundle(s, directory=out["full"], keyring=ledger.keyring)
        out["gbr"] = tmp_path / "gbr"
        export_bundle(s, directory=out["gbr"], keyring=ledger.keyring, donor="GBR")
    out["trust"] = tmp_path / "trust.json"
    out["trust"].write_text(ledger.trust.to_json())
    return out


def test_full_and_donor_bundles_verify(bundles: dict[str, Path]) -> None:
    full = verify_bundle(bundles["full"])
    assert full.ok, full.findings
    assert (full.events, full.checkpoints, full.proofs) == (7, 2, 1)  # one consistency proof 3 -> 7
    gbr = verify_bundle(bundles["gbr"])
    assert gbr.ok, gbr.findings
    lines = (bundles["gbr"] / "events.jsonl").read_text().splitlines()
    assert [json.loads(x)["seq"] for x in lines] == [1, 2, 3, 7]  # only events touching GBR items
    assert "DEU-S0" not in (bundles["gbr"] / "events.jsonl").read_text()


@pytest.mark.parametrize("scope", ["full", "gbr"])
def test_modified_bundle_is_rejected(bundles: dict[str, Path], scope: str) -> None:
    d = bundles[scope]
    lines = (d / "events.jsonl").read_text().splitlines()
    lines[2] = lines[2].replace("UA-LVIV/LV-D1/SH-1", "UA-LVIV/LV-D1/SH-2")
    (d / "events.jsonl").write_text("\n".join(lines) + "\n")
    rep = verify_bundle(d)
    assert not rep.ok
    assert rep.first_bad_seq() == 3


def test_bundle_with_its_own_trust_file_replaced_is_rejected_when_trust_is_pinned(
        bundles: dict[str, Path], tmp_path: Path) -> None:
    from coalition.ledger.keyevents import trust_from_keyring
    from coalition.ledger.keys import KeyRing
    from coalition.ledger.trust import load_trust

    fake = trust_from_keyring(KeyRing.generate(tmp_path / "other-keys", ["GBR"]))
    (bundles["full"] / "trust.json").write_text(fake.to_json())  # the producer swaps the bundled trust
    assert not verify_bundle(bundles["full"]).ok  # its key events no longer chain to that root
    rep = verify_bundle(bundles["full"], load_trust(bundles["trust"]))
    assert rep.ok, rep.findings  # the pinned trust is what counts
    rep = verify_bundle(bundles["full"], fake)
    assert any(f.what == "keys" for f in rep.findings) and any(f.what == "checkpoint" for f in rep.findings)


def test_coalition_verify_command_exit_codes(bundles: dict[str, Path], tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main([str(bundles["gbr"]), "--trust", str(bundles["trust"])]) == 0
    assert "OK" in capsys.readouterr().out
    assert main([str(bundles["gbr"])]) == 0
    assert "WARNING: no --trust" in capsys.readouterr().out
    assert main([str(tmp_path / "nothing-here")]) == 2
    sig = bundles["full"] / "batches.jsonl"
    rows = [json.loads(x) for x in sig.read_text().splitlines()]
    s = rows[1]["signatures"][0]["signature"]
    rows[1]["signatures"][0]["signature"] = ("0" if s[0] != "0" else "1") + s[1:]
    sig.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    assert main([str(bundles["full"]), "--trust", str(bundles["trust"])]) == 1
    assert "first bad seq 3" in capsys.readouterr().out
    # the console script runs in a fresh interpreter that never imports the rest of coalition
    code = ("import sys; from coalition.ledger import verifier; rc = verifier.main([sys.argv[1], '--trust', sys.argv[2]]); "
            "bad = sorted(m for m in sys.modules if m.startswith('coalition') and m not in "
            "('coalition', 'coalition.ledger', 'coalition.ledger.verifier', 'coalition.ledger.bundle',"
            " 'coalition.ledger.completeness', 'coalition.ledger.nationheads', 'coalition.ledger.checks', 'coalition.ledger.canonical',"
            " 'coalition.ledger.rfc6962', 'coalition.ledger.notes', 'coalition.ledger.trust'));"
            " print('extra', bad); sys.exit(rc)")
    proc = subprocess.run([sys.executable, "-c", code, str(bundles["gbr"]), str(bundles["trust"])],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "extra []" in proc.stdout
