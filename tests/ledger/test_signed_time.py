"""Signed time: each batch signs its commit time; backdating past the last checkpoint is refused;
loss-report lateness is measured from the signed commit time, not the claimed business time."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text

from coalition.errors import InputError
from coalition.ledger import checkpoints, service
from coalition.ledger.reports import donor_report

from .ledger_helpers import Ledger, ev, manifest, shipped


def _append_at(ledger: Ledger, now: str, *events, tolerance: int | None = None):  # type: ignore[no-untyped-def]
    with ledger.session() as s:
        return service.append_events(
            s,
            events=list(events),
            signer=ledger.signer,
            trust=ledger.trust,
            timing=service.AppendTiming(now=now, backdate_tolerance_s=tolerance),
        )


def test_event_dated_before_the_last_checkpoint_beyond_the_tolerance_is_refused(ledger: Ledger) -> None:
    shipped(ledger)
    with ledger.session() as s:
        checkpoints.make_checkpoint(s, keyring=ledger.keyring, now="2026-04-01T00:00:00Z")
    late = manifest("M2", "GBR", 1, 0, prefix="GBR-B")
    with pytest.raises(InputError, match="more than 24 h before the last checkpoint") as err:
        _append_at(ledger, "2026-04-01T01:00:00Z", late, tolerance=86_400)  # dated 2026-03-01
    assert err.value.problems[0].field == "time"
    ok = ev("manifest", "GBR", {**late.payload.model_dump(mode="json")}, time="2026-03-31T12:00:00Z")
    _append_at(ledger, "2026-04-01T01:00:00Z", ok, tolerance=86_400)  # within the tolerance


def test_commit_time_is_signed(ledger: Ledger) -> None:
    shipped(ledger)
    assert ledger.verify().ok
    with ledger.session() as s:
        s.execute(text("update ledger_batch set time = '2027-01-01T00:00:00Z' where batch_id = 2"))
    rep = ledger.verify()
    assert any(f.what == "signature" and "batch 2" in f.message for f in rep.findings)


def test_loss_lateness_uses_the_signed_commit_time(ledger: Ledger) -> None:
    shipped(ledger)
    # claimed business time one day after the loss; the log received it 40 days after
    loss = ev(
        "loss", "FRA", {"serials": ["GBR-S1"], "kind": "lost", "occurred_on": "2026-03-10"}, time="2026-03-11T09:00:00Z"
    )
    _append_at(ledger, "2026-04-19T09:00:00Z", loss)
    with ledger.session() as s:
        rep = donor_report(s, donor="GBR", as_of=date(2026, 5, 1))
    assert "GBR-S1" in rep.delinquency.late_loss_reports.refs
    with ledger.session() as s:  # and a rebuild from the log keeps it (the time comes from the batch)
        service.rebuild_projection(s)
        rep = donor_report(s, donor="GBR", as_of=date(2026, 5, 1))
    assert "GBR-S1" in rep.delinquency.late_loss_reports.refs


def test_conflict_names_the_files_line(ledger: Ledger) -> None:
    from coalition.errors import ConflictError
    from coalition.ledger.schemas import parse_jsonl

    text_ = "\n".join(
        [
            "# comment",
            '{"type": "manifest", "nation": "GBR", "person": "p", "payload": {"manifest": "X1", "origin": "H",'
            ' "destination": "UA-LVIV/LV-D1/SH-1", "receiver": "FRA",'
            ' "serials": [{"serial": "Z1", "item_type": "R"}]}}',
            '{"type": "dispatch", "nation": "FRA", "person": "p", "payload": {"manifest": "X1"}}',
        ]
    )
    events = parse_jsonl(text_, file="events.jsonl")
    with pytest.raises(ConflictError, match=r"events.jsonl line 3 \(dispatch by FRA\)"):
        ledger.append(*events, safety=False)
