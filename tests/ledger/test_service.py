"""Appending custody events: chain, signatures, handovers, invariants, rebuild, corrections."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from coalition.errors import ConflictError, InputError
from coalition.inventory import service as inv
from coalition.inventory.models import InvLotStock, InvSerial
from coalition.ledger import checkpoints, service
from coalition.ledger.models import LedgerEvent, LedgerSignature
from coalition.ledger.verify import verify_log
from coalition.ledger.rfc6962 import verify_inclusion

from .ledger_helpers import Ledger, ev, manifest, shipped


def _count(ledger: Ledger, model) -> int:  # type: ignore[no-untyped-def]
    with ledger.session() as s:
        return int(s.scalar(select(func.count()).select_from(model)))


def test_append_chains_signs_and_verifies(ledger: Ledger) -> None:
    shipped(ledger)
    with ledger.session() as s:
        rep = verify_log(s, trust=ledger.trust)
        assert rep.ok, rep.findings
        assert rep.events == 3
        rows = s.execute(select(LedgerEvent.seq, LedgerEvent.prev_hash, LedgerEvent.hash).order_by(LedgerEvent.seq)).all()
        assert [r.seq for r in rows] == [1, 2, 3]
        assert bytes(rows[0].prev_hash) == bytes(32)
        assert bytes(rows[1].prev_hash) == bytes(rows[0].hash)
        # the receipt is a handover: its batch carries the receiver's and the dispatcher's signature
        batch = s.scalar(select(LedgerEvent.batch_id).where(LedgerEvent.seq == 3))
        roles = dict(s.execute(select(LedgerSignature.role, LedgerSignature.key_id)
                               .where(LedgerSignature.batch_id == batch)).all())
        assert roles == {"actor": "FRA-k1", "counterparty": "GBR-k1"}
        cp = checkpoints.make_checkpoint(s, keyring=ledger.keyring)
        p = checkpoints.inclusion_proof(s, seq=2, checkpoint_id=cp.checkpoint_id)
        assert verify_inclusion(p.leaf_hash, 1, cp.size, p.path, cp.root)
        assert verify_inclusion(p.leaf_hash, p.batch_index, p.batch_size, p.batch_path, p.batch_root)


def test_receipt_opens_discrepancies_with_reason_codes(ledger: Ledger) -> None:
    ledger.append(manifest(serials=3, lot_qty=100), ev("dispatch", "GBR", {"manifest": "M1"}))
    ledger.append(ev("receipt", "FRA", {"manifest": "M1", "location": "UA-LVIV/LV-D1/SH-1",
                                        "serials": ["GBR-S0", "GBR-S1", "GBR-X9"],
                                        "lots": [{"lot": "M1-L155", "quantity": 90}],
                                        "reasons": {"GBR-S2": "damaged_in_transit"}}))
    with ledger.session() as s:
        found = {(d.ref, d.reason, d.expected, d.found) for d in inv.discrepancies(s)}
        assert found == {("S:GBR-S2", "damaged_in_transit", 1, 0), ("S:GBR-X9", "not_on_manifest", 0, 1),
                         ("L:M1-L155", "short_shipped", 100, 90)}
        s2 = s.get(InvSerial, "GBR-S2")
        assert s2.status == "in_transit" and s2.custodian == "GBR" and s2.arrived_on is None
        assert s.get(InvSerial, "GBR-S0").custodian == "FRA"
        assert s.get(InvSerial, "GBR-X9") is None  # not taken on charge


@pytest.mark.parametrize("bulk", [False, True])
def test_serial_exists_once(ledger: Ledger, bulk: bool) -> None:
    shipped(ledger)
    dup = manifest("M2", "FRA", serials=2, lot_qty=0, prefix="GBR-S")  # GBR-S0 again, by another donor
    before = _count(ledger, LedgerEvent)
    with pytest.raises(ConflictError, match="GBR-S0 already exists"):
        if bulk:
            ledger.append(manifest("M3", "DEU", serials=1, lot_qty=0), dup)
        else:
            ledger.append(dup)
    assert _count(ledger, LedgerEvent) == before  # nothing half-written, not even the good first event
    with pytest.raises(ConflictError, match="listed twice|already exists"):
        ledger.append(manifest("M4", "DEU", serials=1, lot_qty=0), manifest("M5", "DEU", serials=1, lot_qty=0))


def test_only_the_custodian_dispatches_or_issues(ledger: Ledger) -> None:
    ledger.append(manifest())
    with pytest.raises(ConflictError, match="custody of GBR"):
        ledger.append(ev("dispatch", "FRA", {"manifest": "M1"}))
    ledger.append(ev("dispatch", "GBR", {"manifest": "M1"}))
    ledger.append(ev("receipt", "FRA", {"manifest": "M1", "location": "UA-LVIV/LV-D1/SH-1",
                                        "serials": ["GBR-S0", "GBR-S1", "GBR-S2"],
                                        "lots": [{"lot": "M1-L155", "quantity": 100}]}))
    for nation in ("GBR", "DEU"):  # the donor no longer holds it; a bystander never did
        with pytest.raises(ConflictError, match="only the custodian"):
            ledger.append(ev("issue", nation, {"serials": ["GBR-S0"], "end_user": "UA 1 Bde", "reference": "EUC-1"}))
        with pytest.raises(ConflictError, match="custody of FRA"):
            ledger.append(ev("issue", nation, {"lots": [{"lot": "M1-L155", "quantity": 1, "at": "UA-LVIV/LV-D1/SH-1"}],
                                               "end_user": "UA 1 Bde", "reference": "EUC-1"}))
    res = ledger.append(ev("issue", "FRA", {"serials": ["GBR-S0"], "end_user": "UA 1 Bde", "reference": "EUC-1"}))
    with ledger.session() as s:
        row = s.get(InvSerial, "GBR-S0")
        assert (row.status, row.custodian, row.end_user, row.end_user_ref) == ("issued", "UKR", "UA 1 Bde", "EUC-1")
        roles = {r for r in s.scalars(select(LedgerSignature.key_id).where(LedgerSignature.batch_id == res.batches[0]))}
        assert roles == {"FRA-k1", "UKR-k1"}


def test_quantities_never_go_negative_and_suspended_lot_cannot_be_issued(ledger: Ledger) -> None:
    shipped(ledger, lot_qty=100)
    at = "UA-LVIV/LV-D1/SH-1"
    with pytest.raises(ConflictError, match="only 100 .* cannot take 101"):
        ledger.append(ev("issue", "FRA", {"lots": [{"lot": "M1-L155", "quantity": 101, "at": at}],
                                          "end_user": "UA 1 Bde", "reference": "E"}))
    # in bulk: two issues of 60 each from 100 — the second sees the first
    with pytest.raises(ConflictError, match="only 40"):
        ledger.append(*[ev("issue", "FRA", {"lots": [{"lot": "M1-L155", "quantity": 60, "at": at}],
                                            "end_user": "UA 1 Bde", "reference": "E"})] * 2)
    ledger.append(ev("suspension", "GBR", {"lot": "M1-L155", "reason": "fuze defect"}))
    with pytest.raises(ConflictError, match="suspended lot cannot be issued"):
        ledger.append(ev("issue", "FRA", {"lots": [{"lot": "M1-L155", "quantity": 1, "at": at}],
                                          "end_user": "UA 1 Bde", "reference": "E"}))
    ledger.append(ev("suspension", "GBR", {"lot": "M1-L155", "suspended": False, "reason": "cleared"}))
    ledger.append(ev("issue", "FRA", {"lots": [{"lot": "M1-L155", "quantity": 100, "at": at}],
                                      "end_user": "UA 1 Bde", "reference": "E"}))
    with ledger.session() as s:
        qty = {(r.status, r.quantity) for r in s.scalars(select(InvLotStock)) if r.quantity}
        assert qty == {("issued", 100)}


def test_receipt_into_storehouse_refused_when_unsafe(ledger: Ledger) -> None:
    # 2,500 rounds x 10 kg = 25,000 kg of HD 1.1 > the 20,000 kg licence of SH-1 in the sample layout
    ledger.append(manifest(lot_qty=2500), ev("dispatch", "GBR", {"manifest": "M1"}))
    receipt = ev("receipt", "FRA", {"manifest": "M1", "location": "UA-LVIV/LV-D1/SH-1",
                                    "serials": [], "lots": [{"lot": "M1-L155", "quantity": 2500}]})
    with pytest.raises(ConflictError, match="refused by the depot safety rules.*20,000"):
        ledger.append(receipt)
    with pytest.raises(ConflictError, match="no layout in the scenario"):
        ledger.append(ev("receipt", "FRA", {"manifest": "M1", "location": "UA-LVIV/NOWHERE/SH-1",
                                            "lots": [{"lot": "M1-L155", "quantity": 1}]}))
    # at depot level (no storehouse) it is refused too: the safety rules apply per storehouse
    depot_level = ev("receipt", "FRA", {"manifest": "M1", "location": "UA-LVIV/LV-D1",
                                        "lots": [{"lot": "M1-L155", "quantity": 2500}]})
    with pytest.raises(ConflictError, match="must name a storehouse"):
        ledger.append(depot_level)
    # recorded without the gate (as a log written before it existed), moving it into SH-1 is checked
    ledger.append(depot_level, safety=False)
    with pytest.raises(ConflictError, match="safety"):
        ledger.append(ev("transfer", "FRA", {"lots": [{"lot": "M1-L155", "quantity": 2500, "at": "UA-LVIV/LV-D1"}],
                                             "to": "UA-LVIV/LV-D1/SH-1"}))
    ledger.append(ev("transfer", "FRA", {"lots": [{"lot": "M1-L155", "quantity": 1500, "at": "UA-LVIV/LV-D1"}],
                                         "to": "UA-LVIV/LV-D1/SH-1"}))
    # prospective = current 1,500 + 600 arriving: over the licence again
    with pytest.raises(ConflictError, match="safety"):
        ledger.append(ev("transfer", "FRA", {"lots": [{"lot": "M1-L155", "quantity": 600, "at": "UA-LVIV/LV-D1"}],
                                             "to": "UA-LVIV/LV-D1/SH-1"}))


def test_unknown_nation_and_bad_payload_are_input_errors(ledger: Ledger) -> None:
    with pytest.raises(InputError, match="has no key in the signed key log"):
        ledger.append(manifest(nation="ITA"))
    with pytest.raises(InputError) as err:
        ev("issue", "FRA", {"serials": ["A", "A"], "end_user": "", "reference": "E"})
    fields = {p.field for p in err.value.problems}
    assert "payload.serials" in fields and "payload.end_user" in fields
    with pytest.raises(InputError, match="did you mean 'receipt'"):
        ev("reciept", "FRA", {})


def test_rebuild_equals_live_projection_and_corrections_replay(ledger: Ledger) -> None:
    shipped(ledger)
    ledger.append(
        ev("transfer", "FRA", {"serials": ["GBR-S0"], "to": "UA-LVIV/LV-D1/SH-2"}),
        ev("issue", "FRA", {"serials": ["GBR-S1"], "end_user": "UA 1 Bde", "reference": "E",
                            "lots": [{"lot": "M1-L155", "quantity": 30, "at": "UA-LVIV/LV-D1/SH-1"}]}),
        ev("loss", "UKR", {"serials": ["GBR-S1"], "kind": "stolen", "occurred_on": "2026-03-01"}),
        ev("count", "POL", {"location": "UA-LVIV/LV-D1", "serials": ["GBR-S0"], "lots": [{"lot": "M1-L155", "quantity": 69}]}),
    )
    with ledger.session() as s:
        live = inv.snapshot(s)
        assert service.rebuild_projection(s) == 7
        assert inv.snapshot(s) == live
    # reverse the transfer (seq 4): GBR-S0 is back in SH-1; a later event that depended on it blocks
    ledger.append(ev("correction", "FRA", {"reverses": 4, "reason": "keyed wrong storehouse"}))
    with ledger.session() as s:
        assert s.get(InvSerial, "GBR-S0").location == "UA-LVIV/LV-D1/SH-1"
        assert verify_log(s, trust=ledger.trust).ok
        live = inv.snapshot(s)
        service.rebuild_projection(s)
        assert inv.snapshot(s) == live
    with pytest.raises(ConflictError, match="replaying the log failed at seq 6"):
        ledger.append(ev("correction", "FRA", {"reverses": 5, "reason": "issue never happened"}))
    with pytest.raises(ConflictError, match="only GBR can reverse"):
        ledger.append(ev("correction", "FRA", {"reverses": 1, "reason": "x"}))
    with pytest.raises(ConflictError, match="already reversed"):
        ledger.append(ev("correction", "FRA", {"reverses": 4, "reason": "again"}))


def test_impossible_times_and_duplicate_lots_are_input_errors() -> None:
    with pytest.raises(InputError, match="time"):
        ev("dispatch", "GBR", {"manifest": "M1"}, time="2026-13-45T10:00:00Z")
    with pytest.raises(InputError, match="lot listed twice"):
        ev("count", "POL", {"location": "UA-LVIV", "lots": [{"lot": "L1", "quantity": 1}, {"lot": "L1", "quantity": 2}]})


def test_payload_text_is_the_canonical_text_of_the_dump() -> None:
    """The append path's payload encoder (serializer and C encoder called directly) gives the
    general encoder's text for every payload type, with floats, unicode, escapes, dicts and the
    fields a wrap serializer drops."""
    from coalition.inventory.schemas import PAYLOADS
    from coalition.ledger.canonical import canonical_text

    samples = {
        "manifest": {"manifest": "M-1", "origin": "GBR-HOME", "destination": "UA-LVIV/LV-D1", "receiver": "FRA",
                     "serials": [{"serial": "S1", "item_type": "RIFLE", "unit_value": 1e-05, "sensitive": True}],
                     "lots": [{"lot": "L1", "item_type": "AMMO", "quantity": 7, "unit_value": 0.1 + 0.2,
                               "neq_kg": 12.5, "hazard": "1.1D"}]},
        "dispatch": {"manifest": "M1", "carrier": 'Mr "Q" \\ \n\t\u2028 é'},
        "receipt": {"manifest": "M1", "location": "UA-LVIV/LV-D1", "serials": ["S2", "S1"],
                    "reasons": {"S9": "not_on_manifest", "S3": "short_shipped"}, "quarantine": ["S1"]},
        "receipt_placed": {"manifest": "M1", "location": "UA-LVIV/LV-D1", "lots": [{"lot": "L1", "quantity": 3}],
                           "placement": [{"lot": "L1", "quantity": 3, "storehouse": "SH-1"}]},
        "transfer": {"serials": ["S1"], "to": "UA-KYIV/D2"},
        "issue": {"lots": [{"lot": "L1", "quantity": 2, "at": "UA-KYIV"}], "end_user": "1 Bde", "reference": "EUC-1"},
        "return": {"serials": ["S1"], "to": "UA-KYIV"},
        "count": {"location": "UA-KYIV", "serials": ["S1"], "title": "GBR", "stocktake": 4},
        "count_unsplit": {"location": "UA-KYIV", "lots": [{"lot": "L1", "quantity": 1}]},
        "loss": {"serials": ["S1"], "kind": "stolen", "occurred_on": "2026-03-01", "note": "ΩΩ"},
        "disposal": {"serials": ["S1"], "kind": "transferred_out", "to": "POL"},
        "suspension": {"lot": "L1", "reason": "recall"},
        "correction": {"reverses": 3, "reason": "typo"},
    }
    for name, raw in samples.items():
        payload = PAYLOADS[name.split("_")[0]].model_validate(raw)
        assert service.payload_text(payload) == canonical_text(payload.model_dump(mode="json")), name
    assert {n.split("_")[0] for n in samples} == set(PAYLOADS)


def test_migration_0007_clusters_tables_on_sqlite_and_keeps_every_row(ledger: Ledger) -> None:
    """Down to ledger_0006 (rowid tables) and up again, on a ledger with shipped stock: the rows,
    the projection and the verify result are unchanged, and on SQLite the four tables are (then
    are not, then are again) WITHOUT ROWID; PostgreSQL is untouched."""
    from sqlalchemy import text

    from coalition.store.db import make_engine
    from coalition.store.migrate import downgrade, upgrade

    shipped(ledger, "M1")
    tables = ("ledger_event_ref", "ledger_node", "inv_manifest", "inv_manifest_line")

    def state() -> tuple[dict[str, list[tuple[object, ...]]], bool]:
        with ledger.session() as s:
            rows = {t: sorted(tuple(r) for r in s.execute(text(f"SELECT * FROM {t}"))) for t in tables}
        return rows, ledger.verify().ok

    def clustered(engine) -> set[str]:  # type: ignore[no-untyped-def]
        if engine.dialect.name != "sqlite":
            return set()
        with engine.connect() as conn:
            return {n for n, sql in conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'table'"))
                    if sql.rstrip().upper().endswith("WITHOUT ROWID")}

    before = state()
    assert before[1] and all(before[0][t] for t in ("ledger_event_ref", "inv_manifest", "inv_manifest_line"))
    engine = make_engine(ledger.url)
    try:
        sqlite = engine.dialect.name == "sqlite"
        assert clustered(engine) == (set(tables) if sqlite else set())
        downgrade(engine, "ledger_0006")
        assert clustered(engine) == set()
        assert state() == before
        ledger.append(manifest("M2", "GBR", 2, 5, prefix="GBR-T"))  # the rowid tables take appends
        upgrade(engine, "ledger_0007")  # ledger_0008 drops ix_ledger_event_ref_seq (tested below)
        assert clustered(engine) == (set(tables) if sqlite else set())
        after = state()
        assert after[1] and all(set(before[0][t]) <= set(after[0][t]) for t in tables)
        with ledger.session() as s:
            indexes = {r[0] for r in s.execute(text(
                "SELECT name FROM sqlite_master WHERE type = 'index'" if sqlite else
                "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"))}
        assert {"ix_ledger_event_ref_seq", "ix_inv_manifest_donor"} <= indexes
    finally:
        engine.dispose()


def test_appended_bodies_are_canonical_for_one_and_several_title_nations(ledger: Ledger) -> None:
    """The append path frames bodies by hand (one-nation chain links inline, the payload through
    payload_text): every stored body is byte for byte the canonical JSON of itself, including an
    event whose chain links two title nations, and the log verifies."""
    import json

    from coalition.ledger.canonical import canonical_json

    shipped(ledger, "M1", "GBR", serials=2, lot_qty=0)
    shipped(ledger, "M2", "DEU", serials=2, lot_qty=0)
    ledger.append(ev("transfer", "FRA", {"serials": ["GBR-S0", "DEU-S1"], "to": "UA-LVIV/LV-D1/SH-2"}))
    with ledger.session() as s:
        bodies = [str(b) for b in s.scalars(select(LedgerEvent.body).order_by(LedgerEvent.seq))]
    chains = [json.loads(b)["chain"] for b in bodies]
    assert sorted(chains[-1]) == ["DEU", "GBR"] and all(len(c) == 1 for c in chains[:-1])
    for body in bodies:
        assert canonical_json(json.loads(body)) == body.encode("utf-8")
    assert ledger.verify().ok


def _indexes(engine) -> set[str]:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    sql = ("SELECT name FROM sqlite_master WHERE type = 'index'" if engine.dialect.name == "sqlite" else
           "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()")
    with engine.connect() as conn:
        return {r[0] for r in conn.execute(text(sql))}


def test_migration_0008_drops_two_indexes_makes_seq_the_rowid_and_keeps_every_row_and_proof(ledger: Ledger) -> None:
    """Down to ledger_0007 and up again, on a ledger with shipped stock and non-contiguous
    batches (GBR and DEU alternating in one call): every event and ref row, the verify result,
    every inclusion proof (into its batch and the tree) and the events' title nations are
    unchanged; at the head ``ix_ledger_event_batch_id`` and ``ix_ledger_event_ref_seq`` are gone
    (the nation and type indexes stay) and on SQLite ``ledger_event.seq`` is the rowid (no
    separate primary-key index); at ledger_0007 all of it is back, and appends work at both."""
    from sqlalchemy import text

    from coalition.ledger.queries import titles
    from coalition.store.db import make_engine
    from coalition.store.migrate import downgrade, upgrade

    shipped(ledger, "M1")
    ledger.append(*[manifest(f"A{i}", "GBR" if i % 2 == 0 else "DEU", 1, 0, prefix=f"X{i}-") for i in range(4)])
    dropped = {"ix_ledger_event_batch_id", "ix_ledger_event_ref_seq"}
    kept = {"ix_ledger_event_nation", "ix_ledger_event_type"}

    def state() -> tuple[object, ...]:
        with ledger.session() as s:
            rows = {t: sorted(tuple(r) for r in s.execute(text(f"SELECT * FROM {t}")))
                    for t in ("ledger_event", "ledger_event_ref")}
            size = service.head(s)[0]
            proofs = [checkpoints.inclusion_proof(s, seq=q).as_dict() for q in range(1, size + 1)]
            refs = {q: {str(r)[2:] for r, q2 in rows["ledger_event_ref"] if q2 == q and str(r).startswith("T:")}
                    for q in range(1, size + 1)}
            assert titles(s, list(range(1, size + 1))) == refs  # the signed chain names the T: refs
        return rows, proofs, ledger.verify().ok

    def rowid_seq(engine) -> bool:  # type: ignore[no-untyped-def]
        with engine.connect() as conn:
            auto = conn.execute(text("SELECT count(*) FROM sqlite_master WHERE type = 'index'"
                                     " AND tbl_name = 'ledger_event' AND name LIKE 'sqlite_autoindex%'")).scalar()
            types = {r[1]: r[2] for r in conn.execute(text("PRAGMA table_info(ledger_event)"))}
            same = conn.execute(text("SELECT count(*) FROM ledger_event WHERE rowid != seq")).scalar()
        return auto == 0 and types["seq"] == "INTEGER" and same == 0

    before = state()
    assert before[2] and any(b["batch_index"] for b in before[1])  # a proof at a place > 0 in its batch
    engine = make_engine(ledger.url)
    try:
        sqlite = engine.dialect.name == "sqlite"
        assert not dropped & _indexes(engine) and kept <= _indexes(engine)
        assert rowid_seq(engine) if sqlite else True
        downgrade(engine, "ledger_0007")
        assert dropped | kept <= _indexes(engine)
        assert not rowid_seq(engine) if sqlite else True
        assert state() == before
        ledger.append(manifest("M2", "GBR", 2, 5, prefix="GBR-T"))
        upgrade(engine)
        assert not dropped & _indexes(engine) and kept <= _indexes(engine)
        assert rowid_seq(engine) if sqlite else True
        after = state()
        in_batch = ("seq", "leaf_hash", "batch_id", "batch_index", "batch_size", "batch_root", "batch_path")
        assert after[2] and len(after[1]) == len(before[1]) + 1
        assert [{k: p[k] for k in in_batch} for p in after[1][: len(before[1])]] == [
            {k: p[k] for k in in_batch} for p in before[1]]  # the tree grew; each batch proof is the same
        assert all(set(before[0][t]) < set(after[0][t]) for t in before[0])
        ledger.append(manifest("M3", "GBR", 1, 0, prefix="GBR-U"))
        assert ledger.verify().ok
    finally:
        engine.dispose()
