"""Helpers for ledger tests: build and append custody events."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from coalition.inventory.safety import depot_safety
from coalition.ledger import service
from coalition.ledger.batches import BatchSigner, LocalSigner
from coalition.ledger.keys import KeyRing
from coalition.ledger.trust import Trust
from coalition.ledger.sample import ledger_network
from coalition.ledger.schemas import AppendResult, Submitted, parse_event
from coalition.store.db import transaction

NATIONS = ["GBR", "FRA", "DEU", "POL", "UKR"]
_KEYS: dict[str, KeyRing] = {}


def ev(type: str, nation: str, payload: dict, time: str = "2026-03-01T10:00:00Z", person: str = "tester") -> Submitted:
    return parse_event({"type": type, "nation": nation, "person": person, "time": time, "payload": payload})


@dataclass
class Ledger:
    url: str
    factory: sessionmaker[Session]
    keyring: KeyRing
    keys_dir: Path
    trust: Trust

    @property
    def signer(self) -> LocalSigner:
        """The demo key store signing for both parties (each with its own key)."""
        return LocalSigner(self.keyring, countersign=True)

    def append(self, *events: Submitted, safety: bool = True, signer: BatchSigner | None = None) -> AppendResult:
        with transaction(self.factory) as s:
            check = depot_safety(s, ledger_network(None)) if safety else None
            return service.append_events(s, events=list(events), signer=signer or self.signer,
                                         trust=self.trust, safety=check)

    def verify(self, **kw):  # type: ignore[no-untyped-def]
        from coalition.ledger.verify import verify_log

        with transaction(self.factory) as s:
            return verify_log(s, trust=self.trust, **kw)

    def session(self):  # type: ignore[no-untyped-def]
        return transaction(self.factory)


def manifest(name: str = "M1", nation: str = "GBR", serials: int = 3, lot_qty: int = 100,
             dest: str = "UA-LVIV/LV-D1/SH-1", prefix: str | None = None, receiver: str = "FRA") -> Submitted:
    p = prefix or f"{nation}-S"
    payload: dict = {"manifest": name, "origin": f"{nation}-HOME", "destination": dest, "receiver": receiver,
                     "serials": [{"serial": f"{p}{i}", "item_type": "ATGM-LAUNCHER", "unit_value": 1000,
                                  "sensitive": True} for i in range(serials)]}
    if lot_qty:
        payload["lots"] = [{"lot": f"{name}-L155", "item_type": "155-HE", "quantity": lot_qty,
                            "neq_kg": 10.0, "hazard": "1.1D", "unit_value": 3000}]
    return ev("manifest", nation, payload)


def shipped(ledger: Ledger, name: str = "M1", nation: str = "GBR", serials: int = 3, lot_qty: int = 100,
            receiver: str = "FRA") -> None:
    """Manifest, dispatch and full receipt into LV-D1/SH-1."""
    p = f"{nation}-S"
    ledger.append(
        manifest(name, nation, serials, lot_qty, receiver=receiver),
        ev("dispatch", nation, {"manifest": name}),
        ev("receipt", receiver, {"manifest": name, "location": "UA-LVIV/LV-D1/SH-1",
                                 "serials": [f"{p}{i}" for i in range(serials)],
                                 "lots": [{"lot": f"{name}-L155", "quantity": lot_qty}] if lot_qty else []},
           time="2026-03-05T10:00:00Z"),
    )
