"""Verify the projection and the signing duties by replay; rebuild keeps its evidence; verify
reads one snapshot while appends commit."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from sqlalchemy import text

from coalition.ledger import service
from coalition.ledger.verify import snapshot_transaction, verify_log

from .ledger_helpers import Ledger, ev, manifest, shipped


def test_projection_differences_are_named_row_and_field(ledger: Ledger) -> None:
    shipped(ledger)
    assert ledger.verify(projection=True).ok
    with ledger.session() as s:
        s.execute(text("update inv_serial set custodian = 'POL', location = 'UA-KYIV' where serial = 'GBR-S1'"))
        s.execute(text("update inv_lot_stock set quantity = quantity - 1 where lot = 'M1-L155' and quantity > 0"))
    rep = ledger.verify(projection=True)
    got = {(d.table, d.key, d.field, d.stored, d.replayed) for d in rep.diffs}
    assert ("inv_serial", "GBR-S1", "custodian", "POL", "FRA") in got
    assert ("inv_serial", "GBR-S1", "location", "UA-KYIV", "UA-LVIV/LV-D1/SH-1") in got
    assert any(t == "inv_lot_stock" and f == "quantity" and a == 99 and b == 100 for t, _k, f, a, b in got)
    assert ledger.verify().ok  # without --projection: the log itself is still sound


def test_rules_are_checked_again_at_verify(ledger: Ledger) -> None:
    """FRA lifts GBR's lot suspension by writing the event straight into the database, signed
    with FRA's real key: every signature verifies — the replay of the rules refuses it."""
    from .test_trust import forge_event

    shipped(ledger)
    ledger.append(ev("suspension", "GBR", {"lot": "M1-L155", "reason": "fuze defect"}))
    fra = ledger.keyring.signer("FRA-k1").key  # type: ignore[attr-defined]
    seq = forge_event(ledger, nation="FRA", key_id="FRA-k1", key=fra, type="suspension", key_row=False,
                      payload={"lot": "M1-L155", "suspended": False, "reason": "lifted by the holder"})
    assert ledger.verify().ok  # hashes, chain, signatures: all fine
    rep = ledger.verify(rules=True)
    assert rep.first_bad_seq() == seq
    msgs = [f.message for f in rep.findings]
    assert any("title holder GBR only, not FRA" in m for m in msgs), msgs


def test_an_event_whose_chain_omits_a_title_holder_is_found_by_replay(ledger: Ledger) -> None:
    from .test_trust import forge_event

    gbr = ledger.keyring.signer("GBR-k1").key  # type: ignore[attr-defined]
    seq = forge_event(ledger, nation="GBR", key_id="GBR-k1", key=gbr, type="manifest", key_row=False, payload={
        "manifest": "MF", "origin": "H", "destination": "UA-LVIV/LV-D1/SH-1", "receiver": "FRA", "lots": [],
        "serials": [{"serial": "GBR-F1", "item_type": "R", "unit_value": 0.0, "sensitive": False}]})
    assert ledger.verify().ok
    rep = ledger.verify(rules=True)
    assert rep.first_bad_seq() == seq
    assert any("affects the items of GBR but its signed chain links name nobody" in f.message for f in rep.findings)


def test_rebuild_writes_its_diff_report_before_replacing(ledger: Ledger, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from coalition.cli.main import app

    shipped(ledger)
    with ledger.session() as s:
        s.execute(text("update inv_serial set status = 'lost' where serial = 'GBR-S2'"))
    report = tmp_path / "diff.json"
    trust = tmp_path / "trust.json"
    trust.write_text(ledger.trust.to_json())
    r = CliRunner().invoke(app, ["ledger", "rebuild", "--database-url", ledger.url, "--data-dir", str(tmp_path),
                                 "--report", str(report)])
    assert r.exit_code == 1, r.output
    diffs = json.loads(report.read_text())["differences"]
    assert {"table": "inv_serial", "key": "GBR-S2", "field": "status", "stored": "lost",
            "replayed": "serviceable"} in diffs
    assert ledger.verify(projection=True).ok  # replaced after the evidence was kept


def test_verify_reads_one_snapshot_while_appends_commit(ledger: Ledger) -> None:
    shipped(ledger)
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        i = 0
        try:
            while not stop.is_set():
                with ledger.session() as s:
                    service.append_events(s, events=[manifest(f"W{i}-{j}", "GBR", 1, 0, prefix=f"GBR-W{i}-{j}-")
                                                     for j in range(3)], signer=ledger.signer, trust=ledger.trust)
                i += 1
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    t = threading.Thread(target=writer)
    t.start()
    try:
        results = []
        for _ in range(12):
            with snapshot_transaction(ledger.factory) as s:
                rep = verify_log(s, trust=ledger.trust)
            results.append((rep.ok, rep.events, [str(f) for f in rep.findings[:2]]))
    finally:
        stop.set()
        t.join(timeout=60)
    assert not errors, errors
    assert all(ok for ok, _n, _f in results), results
    assert len({n for _ok, n, _f in results}) > 1  # the writer really was appending meanwhile


# --- coalition.ledger.replay directly --------------------------------------------------------


def test_replay_in_chunks_of_one_equals_the_stored_projection(ledger: Ledger) -> None:
    from coalition.ledger.checks import Report
    from coalition.ledger.replay import projection_diff, replay_log

    shipped(ledger)
    shipped(ledger, name="M2", nation="DEU", serials=2, lot_qty=0)
    with ledger.session() as s:
        rep = Report()
        whole = replay_log(s, rep)
        one_by_one = replay_log(s, rep, chunk=1)  # every page boundary
        assert rep.ok, rep.findings
        assert projection_diff(s, whole) == [] and projection_diff(s, one_by_one) == []
        assert whole.serials == one_by_one.serials and whole.stocks == one_by_one.stocks


def test_rows_missing_on_either_side_are_named_and_the_list_is_bounded(ledger: Ledger) -> None:
    from coalition.ledger.checks import Report
    from coalition.ledger.replay import RowDiff, projection_diff, replay_log

    shipped(ledger)
    with ledger.session() as s:
        s.execute(text("delete from inv_serial where serial = 'GBR-S1'"))
        state = replay_log(s, Report())
        diffs = projection_diff(s, state)
        assert RowDiff("inv_serial", "GBR-S1", "(row)", "missing", "present") in diffs
        state.serials.pop("GBR-S0")  # the replay lacks a row the store has
        diffs = projection_diff(s, state)
        assert RowDiff("inv_serial", "GBR-S0", "(row)", "present", "missing") in diffs
        assert len(projection_diff(s, state, limit=1)) == 1
    shown = str(RowDiff("inv_lot", "L1", "quantity", 3, 4))
    assert shown == "inv_lot L1: quantity stored 3, replayed 4"


def test_an_unreadable_body_is_a_rules_finding_at_its_seq() -> None:
    from coalition.inventory.state import State
    from coalition.ledger.checks import Report
    from coalition.ledger.replay import _one

    rep = Report()
    _one(State(), rep, 7, "{not json", "2026-01-01T00:00:00Z", set())
    assert [(f.what, f.seq) for f in rep.findings] == [("rules", 7)]
    assert "cannot be replayed" in rep.findings[0].message
