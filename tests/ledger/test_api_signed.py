"""Pre-signed batches through the API: prepare, each nation signs on its own machine, submit."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from coalition.ledger.keys import DEMO_PASSPHRASE
from coalition.ledger.signers import load_encrypted_key


@pytest.fixture
def svc(db_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    from api.harness import build_service

    return build_service(db_url, tmp_path / "data")


def _sign(data: Path, statements: list[dict], key_id: str) -> list[dict]:
    key = load_encrypted_key(data / "keys" / f"{key_id}.pem", DEMO_PASSPHRASE.encode())  # this nation's own key
    return [{"statement_sha256": st["statement_sha256"], "role": st["role"], "key_id": key_id, "time": st["time"],
             "signature": key.sign(st["statement"].encode()).hex()} for st in statements if st["key_id"] == key_id]


def test_receipt_needs_the_dispatchers_own_signature_through_the_api(svc, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "data"
    gbr, fra = svc.client("gbr-depot"), svc.client("fra-depot")
    ship = {"events": [
        {"type": "manifest", "payload": {"manifest": "API-M1", "origin": "GBR-HOME", "destination": "UA-LVIV/LV-D1/SH-1",
                                         "receiver": "FRA", "serials": [{"serial": "GBR-API-1", "item_type": "ATGM-LAUNCHER"}]}},
        {"type": "dispatch", "payload": {"manifest": "API-M1"}}]}
    assert gbr.post("/api/custody-events", json=ship).status_code == 201
    receipt = {"events": [{"type": "receipt", "payload": {"manifest": "API-M1", "location": "UA-LVIV/LV-D1/SH-1",
                                                          "serials": ["GBR-API-1"]}}]}
    r = fra.post("/api/custody-events", json=receipt)  # the server will not countersign for GBR
    assert r.status_code == 409 and "GBR" in r.text
    prep = fra.post("/api/custody-events/prepare", json=receipt)
    assert prep.status_code == 200, prep.text
    statements = prep.json()["statements"]
    assert {(s["role"], s["nation"]) for s in statements} == {("actor", "FRA"), ("counterparty", "GBR")}
    assert all(hashlib.sha256(s["statement"].encode()).hexdigest() == s["statement_sha256"] for s in statements)
    only_fra = _sign(data, statements, "FRA-k1")
    r = fra.post("/api/custody-events/signed", json={**receipt, "signatures": only_fra})
    assert r.status_code == 409
    both = only_fra + _sign(data, statements, "GBR-k1")
    r = fra.post("/api/custody-events/signed", json={**receipt, "signatures": both})
    assert r.status_code == 201, r.text
    health = svc.client("hq-inspector").get("/api/ledger/health").json()
    assert health["verified"], health


def test_a_presigned_count_is_split_the_same_at_prepare_and_submit(svc, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The split is deterministic: the statements prepared for a count (all its per-nation parts,
    one batch) are the ones the submission recomputes, so the pre-signed count is accepted."""
    data = tmp_path / "data"
    gbr, pol = svc.client("gbr-depot"), svc.client("fra-depot")  # France counts what Britain holds
    for nation, client in (("GBR", gbr),):
        ship = {"events": [
            {"type": "manifest", "payload": {"manifest": f"API-{nation}", "origin": "HOME", "receiver": nation,
                                             "destination": "GBR-FWD/STORE-1",
                                             "serials": [{"serial": f"{nation}-API-1", "item_type": "ATGM-LAUNCHER"}]}},
            {"type": "dispatch", "payload": {"manifest": f"API-{nation}"}},
            {"type": "receipt", "payload": {"manifest": f"API-{nation}", "location": "GBR-FWD/STORE-1",
                                            "serials": [f"{nation}-API-1"]}}]}
        assert client.post("/api/custody-events", json=ship).status_code == 201
    size = svc.client("hq-inspector").get("/api/ledger/health").json()["events"]
    count = {"events": [{"type": "count", "payload": {"location": "GBR-FWD/STORE-1",
                                                      "serials": ["GBR-API-1", "NOT-RECORDED-1"]}}]}
    prep = pol.post("/api/custody-events/prepare", json=count)
    assert prep.status_code == 200, prep.text
    sigs = _sign(data, prep.json()["statements"], "FRA-k1")
    assert sigs
    r = pol.post("/api/custody-events/signed", json={**count, "signatures": sigs})
    assert r.status_code == 201, r.text
    health = svc.client("hq-inspector").get("/api/ledger/health").json()
    assert health["events"] > size + 1 and health["verified"], health  # split into parts, and verified
