"""Changing any stored byte of an event, a signature or a checkpoint is caught by verify."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from coalition.ledger import checkpoints
from coalition.ledger.verify import verify_log

from .ledger_helpers import Ledger, ev, shipped


@pytest.fixture
def filled(ledger: Ledger) -> Ledger:
    shipped(ledger)  # seq 1-3
    shipped(ledger, name="M2", nation="DEU", serials=20, lot_qty=0)  # seq 4-6
    ledger.append(*[ev("transfer", "FRA", {"serials": [f"DEU-S{i}"], "to": "UA-LVIV/LV-D1/SH-2"}) for i in range(14)])
    with ledger.session() as s:  # seq 7-20, 20 events: one stored level-4 node
        checkpoints.make_checkpoint(s, keyring=ledger.keyring)
        assert verify_log(s, trust=ledger.trust).ok
    return ledger


def _tamper(ledger: Ledger, sql: str) -> None:
    with ledger.session() as s:
        s.execute(text(sql))


@pytest.mark.parametrize(
    ("sql", "bad_seq"),
    [
        ("update ledger_event set body = replace(body, 'DEU-S3', 'DEU-S9') where seq = 10", 10),
        ("update ledger_event set body = replace(body, '\"person\":\"tester\"', '\"person\":\"tester2\"') where seq = 8", 8),
        ("update ledger_event set nation = 'GBR' where seq = 12", 12),
        ("update ledger_event set time = '2026-01-01T00:00:00Z' where seq = 5", 5),
    ],
)
def test_event_tampering_names_the_seq(filled: Ledger, sql: str, bad_seq: int) -> None:
    _tamper(filled, sql)
    with filled.session() as s:
        rep = verify_log(s, trust=filled.trust)
    assert not rep.ok
    assert rep.first_bad_seq() == bad_seq


def _bytes_update(ledger: Ledger, table: str, column: str, where: str) -> None:
    """Flip the last byte of a binary column, on SQLite and PostgreSQL alike."""
    with ledger.session() as s:
        raw = s.execute(text(f"select {column} from {table} where {where}")).scalar_one()
        changed = bytes(raw[:-1]) + bytes([raw[-1] ^ 0x01])
        s.execute(text(f"update {table} set {column} = :v where {where}"), {"v": changed})


@pytest.mark.parametrize(
    ("table", "column", "where", "bad_seq"),
    [
        ("ledger_event", "hash", "seq = 9", 9),
        ("ledger_event", "prev_hash", "seq = 15", 15),
        ("ledger_signature", "signature", "batch_id = 2 and role = 'actor'", 3),
        ("ledger_signature", "signature", "batch_id = 4 and role = 'counterparty'", 6),
        ("ledger_batch", "root", "batch_id = 3", 4),
        ("ledger_batch", "keys_head", "batch_id = 3", 4),
    ],
)
def test_binary_tampering_is_caught(filled: Ledger, table: str, column: str, where: str, bad_seq: int) -> None:
    _bytes_update(filled, table, column, where)
    with filled.session() as s:
        rep = verify_log(s, trust=filled.trust)
    assert not rep.ok
    assert rep.first_bad_seq() == bad_seq, rep.findings


def test_stored_tree_node_tampering_is_caught(filled: Ledger) -> None:
    _bytes_update(filled, "ledger_node", "hash", "level = 4 and idx = 0")
    with filled.session() as s:
        rep = verify_log(s, trust=filled.trust)
    assert [f.what for f in rep.findings] == ["tree"]


def test_rewriting_body_and_hash_together_is_caught_at_that_event(filled: Ledger) -> None:
    """An insider who recomputes the hash of a changed event still breaks the next link."""
    from coalition.ledger.rfc6962 import leaf_hash

    with filled.session() as s:
        body = s.execute(text("select body from ledger_event where seq = 10")).scalar_one()
        forged = body.replace("DEU-S3", "DEU-S9")
        s.execute(text("update ledger_event set body = :b, hash = :h where seq = 10"),
                  {"b": forged, "h": leaf_hash(forged.encode())})
    with filled.session() as s:
        rep = verify_log(s, trust=filled.trust)
    assert rep.first_bad_seq() == 10, rep.findings


@pytest.mark.parametrize("column", ["root", "signature"])
def test_checkpoint_tampering_is_caught(filled: Ledger, column: str) -> None:
    _bytes_update(filled, "ledger_checkpoint", column, "checkpoint_id = 1")
    with filled.session() as s:
        rep = verify_log(s, trust=filled.trust)
    assert not rep.ok
    assert any(f.what == "checkpoint" for f in rep.findings)


def test_deleting_an_event_is_caught(filled: Ledger) -> None:
    _tamper(filled, "delete from ledger_event_ref where seq = 20")
    _tamper(filled, "delete from ledger_event where seq = 20")
    with filled.session() as s:
        rep = verify_log(s, trust=filled.trust)
    assert not rep.ok
    assert rep.first_bad_seq() == 20


@pytest.mark.parametrize(
    "sql",
    [
        "update ledger_event set body = replace(body, 'DEU-S3', 'DEU-S9') where seq = 10",
        "update ledger_event set person = 'someone else' where seq = 8",
        "update ledger_event set type = 'issue' where seq = 12",
        # a top-level key smuggled into the payload: the fast frame check must not accept it
        "update ledger_event set body = replace(body, '\"payload\":{', '\"payload\":{\"x\":[]},\"nation\":\"GBR\",\"y\":{') where seq = 9",
    ],
)
def test_fast_frame_check_finds_what_a_full_parse_finds(filled: Ledger, sql: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from coalition.ledger import verify

    monkeypatch.setattr(verify, "CHUNK", 7)  # several fetches: per-chunk bookkeeping is exercised
    with filled.session() as s:
        assert verify_log(s, trust=filled.trust).ok and verify_log(s, trust=filled.trust, parse_payloads=True).ok
    _tamper(filled, sql)
    with filled.session() as s:
        fast, full = verify_log(s, trust=filled.trust), verify_log(s, trust=filled.trust, parse_payloads=True)
    assert not fast.ok
    assert [str(f) for f in fast.findings] == [str(f) for f in full.findings]


def _rewrite_last_chain(ledger: Ledger, change) -> int:  # type: ignore[no-untyped-def]
    """Rewrite the chain text of the last event and store a matching hash (as an attacker with
    database access would), so that only the chain check can catch it."""
    from coalition.ledger.canonical import chain_text_of
    from coalition.ledger.rfc6962 import leaf_hash

    with ledger.session() as s:
        seq, body = s.execute(text("select seq, body from ledger_event order by seq desc limit 1")).one()
        chain = chain_text_of(body)
        assert chain and chain != "{}"
        new = body.replace(chain, change(chain), 1)
        h = leaf_hash(new.encode())
        s.execute(text("update ledger_event set body = :b, hash = :h where seq = :s"), {"b": new, "h": h, "s": seq})
        s.execute(text("update ledger_head set last_hash = :h"), {"h": h})
    return int(seq)


@pytest.mark.parametrize(("change", "says"), [
    (lambda c: c.replace(":[", ":[1", 1), "counter"),  # counter 7 -> 17: a jump
    (lambda c: c[:-4] + ("0" if c[-4] != "0" else "1") + c[-3:], "does not link"),  # another previous hash
    (lambda c: c.replace(":[", ": [", 1), "not canonical"),  # same value, other bytes
    (lambda c: c[:-1] + "," + c[1:], "not canonical"),  # the nation named twice
    # the one-nation fast path reads the code at a fixed place: a longer or another code is not it
    (lambda c: c[:5] + "X" + c[5:], "counter"),  # {"DEUX":[..]}: a new chain that does not start at 1
    (lambda c: c[:4] + "Q" + c[5:], "counter"),  # {"DEQ":[..]}: another nation's chain, at counter 14
])
def test_rewritten_chain_links_are_reported_at_their_seq(filled: Ledger, change, says: str) -> None:  # type: ignore[no-untyped-def]
    seq = _rewrite_last_chain(filled, change)
    rep = filled.verify()
    assert any(f.what == "chain" and f.seq == seq and says in f.message for f in rep.findings), rep.findings
