"""The end of a donor's chain must not rest on the operator's word.

The attacker is the log operator, holding the log key: it exports GBR's bundle, drops GBR's last
event (the Ukrainian loss report) and re-signs whatever the bundle says about where GBR's chain
ends. The witnessed checkpoint commits to every nation's chain head, so the cut is reported; with
no witness quorum the verifier refuses to call the tail complete."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from sqlalchemy import select, update
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from coalition.ledger import checkpoints
from coalition.ledger.checkpoints import checkpoint_note, make_checkpoint
from coalition.ledger.export import export_bundle
from coalition.ledger.keys import OPERATOR_KEY_ID
from coalition.ledger.models import LedgerCheckpoint, LedgerEvent
from coalition.ledger.nationheads import head_leaf, heads_line, parse_heads_line
from coalition.ledger.notes import Note, parse_note, sign_note_line
from coalition.ledger.rfc6962 import leaf_hash
from coalition.ledger.signers import MemorySigner
from coalition.ledger.trust import Trust
from coalition.ledger.verifier import main, verify_bundle
from coalition.ledger.witness import Witness, WitnessState, add_checkpoint_request

from .ledger_helpers import Ledger, ev, shipped


@pytest.fixture
def history(ledger: Ledger) -> Ledger:
    shipped(ledger)  # GBR seq 1-3
    ledger.append(ev("issue", "FRA", {"serials": ["GBR-S0"], "end_user": "UA 1 Bde", "reference": "E"}))  # 4
    ledger.append(ev("loss", "UKR", {"serials": ["GBR-S0"], "kind": "lost", "occurred_on": "2026-03-02"}))  # 5
    return ledger


def _witnessed(ledger: Ledger, tmp: Path) -> tuple[Trust, Witness]:
    """A real witness (the protocol core of `coalition witness`, own state file) cosigns the
    latest checkpoint; the trust file pins it with quorum 1."""
    w = Witness(name="w1.example/witness", signer=MemorySigner(Ed25519PrivateKey.generate()),
                logs=[ledger.trust.log_key], state=WitnessState(tmp / "w1.db"))
    trust = dataclasses.replace(ledger.trust, witnesses=(w.verifier,), witness_quorum=1)
    with ledger.session() as s:
        cp = make_checkpoint(s, keyring=ledger.keyring, origin=trust.origin)
        note = checkpoint_note(s, cp, public_key=trust.log_key.public_key)
    out = w.add_checkpoint(add_checkpoint_request(0, [], note))
    assert out.status == 200, out.body
    with ledger.session() as s:
        checkpoints.add_cosignatures(s, checkpoint_id=cp.checkpoint_id,
                                     signatures=[parse_note(note + out.body).signatures[-1]])
    return trust, w


def _export(ledger: Ledger, d: Path, trust: Trust) -> None:
    with ledger.session() as s:
        export_bundle(s, directory=d, keyring=ledger.keyring, donor="GBR", trust=trust)


def _rows(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


def _write(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def _cut_last_event(ledger: Ledger, d: Path) -> bytes:
    """Drop GBR's last event and its proof; make the bundle's head entry say the chain ends at the
    event before (re-signing what the operator's key can sign). Returns the new last leaf."""
    events = (d / "events.jsonl").read_text().splitlines()
    assert json.loads(events[-1])["type"] == "loss"
    kept = events[:-1]
    (d / "events.jsonl").write_text("\n".join(kept) + "\n")
    last_seq = json.loads(kept[-1])["seq"]
    _write(d / "proofs.jsonl", [r for r in _rows(d / "proofs.jsonl") if r["seq"] <= last_seq])
    last = leaf_hash(kept[-1].encode())
    head = _rows(d / "heads.jsonl")[0]
    head.update(counter=head["counter"] - 1, last_hash=last.hex())
    _write(d / "heads.jsonl", [head])
    return last


def test_untouched_witnessed_donor_bundle_is_complete(history: Ledger, tmp_path: Path) -> None:
    trust, _ = _witnessed(history, tmp_path)
    _export(history, tmp_path / "gbr", trust)
    rep = verify_bundle(tmp_path / "gbr", trust)
    assert rep.ok, rep.findings
    assert rep.tail_witnessed and not rep.warnings


def test_operator_cuts_the_tail_and_rewrites_the_head_entry(history: Ledger, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    trust, _ = _witnessed(history, tmp_path)
    d = tmp_path / "gbr"
    _export(history, d, trust)
    _cut_last_event(history, d)
    rep = verify_bundle(d, trust)
    assert not rep.ok
    msgs = [f.message for f in rep.findings if f.what == "completeness"]
    assert any("not in the nation heads committed by the witnessed checkpoint" in m for m in msgs), rep.findings
    tp = tmp_path / "trust.json"
    tp.write_text(trust.to_json())
    assert main([str(d), "--trust", str(tp)]) == 1
    assert "completeness" in capsys.readouterr().out


def test_operator_also_re_signs_the_checkpoint_with_other_heads(history: Ledger, tmp_path: Path) -> None:
    """The operator signs a new checkpoint of the same size and root whose heads line matches the
    cut bundle: the witness's cosignature does not cover it, and the witness refuses to cosign it."""
    trust, witness = _witnessed(history, tmp_path)
    d = tmp_path / "gbr"
    _export(history, d, trust)
    last = _cut_last_event(history, d)
    head = _rows(d / "heads.jsonl")[0]
    # the operator's forged map: GBR alone, ending at the event before the loss report
    forged_line = heads_line({"GBR": (head["counter"], last)})
    head.update(index=0, count=1, path=[])
    _write(d / "heads.jsonl", [head])
    cps = _rows(d / "checkpoints.jsonl")
    note = parse_note(cps[-1]["note"])
    origin, size, root = note.text.split("\n")[:3]
    text = f"{origin}\n{size}\n{root}\n{forged_line}\n"
    sig = history.keyring.sign(OPERATOR_KEY_ID, text.encode())
    cos = [s for s in note.signatures if s.name == "w1.example/witness"]  # keep the witness's line
    log_sig = sign_note_line(origin, trust.log_key.public_key, sig)
    cps[-1]["note"] = Note(text, (log_sig, *cos)).encode()
    _write(d / "checkpoints.jsonl", cps)
    rep = verify_bundle(d, trust)
    assert not rep.ok
    assert any(f.what in ("checkpoint", "witness") for f in rep.findings), rep.findings
    # and the witness will not cosign a second checkpoint of that size with another text
    out = witness.add_checkpoint(add_checkpoint_request(int(size), [], Note(text, (log_sig,)).encode()))
    assert out.status == 422 and "SPLIT VIEW" in out.body


def test_without_a_witness_quorum_the_tail_is_not_called_complete(history: Ledger, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """With quorum 0 the operator alone vouches for the checkpoint: the verifier still passes an
    untouched bundle (the demo has no witnesses) but says that the end of the chain is unwitnessed."""
    assert history.trust.witness_quorum == 0
    d = tmp_path / "gbr"
    _export(history, d, history.trust)
    rep = verify_bundle(d, history.trust)
    assert rep.ok, rep.findings
    assert not rep.tail_witnessed
    assert any("not witnessed" in w for w in rep.warnings)
    tp = tmp_path / "trust.json"
    tp.write_text(history.trust.to_json())
    assert main([str(d), "--trust", str(tp)]) == 0
    out = capsys.readouterr().out
    assert "not witnessed" in out and "complete" not in out.split("OK:")[1].split("\n")[0]


def test_checkpoint_commits_to_every_nations_head_and_verify_recomputes_it(history: Ledger) -> None:
    with history.session() as s:
        cp = make_checkpoint(s, keyring=history.keyring, origin=history.trust.origin)
        note = parse_note(checkpoint_note(s, cp, public_key=history.trust.log_key.public_key))
    count, root = parse_heads_line(note.text.split("\n")[3])
    assert count == 1  # only GBR holds title to anything here
    with history.session() as s:
        events = list(s.scalars(select(LedgerEvent.body).order_by(LedgerEvent.seq)))
    assert root == leaf_hash(head_leaf("GBR", 5, leaf_hash(events[-1].encode())))
    assert history.verify().ok
    # a checkpoint whose committed heads disagree with the log is reported by verify
    bad = heads_line({"GBR": (4, leaf_hash(events[-2].encode()))})
    sig = history.keyring.sign(OPERATOR_KEY_ID, (note.text.rsplit("\n", 2)[0] + "\n" + bad + "\n").encode())
    with history.session() as s:
        s.execute(update(LedgerCheckpoint).where(LedgerCheckpoint.checkpoint_id == cp.checkpoint_id)
                  .values(heads=bad, signature=sig))
    rep = history.verify()
    assert any(f.what == "checkpoint" and "nation heads" in f.message for f in rep.findings), rep.findings
