"""Who signs a batch: keys on this machine, signatures sent with the request, or nobody yet.

``append_events`` computes every batch statement (its bytes depend on the log position, so a
statement is a reservation of that position) and asks a *batch signer* for the signature of each
party: the actor, and for a handover the counterparty. The signature is then checked against the
key the signed key log says the party holds; a wrong key or a stale statement refuses the append.

- :class:`LocalSigner` signs with a key ring (a nation's own workstation; the demo key store). It
  signs only for the acting nation unless ``countersign=True`` (demo only): a counterparty signs
  with its own key, on its own machine.
- :class:`PreSigned` returns signatures the parties made elsewhere (``coalition sign``), matched
  by the SHA-256 of the statement they signed.
- :class:`Collecting` signs nothing: the append raises :class:`SignaturesNeeded` listing every
  statement to sign (the caller rolls the transaction back), which is the "prepare" step.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from coalition.errors import ConflictError
from coalition.ledger.keys import KeyRing


@dataclass(frozen=True)
class Needed:
    batch: int  # index of the batch within the append
    role: str  # "actor" | "counterparty"
    nation: str
    key_id: str
    statement: bytes
    time: str = ""  # the commit time the statement signs (a prepared batch is committed with it)

    def as_dict(self) -> dict[str, object]:
        return {
            "batch": self.batch,
            "role": self.role,
            "nation": self.nation,
            "key_id": self.key_id,
            "statement": self.statement.decode("utf-8"),
            "time": self.time,
            "statement_sha256": hashlib.sha256(self.statement).hexdigest(),
        }


class SignaturesNeeded(ConflictError):
    """Raised by an append that lacks signatures; ``needed`` lists what each party must sign."""

    def __init__(self, needed: list[Needed]) -> None:
        self.needed = needed
        who = sorted({f"{n.nation} ({n.role}, key {n.key_id})" for n in needed})
        super().__init__(
            "signatures needed from "
            + ", ".join(who)
            + ": each party signs its statements with 'coalition sign' and the batch is"
            " submitted with them"
        )


class BatchSigner(Protocol):
    def sign(self, need: Needed) -> bytes | None: ...


def commit_time(signer: object) -> str | None:
    """The commit time pre-signed statements were prepared with (they sign it), if any."""
    return getattr(signer, "commit_time", None)


@dataclass
class LocalSigner:
    keyring: KeyRing
    countersign: bool = False  # also sign counterparty roles with local keys (demo key store only)

    def sign(self, need: Needed) -> bytes | None:
        if need.role != "actor" and not self.countersign:
            return None
        if not self.keyring.has(need.key_id):
            return None
        return self.keyring.sign(need.key_id, need.statement)

    def holds(self, key_id: str, public_key: bytes) -> bool:
        """Does this signer's key ``key_id`` have exactly ``public_key``? Then its Ed25519
        signature is right by construction and need not be verified again (half the cost of a
        one-event batch); any other signer's signatures are verified."""
        return self.keyring.has(key_id) and self.keyring.public(key_id) == public_key


@dataclass
class NationSigner:
    """Signs with one nation's key only, in every role that nation plays: the actor, and the
    counterparty of a handover whose other party is the same nation (e.g. a nation receiving
    its own consignment). Never signs for another nation."""

    keyring: KeyRing
    nation: str

    def sign(self, need: Needed) -> bytes | None:
        if need.nation != self.nation or not self.keyring.has(need.key_id):
            return None
        return self.keyring.sign(need.key_id, need.statement)

    def holds(self, key_id: str, public_key: bytes) -> bool:
        return self.keyring.has(key_id) and self.keyring.public(key_id) == public_key


@dataclass
class PreSigned:
    """Signatures as sent by the parties: ``{statement_sha256, role, key_id, signature}``."""

    signatures: Sequence[Mapping[str, object]]
    _by: dict[tuple[str, str, str], bytes] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        times: set[str] = set()
        for s in self.signatures:
            sig = s["signature"]
            if not isinstance(sig, str):  # what bytes.fromhex would refuse
                raise TypeError(f"signature must be hex text, not {type(sig).__name__}")
            self._by[(str(s["statement_sha256"]), str(s["role"]), str(s["key_id"]))] = bytes.fromhex(sig)
            if s.get("time"):
                times.add(str(s["time"]))
        if len(times) > 1:
            raise ConflictError(
                f"signatures from different preparations ({', '.join(sorted(times))}): prepare once,"
                " and have every party sign that one set of statements"
            )
        self.commit_time = times.pop() if times else None

    def sign(self, need: Needed) -> bytes | None:
        return self._by.get((hashlib.sha256(need.statement).hexdigest(), need.role, need.key_id))


@dataclass
class Chain:
    """Try several batch signers in turn (e.g. pre-signed counterparty + the actor's local key)."""

    signers: list[BatchSigner]

    @property
    def commit_time(self) -> str | None:
        return next((t for t in map(commit_time, self.signers) if t), None)

    def sign(self, need: Needed) -> bytes | None:
        for s in self.signers:
            sig = s.sign(need)
            if sig is not None:
                return sig
        return None


class Collecting:
    def sign(self, need: Needed) -> bytes | None:
        return None
