"""Complete donor bundles: each event commits, in its signed body, to a per-nation counter and the
previous event of that nation; a donor sees from signed data alone that nothing was left out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import delete, update

from coalition.ledger.export import export_bundle
from coalition.ledger.models import LedgerEventRef, LedgerNationHead
from coalition.ledger.verifier import verify_bundle

from .ledger_helpers import Ledger, ev, shipped


@pytest.fixture
def history(ledger: Ledger) -> Ledger:
    shipped(ledger)  # GBR seq 1-3
    shipped(ledger, name="M2", nation="DEU", serials=2, lot_qty=0)  # DEU seq 4-6
    ledger.append(ev("issue", "FRA", {"serials": ["GBR-S0", "DEU-S1"], "end_user": "UA 1 Bde", "reference": "E"}))
    ledger.append(ev("loss", "UKR", {"serials": ["GBR-S0"], "kind": "lost", "occurred_on": "2026-03-02"}))  # seq 8
    ledger.append(ev("transfer", "FRA", {"serials": ["DEU-S0"], "to": "UA-LVIV/LV-D1/SH-2"}))  # seq 9, DEU only
    return ledger


def _export(ledger: Ledger, d: Path, donor: str = "GBR") -> dict:
    with ledger.session() as s:
        return export_bundle(s, directory=d, keyring=ledger.keyring, donor=donor, trust=ledger.trust)


def _lines(d: Path) -> list[str]:
    return (d / "events.jsonl").read_text().splitlines()


def _drop_event(d: Path, seq: int) -> None:
    lines = [ln for ln in _lines(d) if json.loads(ln)["seq"] != seq]
    (d / "events.jsonl").write_text("\n".join(lines) + "\n")


def test_untouched_donor_bundle_is_complete(history: Ledger, tmp_path: Path) -> None:
    _export(history, tmp_path / "gbr")
    rep = verify_bundle(tmp_path / "gbr", history.trust)
    assert rep.ok, rep.findings
    assert [json.loads(x)["seq"] for x in _lines(tmp_path / "gbr")] == [1, 2, 3, 7, 8]
    chain = [json.loads(x)["chain"]["GBR"][0] for x in _lines(tmp_path / "gbr")]
    assert chain == [1, 2, 3, 4, 5]
    assert history.verify().ok


def test_an_event_omitted_from_a_donor_bundle_is_reported_with_its_counter(history: Ledger, tmp_path: Path) -> None:
    d = tmp_path / "gbr"
    _export(history, d)
    _drop_event(d, 7)  # GBR's 4th event: the issue
    rep = verify_bundle(d, history.trust)
    assert not rep.ok
    msgs = [f.message for f in rep.findings if f.what == "completeness"]
    assert any("GBR's event counter 4 is missing" in m for m in msgs), rep.findings


def test_a_bundle_cut_short_at_the_end_is_reported(history: Ledger, tmp_path: Path) -> None:
    d = tmp_path / "gbr"
    _export(history, d)
    _drop_event(d, 8)  # the latest: the loss report
    rep = verify_bundle(d, history.trust)
    assert any("counter 5 is missing" in f.message for f in rep.findings), rep.findings
    (d / "heads.jsonl").unlink()  # ... and without the signed head it is still not accepted
    rep = verify_bundle(d, history.trust)
    assert any("no entry for GBR's chain head" in f.message for f in rep.findings)


def test_deleted_reference_row_cannot_hide_the_loss_report(history: Ledger, tmp_path: Path) -> None:
    with history.session() as s:
        s.execute(delete(LedgerEventRef).where(LedgerEventRef.seq == 8))  # the unhashed index loses it
    meta = _export(history, tmp_path / "gbr")
    assert meta["recovered_from_log"] == [8]
    assert 8 in [json.loads(x)["seq"] for x in _lines(tmp_path / "gbr")]
    assert verify_bundle(tmp_path / "gbr", history.trust).ok


def test_relabelled_scope_and_padding_with_another_nations_events_are_refused(history: Ledger, tmp_path: Path) -> None:
    d = tmp_path / "gbr"
    _export(history, d)
    meta = json.loads((d / "bundle.json").read_text())
    meta["scope"] = "donor:DEU"
    (d / "bundle.json").write_text(json.dumps(meta))
    rep = verify_bundle(d, history.trust)
    assert any("does not concern DEU's items" in f.message for f in rep.findings)
    meta["scope"] = "full"
    (d / "bundle.json").write_text(json.dumps(meta))
    assert not verify_bundle(d, history.trust).ok


def test_tampered_chain_head_rows_are_reported_by_verify(history: Ledger) -> None:
    with history.session() as s:
        s.execute(update(LedgerNationHead).where(LedgerNationHead.nation == "GBR").values(counter=3))
    rep = history.verify()
    assert any(f.what == "chain" and "GBR" in f.message for f in rep.findings)


def test_correction_joins_the_chains_of_the_reversed_events_nations(history: Ledger, tmp_path: Path) -> None:
    history.append(ev("correction", "FRA", {"reverses": 9, "reason": "data_entry_error"}))
    _export(history, tmp_path / "deu", donor="DEU")
    seqs = [json.loads(x)["seq"] for x in _lines(tmp_path / "deu")]
    assert seqs[-2:] == [9, 10]
    assert verify_bundle(tmp_path / "deu", history.trust).ok


# --- coalition.ledger.completeness: the donor chain on its own ------------------------------


@pytest.fixture
def trust(keys_dir: Path):  # type: ignore[no-untyped-def]
    from coalition.ledger.keyevents import trust_from_keyring
    from coalition.ledger.keys import KeyRing

    return trust_from_keyring(KeyRing.load(keys_dir))


def _hash(i: int) -> bytes:
    return bytes([i]) * 32


def _chain(events: list[tuple[int, object]]):  # type: ignore[no-untyped-def]
    """Feed (seq, chain field) pairs whose own hashes are _hash(seq); the report and chain."""
    from coalition.ledger.checks import Report
    from coalition.ledger.completeness import _DonorChain

    rep = Report()
    chain = _DonorChain(rep, "GBR")
    for seq, link in events:
        chain.add(seq, link, _hash(seq))
    return rep, chain


def _messages(rep) -> list[str]:  # type: ignore[no-untyped-def]
    return [f.message for f in rep.findings]


def test_a_chain_that_counts_one_by_one_and_links_has_no_finding() -> None:
    from coalition.ledger.canonical import GENESIS

    rep, chain = _chain([(1, {"GBR": [1, GENESIS.hex()]}), (4, {"GBR": [2, _hash(1).hex()], "DEU": [7, "x"]})])
    assert rep.ok and (chain.counter, chain.last, chain.last_seq) == (2, _hash(4), 4)


def test_each_break_of_the_donor_chain_is_named_with_its_place() -> None:
    from coalition.ledger.canonical import GENESIS

    g = GENESIS.hex()
    rep, _ = _chain([(1, {"GBR": [1, g]}), (5, {"GBR": [3, _hash(1).hex()]})])
    assert _messages(rep) == ["GBR's event counter 2 is missing (after seq 1); next present: counter 3"]
    assert rep.findings[0].seq == 2
    rep, _ = _chain([(1, {"GBR": [1, g]}), (2, {"GBR": [1, _hash(1).hex()]})])
    assert _messages(rep) == ["GBR's event counter 1 appears twice or out of order"]
    rep, _ = _chain([(1, {"GBR": [1, g]}), (2, {"GBR": [2, _hash(9).hex()]})])
    assert _messages(rep) == ["GBR's event 2 does not link to its event 1"]
    for bad in ({"DEU": [1, g]}, None, {"GBR": [True, g]}, {"GBR": [1]}, {"GBR": ["1", g]}):
        rep, _ = _chain([(3, bad)])
        assert len(rep.findings) == 1 and "does not concern GBR's items" in rep.findings[0].message, bad
    rep, _ = _chain([(7, {"GBR": [2, g]})])  # the very first counter is missing
    assert _messages(rep) == ["GBR's event counter 1 is missing; next present: counter 2"]


def _head_row(nation: str, counter: int, last: bytes, **override):  # type: ignore[no-untyped-def]
    from coalition.ledger.bundle import Row

    data = {"nation": nation, "counter": counter, "last_hash": last.hex(), "index": 0, "count": 1, "path": []}
    return Row("heads.jsonl", 1, {**data, **override})


def _committed(nation: str, counter: int, last: bytes) -> tuple[int, bytes]:
    from coalition.ledger.nationheads import head_leaf
    from coalition.ledger.rfc6962 import leaf_hash

    return 1, leaf_hash(head_leaf(nation, counter, last))  # a one-entry map: its root is the leaf


def test_the_end_of_the_chain_is_where_the_committed_head_says(trust) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from coalition.ledger.canonical import GENESIS

    events = [(1, {"GBR": [1, GENESIS.hex()]}), (2, {"GBR": [2, _hash(1).hex()]})]
    rep, chain = _chain(events)
    chain.close([_head_row("GBR", 2, _hash(2))], trust, 10, _committed("GBR", 2, _hash(2)))
    assert rep.ok and rep.tail_witnessed is False
    assert any("is not witnessed" in w for w in rep.warnings)  # quorum 0: only the operator says so
    rep, chain = _chain(events)
    chain.close([_head_row("GBR", 2, _hash(2))], replace(trust, witness_quorum=1), 10, _committed("GBR", 2, _hash(2)))
    assert rep.ok and rep.tail_witnessed is True and not rep.warnings
    # the checkpoint commits to a longer chain: the bundle was cut off at the end
    rep, chain = _chain(events)
    chain.close([_head_row("GBR", 3, _hash(3))], trust, 10, _committed("GBR", 3, _hash(3)))
    assert _messages(rep) == ["GBR's event counter 3 is missing (the checkpoint of tree size 10 commits to a "
                              "chain of 3 events; the bundle ends at 2)"]


def test_a_missing_forged_or_foreign_head_is_a_finding(trust) -> None:  # type: ignore[no-untyped-def]
    from coalition.ledger.canonical import GENESIS

    events = [(1, {"GBR": [1, GENESIS.hex()]})]
    good = _committed("GBR", 1, _hash(1))
    cases = [
        ([_head_row("GBR", 1, _hash(1))], None, "commits to no (or a malformed) nation-heads map"),
        ([_head_row("GBR", 1, _hash(1))], False, "commits to no (or a malformed) nation-heads map"),
        ([], good, "heads.jsonl: no entry for GBR's chain head"),
        ([_head_row("DEU", 1, _hash(1))], good, "the head entry is DEU's, not GBR's"),
        ([_head_row("GBR", 1, _hash(1), last_hash="zz")], good, "malformed head entry"),
        ([_head_row("GBR", 1, _hash(7))], good, "is not in the nation heads committed by the witnessed checkpoint"),
        ([_head_row("GBR", 1, _hash(1), count=2)], good, "is not in the nation heads"),
    ]
    for heads, committed, want in cases:
        rep, chain = _chain(events)
        chain.close(heads, trust, 5, committed)
        assert len(rep.findings) == 1 and want in rep.findings[0].message, (want, rep.findings)
        assert rep.tail_witnessed is False
