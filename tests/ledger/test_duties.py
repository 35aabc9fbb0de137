"""Who may sign what: the consignee signs the receipt, the issuer takes back, the title holder
suspends and lifts, both parties of a handover sign with their own keys — and nobody's
countersignature is made for them."""

from __future__ import annotations

import pytest

from coalition.errors import ConflictError
from coalition.ledger import service
from coalition.ledger.batches import Chain, Collecting, LocalSigner, PreSigned, SignaturesNeeded
from coalition.ledger.keys import KeyRing

from .ledger_helpers import Ledger, ev, manifest, shipped

RECEIPT = {"manifest": "M1", "location": "UA-LVIV/LV-D1/SH-1", "serials": ["GBR-S0", "GBR-S1", "GBR-S2"],
           "lots": [{"lot": "M1-L155", "quantity": 100}]}


def _in_transit(ledger: Ledger) -> None:
    ledger.append(manifest("M1", "GBR", receiver="FRA"), ev("dispatch", "GBR", {"manifest": "M1"}))


def only(ledger: Ledger, *key_ids: str) -> KeyRing:
    """A nation's own workstation: a key ring with only its key(s)."""
    return KeyRing({k: ledger.keyring.signer(k) for k in key_ids})


def test_receipt_signed_by_a_nation_that_is_not_the_receiver_is_refused(ledger: Ledger) -> None:
    _in_transit(ledger)
    with pytest.raises(ConflictError, match="consigned to FRA: only the receiving nation signs its receipt, not POL"):
        ledger.append(ev("receipt", "POL", RECEIPT))
    ledger.append(ev("receipt", "FRA", RECEIPT))  # the consignee may


def test_handover_needs_the_counterparty_own_key_not_the_actors(ledger: Ledger) -> None:
    _in_transit(ledger)
    fra = only(ledger, "FRA-k1")

    class SignsEverythingAsFra:
        def sign(self, need):  # type: ignore[no-untyped-def]
            return fra.sign("FRA-k1", need.statement)

    with pytest.raises(ConflictError, match="counterparty signature for GBR's batch does not verify with GBR's key"):
        ledger.append(ev("receipt", "FRA", RECEIPT), signer=SignsEverythingAsFra())
    with pytest.raises(SignaturesNeeded, match=r"GBR \(counterparty, key GBR-k1\)"):
        ledger.append(ev("receipt", "FRA", RECEIPT), signer=LocalSigner(fra, countersign=True))


def test_pre_signed_handover_each_party_signing_on_its_own_machine(ledger: Ledger) -> None:
    _in_transit(ledger)
    receipt = ev("receipt", "FRA", RECEIPT)
    with pytest.raises(SignaturesNeeded) as prep:
        ledger.append(receipt, signer=Collecting())  # the "prepare" step: nothing is written
    needed = prep.value.needed
    assert {(n.role, n.nation) for n in needed} == {("actor", "FRA"), ("counterparty", "GBR")}
    sigs = []
    for n in needed:  # FRA's and GBR's workstations each sign only their own statement
        ring = only(ledger, n.key_id)
        d = n.as_dict()
        sigs.append({"statement_sha256": d["statement_sha256"], "role": n.role, "key_id": n.key_id,
                     "signature": ring.sign(n.key_id, n.statement).hex(), "time": d["time"]})
    res = ledger.append(receipt, signer=PreSigned(sigs))
    assert res.count == 1
    assert ledger.verify().ok
    # a signature for a stale statement (the log moved on) is not accepted for the next position
    ledger.append(manifest("M2", "GBR", 1, 0, prefix="GBR-T"), ev("dispatch", "GBR", {"manifest": "M2"}))
    with pytest.raises(SignaturesNeeded):
        ledger.append(ev("receipt", "FRA", {"manifest": "M2", "location": "UA-LVIV/LV-D1/SH-1",
                                            "serials": ["GBR-T0"]}), signer=Chain([PreSigned(sigs), LocalSigner(only(ledger, "FRA-k1"))]))


def test_only_the_issuer_or_title_holder_takes_back_an_issued_serial(ledger: Ledger) -> None:
    shipped(ledger)
    ledger.append(ev("issue", "FRA", {"serials": ["GBR-S0"], "end_user": "UA 1 Bde", "reference": "E1"}))
    with pytest.raises(ConflictError, match="issued by FRA .* only they can take it back, not DEU"):
        ledger.append(ev("return", "DEU", {"serials": ["GBR-S0"], "to": "UA-LVIV/LV-D1/SH-1", "from_nation": "UKR"}))
    ledger.append(ev("return", "FRA", {"serials": ["GBR-S0"], "to": "UA-LVIV/LV-D1/SH-1", "from_nation": "UKR"}))


def test_only_the_title_holder_suspends_and_lifts(ledger: Ledger) -> None:
    shipped(ledger)
    ledger.append(ev("suspension", "GBR", {"lot": "M1-L155", "reason": "fuze defect"}))
    with pytest.raises(ConflictError, match="title holder GBR only, not FRA"):
        ledger.append(ev("suspension", "FRA", {"lot": "M1-L155", "suspended": False, "reason": "looks fine"}))
    with pytest.raises(ConflictError, match="title holder GBR only, not FRA"):
        ledger.append(ev("suspension", "FRA", {"lot": "M1-L155", "reason": "holder"}))
    ledger.append(ev("suspension", "GBR", {"lot": "M1-L155", "suspended": False, "reason": "cleared"}))


def test_custodian_alone_dispatches_and_issues(ledger: Ledger) -> None:
    ledger.append(manifest("M1", "GBR"))
    with pytest.raises(ConflictError, match="custod"):
        ledger.append(ev("dispatch", "FRA", {"manifest": "M1"}))
    shipped(ledger, name="M2", nation="DEU", serials=1, lot_qty=0)
    with pytest.raises(ConflictError, match="custod"):
        ledger.append(ev("issue", "DEU", {"serials": ["DEU-S0"], "end_user": "UA 1 Bde", "reference": "E"}))
    with ledger.session() as s:
        assert service.head(s)[0] == 4
