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
