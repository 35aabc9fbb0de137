"""Pinned trust: keys enter only as signed key events; an attacker with database access who adds
or replaces key rows cannot make verify, or the offline verifier, accept a forged event."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete, func, insert, select, text, update

from coalition.errors import ConflictError, InputError
from coalition.ledger import checkpoints, export, service
from coalition.ledger.batches import LocalSigner
from coalition.ledger.keyevents import KeyChange, append_key_event, key_log, trust_from_keyring
from coalition.ledger.keys import KeyRing
from coalition.ledger.models import (
    LedgerBatch,
    LedgerCheckpoint,
    LedgerEvent,
    LedgerEventRef,
    LedgerHead,
    LedgerKey,
    LedgerKeyEvent,
    LedgerSignature,
)
from coalition.ledger.notes import checkpoint_text
from coalition.ledger.signers import MemorySigner
from coalition.ledger.trust import KeyEvent, key_event_body, key_event_hash
from coalition.ledger.canonical import BatchStatement, batch_statement
from coalition.ledger.rfc6962 import leaf_hash, merkle_root
from coalition.ledger.verifier import main, verify_bundle

from .ledger_helpers import Ledger, ev, manifest, shipped


def _raw_pub(k: Ed25519PrivateKey) -> bytes:
    return MemorySigner(k).public_key()


def forge_event(ledger: Ledger, *, nation: str, key_id: str, key: Ed25519PrivateKey, payload: dict,
                type: str = "loss", key_row: bool = True) -> int:
    """What an attacker with write access to the database does: write an event, a batch signed
    with a key of their own, the matching key row, the head and the tree nodes, by direct SQL."""
    with ledger.session() as s:
        size, prev = service.head(s)
        seq = size + 1
        body = service.event_body(service.EventHeader(seq=seq, time="2026-06-01T00:00:00Z", nation=nation,
                                                      person="forger", type=type, prev=prev, counterparty=None),
                                  payload)
        h = leaf_hash(body)
        bid = (s.scalar(select(func.max(LedgerBatch.batch_id))) or 0) + 1
        klog = key_log(s, ledger.trust)
        stamp = "2026-06-01T00:00:01Z"
        msg = batch_statement(BatchStatement(batch_id=bid, first_seq=seq, size=1, nation=nation, counterparty=None,
                              root=merkle_root([h]), keys_size=klog.size, keys_head=klog.head, time=stamp))
        if key_row:
            s.execute(insert(LedgerKey.__table__), [{"key_id": key_id, "kind": "nation", "nation": nation,
                                                     "public_key": _raw_pub(key), "created_at": stamp}])
        s.execute(insert(LedgerEvent.__table__), [{
            "seq": seq, "batch_id": bid, "time": "2026-06-01T00:00:00Z", "nation": nation, "person": "forger",
            "type": type, "body": body.decode(), "prev_hash": prev, "hash": h}])
        s.execute(insert(LedgerBatch.__table__), [{
            "batch_id": bid, "first_seq": seq, "size": 1, "nation": nation, "counterparty": None,
            "root": merkle_root([h]), "time": stamp, "keys_size": klog.size, "keys_head": klog.head}])
        s.execute(insert(LedgerSignature.__table__), [{"batch_id": bid, "role": "actor", "key_id": key_id,
                                                       "signature": key.sign(msg)}])
        s.execute(insert(LedgerEventRef.__table__), [{"ref": f"T:{nation}", "seq": seq}])
        s.execute(update(LedgerHead).values(size=seq, last_hash=h))
        service.extend_tree(s, size, [h])
    return seq


LOSS = {"serials": ["GBR-S0"], "kind": "lost", "occurred_on": "2026-05-30", "note": "forged"}


def test_forged_key_row_is_rejected_by_verify_with_the_pinned_trust_file(ledger: Ledger, tmp_path: Path) -> None:
    shipped(ledger)
    assert ledger.verify().ok
    seq = forge_event(ledger, nation="GBR", key_id="GBR-k2", key=Ed25519PrivateKey.generate(), payload=LOSS)
    rep = ledger.verify()
    assert not rep.ok
    assert rep.first_bad_seq() == seq
    assert any("does not chain to the trust file" in f.message for f in rep.findings)
    # the offline verifier, with the trust file pinned, refuses it too
    trust_file = tmp_path / "trust.json"
    trust_file.write_text(ledger.trust.to_json())
    with ledger.session() as s:
        export.export_bundle(s, directory=tmp_path / "gbr", keyring=ledger.keyring, donor="GBR", trust=ledger.trust)
    assert main([str(tmp_path / "gbr"), "--trust", str(trust_file)]) == 1


def test_forged_event_cannot_even_be_appended_with_a_key_the_log_does_not_know(ledger: Ledger) -> None:
    shipped(ledger)
    rogue = KeyRing({"GBR-k2": MemorySigner(Ed25519PrivateKey.generate())})
    with ledger.session() as s:
        s.execute(insert(LedgerKey.__table__), [{"key_id": "GBR-k2", "kind": "nation", "nation": "GBR",
                                                 "public_key": rogue.public("GBR-k2"), "created_at": "x"}])
    with pytest.raises(ConflictError, match="does not verify with GBR's key GBR-k1"):
        ledger.append(manifest("MX", "GBR", 1, 0, prefix="GBR-X"), signer=_AnyKey(rogue, "GBR-k2"))


class _AnyKey:
    """A batch signer that signs every statement with one given key, whoever should sign it."""

    def __init__(self, keyring: KeyRing, key_id: str) -> None:
        self.keyring, self.key_id = keyring, key_id

    def sign(self, need):  # type: ignore[no-untyped-def]
        return self.keyring.sign(self.key_id, need.statement)


def _rewrite_everything(ledger: Ledger, tmp_path: Path) -> None:
    """Replace every key: a new root, operator and nation keys; re-register and re-sign all."""
    fake = KeyRing.generate(tmp_path / "fake-keys", ["GBR", "FRA", "DEU", "POL", "UKR"])
    fake_trust = trust_from_keyring(fake)
    with ledger.session() as s:
        s.execute(delete(LedgerKeyEvent))
        s.execute(delete(LedgerKey))
        batches = s.execute(select(LedgerBatch)).scalars().all()
        events = {b.batch_id: (b.first_seq, b.size) for b in batches}
    with ledger.session() as s:
        for k in fake.public_keys():  # back-dated to the start of the log, as a careful attacker would
            if k.kind == "nation":
                append_key_event(s, KeyChange("register", k.key_id, str(k.nation), k.public_key),
                                 keyring=fake, trust=fake_trust, log_size=0)
        klog = key_log(s, fake_trust)
        for b in s.execute(select(LedgerBatch)).scalars().all():
            msg = batch_statement(BatchStatement(batch_id=b.batch_id, first_seq=b.first_seq, size=b.size, nation=b.nation,
                                  counterparty=b.counterparty, root=bytes(b.root), keys_size=klog.size,
                                  keys_head=klog.head, time=b.time))
            s.execute(update(LedgerBatch).where(LedgerBatch.batch_id == b.batch_id)
                      .values(keys_size=klog.size, keys_head=klog.head))
            for role, who in (("actor", b.nation), ("counterparty", b.counterparty)):
                if who:
                    kid = fake.key_id_for(who)
                    s.execute(update(LedgerSignature).where(LedgerSignature.batch_id == b.batch_id,
                                                            LedgerSignature.role == role)
                              .values(key_id=kid, signature=fake.sign(kid, msg)))
        for c in s.execute(select(LedgerCheckpoint)).scalars().all():
            s.execute(update(LedgerCheckpoint).where(LedgerCheckpoint.checkpoint_id == c.checkpoint_id).values(
                signature=fake.sign("log-operator", checkpoint_text(c.key_id, c.size, bytes(c.root),
                                                                    (c.heads,) if c.heads else ()).encode())))
    assert events
    # the attacker's own trust would accept it: the pinned one must not
    rep = _verify(ledger, fake_trust)
    assert rep.ok, rep.findings[:3]


def _verify(ledger: Ledger, trust):  # type: ignore[no-untyped-def]
    from coalition.ledger.verify import verify_log

    with ledger.session() as s:
        return verify_log(s, trust=trust)


def test_replacing_all_keys_and_resigning_everything_is_rejected(ledger: Ledger, tmp_path: Path) -> None:
    shipped(ledger)
    with ledger.session() as s:
        checkpoints.make_checkpoint(s, keyring=ledger.keyring)
    _rewrite_everything(ledger, tmp_path)
    rep = ledger.verify()
    assert not rep.ok
    assert any(f.what == "keys" and "root" in f.message for f in rep.findings)
    assert any(f.what == "checkpoint" and "log signature invalid" in f.message for f in rep.findings)
    assert rep.first_bad_seq() == 1


def test_rotation_signed_by_the_old_key_hands_over_and_ends_the_old_key(ledger: Ledger) -> None:
    shipped(ledger)
    new = Ed25519PrivateKey.generate()
    ledger.keyring.add("GBR-k2", MemorySigner(new))
    try:
        with ledger.session() as s:
            append_key_event(s, KeyChange("rotate", "GBR-k2", "GBR", _raw_pub(new), replaces="GBR-k1"),
                             keyring=ledger.keyring, trust=ledger.trust)
        ledger.append(ev("manifest", "GBR", {"manifest": "M9", "origin": "H", "destination": "UA-LVIV/LV-D1/SH-1", "receiver": "FRA",
                                            "serials": [{"serial": "GBR-R1", "item_type": "ATGM-LAUNCHER"}]}))
        rep = ledger.verify()
        assert rep.ok, rep.findings
        with ledger.session() as s:
            kid = s.scalar(select(LedgerSignature.key_id).order_by(LedgerSignature.batch_id.desc()).limit(1))
        assert kid == "GBR-k2"
        # the old key can no longer sign for GBR
        with pytest.raises(ConflictError, match="GBR-k2"):
            ledger.append(ev("dispatch", "GBR", {"manifest": "M9"}), signer=_AnyKey(ledger.keyring, "GBR-k1"))
        seq = forge_event(ledger, nation="GBR", key_id="GBR-k1", key=_private(ledger, "GBR-k1"),
                          payload={"manifest": "M9"}, type="dispatch")
        rep = ledger.verify()
        assert rep.first_bad_seq() == seq and any("rotated or revoked" in f.message for f in rep.findings)
    finally:
        ledger.keyring._keys.pop("GBR-k2", None)


def _private(ledger: Ledger, kid: str) -> Ed25519PrivateKey:
    return ledger.keyring.signer(kid).key  # type: ignore[attr-defined]


def test_rotation_not_signed_by_the_old_key_and_unrooted_registration_are_refused(ledger: Ledger) -> None:
    other = KeyRing({"GBR-k2": MemorySigner(Ed25519PrivateKey.generate()),
                     "ESP-k1": MemorySigner(Ed25519PrivateKey.generate())})
    with ledger.session() as s, pytest.raises(ConflictError, match="not signed by the old key"):
        append_key_event(s, KeyChange("rotate", "GBR-k2", "GBR", other.public("GBR-k2"), replaces="GBR-k1"),
                         keyring=other, trust=ledger.trust)
    with ledger.session() as s, pytest.raises(ConflictError, match="countersigned"):
        append_key_event(s, KeyChange("register", "ESP-k1", "ESP", other.public("ESP-k1")),
                         keyring=other, trust=ledger.trust)


def test_revoked_key_cannot_sign(ledger: Ledger) -> None:
    with ledger.session() as s:
        append_key_event(s, KeyChange("revoke", "POL-k1", "POL", ledger.keyring.public("POL-k1")),
                         keyring=ledger.keyring, trust=ledger.trust)
    with pytest.raises(InputError, match="POL has no key"):
        ledger.append(ev("count", "POL", {"location": "UA-LVIV/LV-D1"}))


def test_truncated_or_edited_key_log_breaks_every_later_batch(ledger: Ledger) -> None:
    shipped(ledger)
    with ledger.session() as s:
        last = s.scalar(select(func.max(LedgerKeyEvent.n)))
        s.execute(delete(LedgerKeyEvent).where(LedgerKeyEvent.n == last))
    rep = ledger.verify()
    assert not rep.ok and rep.first_bad_seq() == 1
    assert any("key log" in f.message for f in rep.findings)


def test_key_event_with_changed_key_is_refused(ledger: Ledger) -> None:
    with ledger.session() as s:
        body, n = s.execute(select(LedgerKeyEvent.body, LedgerKeyEvent.n).order_by(LedgerKeyEvent.n).limit(1)).one()
        d = json.loads(body)
        forged = key_event_body(KeyEvent(n=d["n"], prev=bytes.fromhex(d["prev"]), action=d["action"],
                                         key_id=d["key_id"], nation=d["nation"],
                                         public_key=_raw_pub(Ed25519PrivateKey.generate()), replaces=None,
                                         log_size=d["log_size"], time=d["time"]))
        s.execute(update(LedgerKeyEvent).where(LedgerKeyEvent.n == n).values(body=forged.decode(),
                                                                            hash=key_event_hash(forged)))
    rep = ledger.verify()
    assert not rep.ok and any(f.what == "keys" for f in rep.findings)


def test_demo_key_store_is_encrypted_and_needs_its_passphrase(keys_dir: Path) -> None:
    pems = sorted(keys_dir.glob("*.pem"))
    assert pems and all(b"ENCRYPTED PRIVATE KEY" in p.read_bytes() for p in pems)
    assert (keys_dir / "DEMO-KEYSTORE.txt").exists()
    with pytest.raises(InputError, match="wrong passphrase"):
        KeyRing.load(keys_dir, "not-the-passphrase")


def test_plain_text_private_key_is_refused(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization

    pem = Ed25519PrivateKey.generate().private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                     serialization.NoEncryption())
    (tmp_path / "GBR-k1.pem").write_bytes(pem)
    with pytest.raises(InputError, match="not encrypted"):
        KeyRing.load(tmp_path)


def test_local_signer_does_not_countersign_for_another_nation(ledger: Ledger) -> None:
    from coalition.ledger.batches import SignaturesNeeded

    ledger.append(*_to_transit(ledger))
    with pytest.raises(SignaturesNeeded, match="GBR"):
        ledger.append(ev("receipt", "FRA", {"manifest": "M1", "location": "UA-LVIV/LV-D1/SH-1",
                                            "serials": ["GBR-S0"]}), signer=LocalSigner(ledger.keyring))
    with ledger.session() as s:
        assert service.head(s)[0] == 2  # nothing written


def _to_transit(ledger: Ledger):  # type: ignore[no-untyped-def]
    from .ledger_helpers import manifest

    return [manifest("M1", "GBR", 1, 0), ev("dispatch", "GBR", {"manifest": "M1"})]


def test_sqlite_text_probe(ledger: Ledger) -> None:
    # the key rows really are only a cache: deleting them all changes nothing for verify
    shipped(ledger)
    with ledger.session() as s:
        s.execute(text("DELETE FROM ledger_key"))
    assert ledger.verify().ok
