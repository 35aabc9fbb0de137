"""Independent witnesses: two `coalition witness` processes on loopback, each with its own state
file, cosign only consistent checkpoints; a split view or a rollback gets no cosignature; the
offline verifier requires the pinned witnesses' quorum."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from coalition.ledger import checkpoints, service
from coalition.ledger.export import export_bundle
from coalition.ledger.keyevents import trust_from_keyring
from coalition.ledger.notes import parse_vkey
from coalition.ledger.signers import write_encrypted_key
from coalition.ledger.verifier import verify_bundle
from coalition.ledger.witness import WitnessState
from coalition.ledger.witness_client import submit
from coalition.store.db import make_engine, session_factory, transaction
from coalition.store.migrate import upgrade

from .ledger_helpers import Ledger, ev, manifest, shipped

SRC = str(Path(__file__).resolve().parents[2] / "src")


@dataclasses.dataclass
class RunningWitness:
    name: str
    url: str
    vkey: str
    state: Path
    proc: subprocess.Popen

    @property
    def entry(self) -> str:
        return f"{self.vkey} {self.url}"


def _start(tmp: Path, name: str, log_vkey: str) -> RunningWitness:
    key = tmp / f"{name.replace('/', '_')}.pem"
    write_encrypted_key(key, Ed25519PrivateKey.generate(), b"witness-pass")
    state = tmp / f"{name.replace('/', '_')}.db"
    env = {**os.environ, "COALITION_KEY_PASSPHRASE": "witness-pass", "PYTHONPATH": SRC}
    proc = subprocess.Popen([sys.executable, "-m", "coalition.cli.main", "witness", "serve", "--key-file", str(key),
                             "--name", name, "--log", log_vkey, "--state", str(state), "--listen", "127.0.0.1:0"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    line = proc.stdout.readline()  # type: ignore[union-attr]
    assert "listening on" in line, line
    parts = line.split()
    return RunningWitness(name, parts[parts.index("on") + 1], parts[parts.index("vkey") + 1], state, proc)


@pytest.fixture
def witnesses(ledger: Ledger, tmp_path: Path) -> Iterator[list[RunningWitness]]:
    log_vkey = ledger.trust.log_key.vkey()
    ws = [_start(tmp_path, "w1.example/witness", log_vkey), _start(tmp_path, "w2.example/witness", log_vkey)]
    try:
        yield ws
    finally:
        for w in ws:
            w.proc.terminate()
            w.proc.wait(timeout=10)


def _checkpoint(ledger: Ledger) -> int:
    with ledger.session() as s:
        return checkpoints.make_checkpoint(s, keyring=ledger.keyring, origin=ledger.trust.origin).checkpoint_id


def _trust(ledger: Ledger, ws: list[RunningWitness], quorum: int):  # type: ignore[no-untyped-def]
    return trust_from_keyring(ledger.keyring, witnesses=tuple(parse_vkey(w.vkey) for w in ws), witness_quorum=quorum)


def test_two_witnesses_cosign_and_the_verifier_requires_their_quorum(ledger: Ledger, witnesses, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    shipped(ledger)
    cid = _checkpoint(ledger)
    for w in witnesses:
        assert "cosigned" in submit(ledger.factory, trust=ledger.trust, checkpoint_id=cid, vkey=w.vkey, url=w.url)
    ledger.append(manifest("M2", "GBR", 1, 0, prefix="GBR-N"))
    cid = _checkpoint(ledger)
    for w in witnesses:  # the second time each witness proves consistency from ITS OWN last size
        assert "cosigned" in submit(ledger.factory, trust=ledger.trust, checkpoint_id=cid, vkey=w.vkey, url=w.url)
        assert WitnessState(w.state).latest(ledger.trust.origin)[0] == 4  # type: ignore[index]
    trust = _trust(ledger, witnesses, 2)
    with ledger.session() as s:
        export_bundle(s, directory=tmp_path / "gbr", keyring=ledger.keyring, donor="GBR", trust=trust)
    rep = verify_bundle(tmp_path / "gbr", trust)
    assert rep.ok, rep.findings
    assert rep.cosignatures >= 2
    # strip one cosignature from the latest checkpoint: below the quorum
    cps = tmp_path / "gbr" / "checkpoints.jsonl"
    lines = cps.read_text().splitlines()
    lines[-1] = "\n".join(x for x in lines[-1].split("\\n") if "w2.example" not in x).replace("\n", "\\n")
    cps.write_text("\n".join(lines) + "\n")
    rep = verify_bundle(tmp_path / "gbr", trust)
    assert any(f.what == "witness" and "requires 2" in f.message for f in rep.findings), rep.findings


def _other_history(ledger: Ledger, tmp_path: Path) -> Ledger:
    """The operator's second database: same keys and origin, a different history (a fork)."""
    url = f"sqlite:///{tmp_path / 'fork.db'}"
    engine = make_engine(url)
    upgrade(engine)
    fork = Ledger(url, session_factory(engine), ledger.keyring, ledger.keys_dir, ledger.trust)
    with fork.session() as s:
        service.register_keys(s, keyring=ledger.keyring, trust=ledger.trust)
    return fork


def test_split_view_and_rollback_are_refused_and_recorded(ledger: Ledger, witnesses, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    w = witnesses[0]
    shipped(ledger)  # 3 events
    cid = _checkpoint(ledger)
    assert "cosigned" in submit(ledger.factory, trust=ledger.trust, checkpoint_id=cid, vkey=w.vkey, url=w.url)
    fork = _other_history(ledger, tmp_path)
    shipped(fork, name="MX", nation="DEU", serials=1, lot_qty=0)  # 3 other events: same size, other root
    fid = _checkpoint(fork)
    msg = submit(fork.factory, trust=ledger.trust, checkpoint_id=fid, vkey=w.vkey, url=w.url)
    assert "refused with 422" in msg and "SPLIT VIEW" in msg
    fork.append(ev("transfer", "FRA", {"serials": ["DEU-S0"], "to": "UA-LVIV/LV-D1/SH-2"}))  # grow the fork
    fid = _checkpoint(fork)
    msg = submit(fork.factory, trust=ledger.trust, checkpoint_id=fid, vkey=w.vkey, url=w.url)
    assert "refused with 422" in msg and "not consistent" in msg
    with fork.session() as s:
        assert checkpoints.get_checkpoint(s, checkpoint_id=fid).cosigners == ()  # no cosignature for the fork
    # rollback: once the witness has seen size 4, it never cosigns the older size-3 checkpoint again
    ledger.append(manifest("M2", "GBR", 1, 0, prefix="GBR-N"))
    new = _checkpoint(ledger)
    assert "cosigned" in submit(ledger.factory, trust=ledger.trust, checkpoint_id=new, vkey=w.vkey, url=w.url)
    msg = submit(ledger.factory, trust=ledger.trust, checkpoint_id=cid, vkey=w.vkey, url=w.url)
    assert "larger tree (4)" in msg
    evidence = [r for _o, _s, r in WitnessState(w.state).evidence()]
    assert any("SPLIT VIEW" in r for r in evidence) and any("not consistent" in r for r in evidence)
    assert WitnessState(w.state).latest(ledger.trust.origin)[0] == 4  # type: ignore[index]
