"""One signed batch per nation and append call: a batch may hold non-contiguous events (its v3
statement signs their runs). What an attacker with write access to the database tries against
such batches — change, re-hash, move, drop, splice or re-label events or runs — is caught."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import text

from coalition.ledger import checkpoints, export
from coalition.ledger.canonical import BatchStatement, batch_statement
from coalition.ledger.keyevents import KeyChange, append_key_event, key_log
from coalition.ledger.rfc6962 import leaf_hash, merkle_root, verify_inclusion
from coalition.ledger.signers import MemorySigner
from coalition.ledger.verifier import verify_bundle

from .ledger_helpers import Ledger, manifest


def _alternating(ledger: Ledger, n: int = 6, start: int = 0) -> None:
    """GBR, DEU, GBR, DEU, ... manifests in ONE append call."""
    ledger.append(*[manifest(f"M{start + i}", "GBR" if i % 2 == 0 else "DEU", 1, 0,
                             prefix=f"{'GBR' if i % 2 == 0 else 'DEU'}-X{start + i}-") for i in range(n)])


def _batches(ledger: Ledger) -> list[tuple]:
    with ledger.session() as s:
        return [tuple(r) for r in s.execute(text(
            "select batch_id, first_seq, size, nation, runs from ledger_batch order by batch_id"))]


def _sql(ledger: Ledger, sql: str, **params: object) -> None:
    with ledger.session() as s:
        s.execute(text(sql), params)


@pytest.fixture
def alt(ledger: Ledger) -> Ledger:
    _alternating(ledger)  # seq 1..6: GBR at 1, 3, 5; DEU at 2, 4, 6
    return ledger


def test_alternating_nations_make_one_signed_batch_per_nation(alt: Ledger) -> None:
    assert _batches(alt) == [(1, 1, 3, "GBR", "[[1,1],[3,1],[5,1]]"), (2, 2, 3, "DEU", "[[2,1],[4,1],[6,1]]")]
    rep = alt.verify()
    assert rep.ok, rep.findings
    assert (rep.events, rep.batches, rep.signatures) == (6, 2, 2)


def test_changing_any_event_of_a_run_batch_is_caught_at_its_seq(alt: Ledger) -> None:
    for seq in range(1, 7):  # each event in turn (restored after), in both batches
        with alt.session() as s:
            body = s.execute(text("select body from ledger_event where seq = :s"), {"s": seq}).scalar_one()
        _sql(alt, "update ledger_event set body = :b where seq = :s",
             b=body.replace('"person":"tester"', '"person":"t"'), s=seq)
        rep = alt.verify()
        assert not rep.ok and rep.first_bad_seq() == seq, (seq, rep.findings)
        _sql(alt, "update ledger_event set body = :b where seq = :s", b=body, s=seq)
        assert alt.verify().ok


def test_rehashing_the_last_event_of_a_run_batch_is_caught_by_its_signed_root(alt: Ledger) -> None:
    """The careful attacker: rewrite the last event, recompute its hash, the head and the
    derived chain head, so that every hash link holds. Only the signed batch root stands."""
    with alt.session() as s:
        body = s.execute(text("select body from ledger_event where seq = 6")).scalar_one()
        forged = body.replace('"person":"tester"', '"person":"forger"')
        h = leaf_hash(forged.encode())
        s.execute(text("update ledger_event set body = :b, hash = :h, person = 'forger' where seq = 6"),
                  {"b": forged, "h": h})
        s.execute(text("update ledger_head set last_hash = :h"), {"h": h})
        s.execute(text("update ledger_nation_head set last_hash = :h where last_seq = 6"), {"h": h})
    rep = alt.verify()
    assert [f.message for f in rep.findings] == ["batch 2 root does not match its events"]
    assert rep.first_bad_seq() == 2  # the batch's first event: nothing from it on can be trusted


def test_moving_an_event_between_batches_is_caught(alt: Ledger) -> None:
    """Swap events 5 and 6 between the two batches: the runs no longer say what was signed."""
    _sql(alt, "update ledger_batch set runs = '[[1,1],[3,1],[6,1]]' where batch_id = 1")
    _sql(alt, "update ledger_batch set runs = '[[2,1],[4,2]]' where batch_id = 2")
    _sql(alt, "update ledger_event set batch_id = 3 - batch_id where seq in (5, 6)")
    rep = alt.verify()
    assert not rep.ok
    msgs = " | ".join(f.message for f in rep.findings)
    assert "signature invalid" in msgs and "root does not match" in msgs


def test_dropping_a_run_batch_leaves_its_events_unsigned(alt: Ledger) -> None:
    _sql(alt, "delete from ledger_signature where batch_id = 2")
    _sql(alt, "delete from ledger_batch where batch_id = 2")
    rep = alt.verify()
    assert not rep.ok
    assert rep.first_bad_seq() == 2
    assert any("do not cover the log contiguously" in f.message for f in rep.findings)


def test_splicing_a_run_batch_into_a_contiguous_one_is_caught(alt: Ledger) -> None:
    """Drop the runs of batch 1: it then claims events 1..3 (a v2 statement that nobody signed),
    overlapping batch 2."""
    _sql(alt, "update ledger_batch set runs = null where batch_id = 1")
    rep = alt.verify()
    msgs = " | ".join(f.message for f in rep.findings)
    assert "do not cover the log contiguously" in msgs and "batch 1 actor signature invalid" in msgs


def test_malformed_runs_are_findings_never_tracebacks(alt: Ledger) -> None:
    for runs in ("not json", "[[1,3]]", "[[1,1],[2,1],[5,1]]", "[[1,1],[3,1],[5,2]]", "[[1,1],[3,true],[5,1]]",
                 "[[3,1],[1,1],[5,1]]", "{}"):
        _sql(alt, "update ledger_batch set runs = :r where batch_id = 1", r=runs)
        rep = alt.verify()
        assert not rep.ok and rep.first_bad_seq() == 1, (runs, rep.findings)
    _sql(alt, "update ledger_batch set runs = '[[1,1],[3,1],[5,1]]' where batch_id = 1")
    assert alt.verify().ok


def test_a_batch_cannot_span_a_key_event(alt: Ledger) -> None:
    """Even with the nation's own key: GBR's key is rotated between two appends; a batch forged
    over GBR's events from both sides of the rotation (signed with the old key, under the old key
    log) is refused, although each of its events is intact."""
    new = MemorySigner(Ed25519PrivateKey.generate())
    alt.keyring.add("GBR-k2", new)
    with alt.session() as s:
        append_key_event(s, KeyChange("rotate", "GBR-k2", "GBR", new.public_key(), replaces="GBR-k1"),
                         keyring=alt.keyring, trust=alt.trust)
    alt.append(manifest("M9", "GBR", 1, 0, prefix="GBR-Y"))  # seq 7, batch 3, signed with GBR-k2
    assert alt.verify().ok
    with alt.session() as s:
        klog_before = key_log(s, alt.trust)
        hashes = [bytes(h) for h in s.execute(text("select hash from ledger_event where seq in (1, 3, 5, 7)"
                                                     " order by seq")).scalars()]
        first = s.execute(text("select keys_size, keys_head, time from ledger_batch where batch_id = 1")).one()
        root = merkle_root(hashes)
        msg = batch_statement(BatchStatement(batch_id=1, first_seq=1, size=4, nation="GBR", counterparty=None, root=root,
                              keys_size=int(first[0]), keys_head=bytes(first[1]), time=first[2],
                              runs=[[1, 1], [3, 1], [5, 1], [7, 1]]))
        s.execute(text("update ledger_batch set size = 4, root = :r, runs = '[[1,1],[3,1],[5,1],[7,1]]'"
                       " where batch_id = 1"), {"r": root})
        s.execute(text("update ledger_signature set signature = :g where batch_id = 1"),
                  {"g": alt.keyring.sign("GBR-k1", msg)})
        s.execute(text("delete from ledger_signature where batch_id = 3"))
        s.execute(text("delete from ledger_batch where batch_id = 3"))
        s.execute(text("update ledger_event set batch_id = 1 where seq = 7"))
    assert klog_before.log_sizes[-1] == 6  # the rotation came after event 6, before event 7
    rep = alt.verify()
    assert any("spans a key event" in f.message for f in rep.findings), rep.findings
    assert rep.first_bad_seq() == 1


def test_run_batches_prove_and_export_and_verify_offline(alt: Ledger, tmp_path: Path) -> None:
    with alt.session() as s:
        checkpoints.make_checkpoint(s, keyring=alt.keyring)
        for seq in range(1, 7):
            p = checkpoints.inclusion_proof(s, seq=seq)
            assert p.batch_index == (seq - 1) // 2  # GBR's 1, 3, 5 and DEU's 2, 4, 6 are 0, 1, 2 in their batch
            assert verify_inclusion(p.leaf_hash, p.batch_index, p.batch_size, list(p.batch_path), p.batch_root)
        export.export_bundle(s, directory=tmp_path / "full", keyring=alt.keyring, trust=alt.trust)
        export.export_bundle(s, directory=tmp_path / "deu", keyring=alt.keyring, donor="DEU", trust=alt.trust)
    for name in ("full", "deu"):
        rep = verify_bundle(tmp_path / name, trust=alt.trust)
        assert rep.ok, (name, rep.findings)
    # a bundle whose runs were edited (an event moved to the other batch) is refused offline
    for name in ("full", "deu"):
        path = tmp_path / name / "batches.jsonl"
        rows = [json.loads(line) for line in path.read_text().splitlines()]
        for r in rows:
            if r["batch_id"] == 2:
                r["runs"] = [[2, 1], [4, 1], [5, 1]]
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        rep = verify_bundle(tmp_path / name, trust=alt.trust)
        assert not rep.ok, name
    # dropping the runs (a v2 reading of a v3 batch) is refused too
    path = tmp_path / "deu" / "batches.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    for r in rows:
        r.pop("runs", None)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert not verify_bundle(tmp_path / "deu", trust=alt.trust).ok


def test_contiguous_batches_keep_the_v2_statement(ledger: Ledger) -> None:
    """Ledgers written before batches had runs (every batch contiguous, runs null) verify as
    before: a contiguous batch is still signed with the v2 statement."""
    ledger.append(manifest("M1", "GBR", 1, 0), manifest("M2", "GBR", 1, 0, prefix="GBR-Z"))
    assert _batches(ledger) == [(1, 1, 2, "GBR", None)]
    with ledger.session() as s:
        stored = s.execute(text("select root, time, keys_size, keys_head from ledger_batch")).one()
        sig = bytes(s.execute(text("select signature from ledger_signature")).scalar_one())
    v2 = batch_statement(BatchStatement(batch_id=1, first_seq=1, size=2, nation="GBR", counterparty=None, root=bytes(stored[0]),
                         keys_size=int(stored[2]), keys_head=bytes(stored[3]), time=stored[1]))
    assert b'"kind":"coalition-ledger/batch/v2"' in v2
    Ed25519PublicKey.from_public_bytes(ledger.keyring.public("GBR-k1")).verify(sig, v2)
    assert ledger.verify().ok


def test_migration_down_refuses_run_batches_and_old_ledgers_verify_after_up(ledger: Ledger) -> None:
    from coalition.store.db import make_engine
    from coalition.store.migrate import downgrade, upgrade

    ledger.append(manifest("M1", "GBR", 1, 0))  # a contiguous batch: what every older ledger holds
    engine = make_engine(ledger.url)
    try:
        downgrade(engine, "ledger_0005")  # the column goes: the log is an older one
        upgrade(engine)
        assert ledger.verify().ok
        _alternating(ledger, 4, start=10)
        with pytest.raises(RuntimeError, match="non-contiguous"):
            downgrade(engine, "ledger_0005")
        assert ledger.verify().ok
    finally:
        engine.dispose()


def test_bundles_of_format_3_are_still_read_and_unknown_formats_refused(ledger: Ledger, tmp_path: Path) -> None:
    from coalition.ledger.bundle import BundleError

    ledger.append(manifest("M1", "GBR", 2, 0))
    with ledger.session() as s:
        export.export_bundle(s, directory=tmp_path / "b", keyring=ledger.keyring, trust=ledger.trust)
    meta_path = tmp_path / "b" / "bundle.json"
    meta = json.loads(meta_path.read_text())
    assert meta["format"] == "coalition-ledger-bundle/4"
    for fmt, ok in (("coalition-ledger-bundle/3", True), ("coalition-ledger-bundle/2", False), (["x"], False)):
        meta_path.write_text(json.dumps({**meta, "format": fmt}))
        if ok:
            assert verify_bundle(tmp_path / "b", trust=ledger.trust).ok
        else:
            with pytest.raises(BundleError, match="format"):
                verify_bundle(tmp_path / "b", trust=ledger.trust)
