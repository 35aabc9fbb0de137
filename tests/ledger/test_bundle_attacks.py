"""The offline verifier under attack: stripped parts, relabelled or truncated bundles, renamed
JSON keys, and one-byte changes anywhere (fuzzed) — always a clean verdict, never a traceback."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest

from coalition.ledger import checkpoints
from coalition.ledger.export import export_bundle
from coalition.ledger.verifier import main

from .ledger_helpers import Ledger, ev, manifest, shipped


@pytest.fixture
def bundles(ledger: Ledger, tmp_path: Path) -> dict[str, Path]:
    shipped(ledger)
    with ledger.session() as s:
        checkpoints.make_checkpoint(s, keyring=ledger.keyring)
    shipped(ledger, name="M2", nation="DEU", serials=2, lot_qty=0)
    ledger.append(ev("issue", "FRA", {"serials": ["GBR-S0", "DEU-S1"], "end_user": "UA 1 Bde", "reference": "E"}))
    ledger.append(manifest("M3", "GBR", 1, 0, prefix="GBR-Z"))
    out = {"trust": tmp_path / "trust.json"}
    out["trust"].write_text(ledger.trust.to_json())
    with ledger.session() as s:
        for name, donor in (("full", None), ("gbr", "GBR")):
            out[name] = tmp_path / name
            export_bundle(s, directory=out[name], keyring=ledger.keyring, donor=donor, trust=ledger.trust)
    return out


def _rc(d: Path, trust: Path) -> int:
    return main([str(d), "--trust", str(trust)])


@pytest.mark.parametrize("scope", ["full", "gbr"])
def test_untouched_bundles_pass_with_the_pinned_trust(bundles: dict[str, Path], scope: str) -> None:
    assert _rc(bundles[scope], bundles["trust"]) == 0


@pytest.mark.parametrize("scope", ["full", "gbr"])
def test_deleted_consistency_file_is_refused(bundles: dict[str, Path], scope: str, capsys) -> None:  # type: ignore[no-untyped-def]
    (bundles[scope] / "consistency.jsonl").unlink()
    assert _rc(bundles[scope], bundles["trust"]) == 2
    assert "consistency.jsonl: missing" in capsys.readouterr().err


@pytest.mark.parametrize("scope", ["full", "gbr"])
def test_emptied_consistency_file_is_refused(bundles: dict[str, Path], scope: str, capsys) -> None:  # type: ignore[no-untyped-def]
    (bundles[scope] / "consistency.jsonl").write_text("")
    assert _rc(bundles[scope], bundles["trust"]) == 1
    assert "no valid consistency proof from checkpoint size 3 to" in capsys.readouterr().out


@pytest.mark.parametrize("scope", ["full", "gbr"])
def test_bundle_truncated_to_an_older_checkpoint_is_refused(bundles: dict[str, Path], scope: str, capsys) -> None:  # type: ignore[no-untyped-def]
    d = bundles[scope]
    cps = (d / "checkpoints.jsonl").read_text().splitlines()
    (d / "checkpoints.jsonl").write_text(cps[0] + "\n")
    assert _rc(d, bundles["trust"]) == 1
    assert "truncated to an older checkpoint" in capsys.readouterr().out


@pytest.mark.parametrize(("file", "old", "new"), [
    ("batches.jsonl", '"signatures":', '"signaturez":'),
    ("keylog.jsonl", '"body":', '"bodies":'),
    ("checkpoints.jsonl", '"note":', '"notes":'),
    ("proofs.jsonl", '"log_path":', '"logpath":'),
    ("bundle.json", '"format"', '"formats"'),
    ("heads.jsonl", '"counter":', '"n":'),
])
def test_renamed_json_key_is_a_clean_verdict(bundles: dict[str, Path], file: str, old: str, new: str,
                                             capsys) -> None:  # type: ignore[no-untyped-def]
    p = bundles["gbr"] / file
    assert old in p.read_text()
    p.write_text(p.read_text().replace(old, new, 1))
    assert _rc(bundles["gbr"], bundles["trust"]) in (1, 2)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    assert file in captured.out + captured.err or "format" in captured.err


@pytest.mark.parametrize("scope", ["full", "gbr"])
def test_one_byte_changes_anywhere_never_crash_and_signed_files_never_pass(
        bundles: dict[str, Path], scope: str, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    src = bundles[scope]
    rng = random.Random(11)
    signed = {"events.jsonl", "keylog.jsonl", "batches.jsonl"}
    tried = 0
    for f in sorted(p.name for p in src.iterdir()):
        data = (src / f).read_bytes()
        positions = sorted(rng.sample(range(len(data)), min(len(data), 60)))
        for pos in positions:
            d = tmp_path / "m"
            shutil.rmtree(d, ignore_errors=True)
            shutil.copytree(src, d)
            changed = bytearray(data)
            changed[pos] = (changed[pos] + rng.randrange(1, 256)) % 256
            (d / f).write_bytes(bytes(changed))
            rc = main([str(d), "--trust", str(bundles["trust"])])  # any exception fails the test
            assert rc in (0, 1, 2)
            if f in signed and rc == 0:
                # a change the verifier may accept: only where bytes carry no meaning (JSON whitespace
                # between fields of an unsigned wrapper), never inside a signed body or signature
                before, after = data[pos:pos + 1], bytes(changed[pos:pos + 1])
                assert before.isspace() and after.isspace(), (f, pos, before, after)
            tried += 1
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    assert tried > 200


def test_trust_file_problems_are_exit_2(bundles: dict[str, Path], tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad-trust.json"
    bad.write_text(json.dumps({"format": "coalition-ledger-trust/1", "origin": "x"}))
    assert main([str(bundles["gbr"]), "--trust", str(bad)]) == 2
    assert "missing field 'log'" in capsys.readouterr().err
    bad.write_bytes(b"\xff\xfe")
    assert main([str(bundles["gbr"]), "--trust", str(bad)]) == 2


@pytest.mark.parametrize("bad_id", [["GBR-root"], {"k": 1}])
def test_unhashable_key_id_on_a_key_log_signature_is_a_finding(bundles: dict[str, Path], bad_id: object,
                                                              capsys) -> None:  # type: ignore[no-untyped-def]
    p = bundles["full"] / "keylog.jsonl"
    rows = [json.loads(ln) for ln in p.read_text().splitlines()]
    roles = [s["role"] for s in rows[0]["signatures"]]
    assert "root" in roles
    for s in rows[0]["signatures"]:
        if s["role"] == "root":
            s["key_id"] = bad_id
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert _rc(bundles["full"], bundles["trust"]) == 1  # tampered, not unreadable: a verdict
    out = capsys.readouterr()
    assert "not countersigned" in out.out and "Traceback" not in out.out + out.err
