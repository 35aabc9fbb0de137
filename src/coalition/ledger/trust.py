"""Pinned trust roots and the signed key log (stdlib + ``cryptography`` only; pure).

A nation's public key is never taken from a database row. It enters the ledger only as a signed
**key event** in the key log, a hash chain of its own (``ledger_key_event``; ``keylog.jsonl`` in a
bundle):

- ``register``: the nation's first key (or a new one after a revocation), countersigned by
  ``root_quorum`` of the coalition's pinned root keys, and signed by the new key itself (proof of
  possession);
- ``rotate``: a new key, signed by the nation's current key (``old``) and by the new key;
- ``revoke``: signed by the key itself or by a root quorum.

Each key event records ``log_size``, the size of the custody log when it was appended. A key
registered at log size L may sign batches whose first event comes after L; a rotation or
revocation at L ends the old key for batches after L. Every signed batch statement commits to the
key log as it stood (``keys`` size and ``keys_head`` hash), so a key log truncated or rewritten
after the fact contradicts statements the nations signed.

The **trust file** (``ledger trust export``; ``verify --trust``; ``coalition-verify --trust``) pins
the root keys, the log's checkpoint key (a C2SP verifier key), the witnesses' cosignature keys and
the witness quorum. Everything else must chain to it. A nation may also pin its own key
(``nations``): its key events must then name exactly that key.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from coalition.errors import CoalitionError
from coalition.ledger.notes import SIG_COSIGNATURE_V1, SIG_ED25519, NoteError, Verifier, parse_vkey

TRUST_FORMAT = "coalition-ledger-trust/1"
KEY_EVENT_KIND = "coalition-ledger/key-event/v1"
KEY_GENESIS = bytes(32)
ACTIONS = ("register", "rotate", "revoke")
_CANON = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


class TrustError(CoalitionError, ValueError):
    """An unreadable or malformed trust file (names the file and the field)."""


def _ok(public_key: bytes, signature: bytes, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
        return True
    except (InvalidSignature, ValueError):
        return False


@dataclass(frozen=True)
class Trust:
    """The pinned trust of a custody log: its origin and log key, the root keys and their
    quorum, the witnesses and their quorum, and optionally the nations' keys."""

    origin: str  # the log's checkpoint origin (and its note key name)
    log_key: Verifier  # Ed25519 note key of the log operator (type 0x01)
    roots: dict[str, bytes]  # root key id -> Ed25519 public key
    root_quorum: int = 1
    witnesses: tuple[Verifier, ...] = ()  # cosignature keys (type 0x04)
    witness_quorum: int = 0
    nations: dict[str, frozenset[bytes]] = field(default_factory=dict)  # optional pinned nation keys

    def __hash__(self) -> int:  # the dict fields are never mutated; hash their content
        return hash(
            (
                self.origin,
                self.log_key,
                tuple(sorted(self.roots.items())),
                self.root_quorum,
                self.witnesses,
                self.witness_quorum,
                tuple(sorted(self.nations.items())),
            )
        )

    def to_json(self) -> str:
        return (
            json.dumps(
                {
                    "format": TRUST_FORMAT,
                    "origin": self.origin,
                    "log": self.log_key.vkey(),
                    "roots": [{"key_id": k, "public_key": v.hex()} for k, v in sorted(self.roots.items())],
                    "root_quorum": self.root_quorum,
                    "witnesses": [w.vkey() for w in self.witnesses],
                    "witness_quorum": self.witness_quorum,
                    "nations": {n: sorted(k.hex() for k in ks) for n, ks in sorted(self.nations.items())},
                    "note": "pinned trust roots of the custody ledger; obtain this file out of band",
                },
                indent=1,
            )
            + "\n"
        )


def parse_trust(text: str, *, source: str = "trust file") -> Trust:
    try:
        d = json.loads(text)
    except ValueError as exc:
        raise TrustError(f"{source}: not JSON ({exc})") from None
    if not isinstance(d, dict) or d.get("format") != TRUST_FORMAT:
        raise TrustError(f"{source}: field 'format' must be {TRUST_FORMAT!r}")
    try:
        log_key = parse_vkey(d["log"])
        if log_key.sig_type != SIG_ED25519:
            raise TrustError(f"{source}: field 'log' must be an Ed25519 note key (type 0x01)")
        roots = {}
        for i, r in enumerate(d.get("roots", [])):
            pk = bytes.fromhex(r["public_key"])
            if len(pk) != 32:
                raise TrustError(f"{source}: roots[{i}].public_key must be 32 bytes of hex")
            roots[str(r["key_id"])] = pk
        witnesses = tuple(parse_vkey(w) for w in d.get("witnesses", []))
        if any(w.sig_type != SIG_COSIGNATURE_V1 for w in witnesses):
            raise TrustError(f"{source}: field 'witnesses' holds cosignature keys (type 0x04)")
        nations = {str(n): frozenset(bytes.fromhex(k) for k in ks) for n, ks in d.get("nations", {}).items()}
        rq, wq = int(d.get("root_quorum", 1)), int(d.get("witness_quorum", 0))
        origin = str(d["origin"])
    except KeyError as exc:
        raise TrustError(f"{source}: missing field {exc}") from None
    except NoteError as exc:
        raise TrustError(f"{source}: {exc}") from None
    except (TypeError, ValueError, AttributeError) as exc:
        raise TrustError(f"{source}: malformed ({exc})") from None
    if rq < 1 or (roots and rq > len(roots)):
        raise TrustError(f"{source}: field 'root_quorum' must be 1..{max(1, len(roots))}")
    if wq < 0 or wq > len(witnesses):
        raise TrustError(
            f"{source}: field 'witness_quorum' {wq} needs at least that many witnesses (has {len(witnesses)})"
        )
    if not roots and not nations:
        raise TrustError(f"{source}: pins neither root keys nor a nation key")
    return Trust(origin, log_key, roots, rq, witnesses, wq, nations)


def load_trust(path: Path) -> Trust:
    try:
        text = Path(path).read_text("utf-8")
    except FileNotFoundError:
        raise TrustError(
            f"{path}: trust file not found (write one with 'coalition ledger trust export FILE')"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TrustError(f"{path}: cannot read ({exc})") from None
    return parse_trust(text, source=str(path))


# --------------------------------------------------------------------------------------------
# Key events
# --------------------------------------------------------------------------------------------
#: one signature on a key event, as stored or bundled: ``{"role", "key_id", "signature"}``. Its
#: values are unchecked JSON: every use checks the type it needs.
KeySignature = Mapping[str, object]


def signature_list(value: object) -> list[KeySignature]:
    """The JSON objects of a stored or bundled list of signatures; anything else signs nothing."""
    return [x for x in value if isinstance(x, dict)] if isinstance(value, list) else []


@dataclass(frozen=True)
class KeyEvent:
    """The signed fields of one key event (``key_event_body`` is their canonical JSON)."""

    n: int
    prev: bytes
    action: str
    key_id: str
    nation: str
    public_key: bytes
    replaces: str | None
    log_size: int
    time: str


def _key_event_json(fields: Mapping[str, object]) -> bytes:
    return _CANON.encode({"kind": KEY_EVENT_KIND, **fields}).encode("utf-8")


def key_event_body(event: KeyEvent) -> bytes:
    return _key_event_json(
        {
            "n": event.n,
            "prev": event.prev.hex(),
            "action": event.action,
            "key_id": event.key_id,
            "nation": event.nation,
            "public_key": event.public_key.hex(),
            "replaces": event.replaces,
            "log_size": event.log_size,
            "time": event.time,
        }
    )


def key_event_hash(body: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + body).digest()


@dataclass(frozen=True)
class _Claim:
    """A key event's fields as its (canonical) body states them. ``action`` and ``replaces`` are
    any JSON value a canonical body can hold: the replay judges them."""

    n: int
    prev: bytes
    action: object
    key_id: str
    nation: str
    public_key: bytes
    replaces: object
    log_size: int


def _parse_key_event(body: bytes) -> _Claim:
    """The claim of a key event body; ValueError, KeyError or TypeError if it is not one in
    canonical form."""
    ev = json.loads(body)
    if not isinstance(ev, dict) or ev.get("kind") != KEY_EVENT_KIND:
        raise ValueError("not a key event")
    action, kid, nation = ev["action"], str(ev["key_id"]), str(ev["nation"])
    pub = bytes.fromhex(ev["public_key"])
    log_size, time, replaces = int(ev["log_size"]), str(ev["time"]), ev.get("replaces")
    prev = bytes.fromhex(ev["prev"])
    n = int(ev["n"])
    if body != _key_event_json(
        {
            "n": n,
            "prev": prev.hex(),
            "action": action,
            "key_id": kid,
            "nation": nation,
            "public_key": pub.hex(),
            "replaces": replaces,
            "log_size": log_size,
            "time": time,
        }
    ):
        raise ValueError("not in canonical form")
    return _Claim(n, prev, action, kid, nation, pub, replaces, log_size)


class _Signed:
    """The signatures of one key event body, grouped by role."""

    def __init__(self, body: bytes, signatures: Sequence[KeySignature], trust: Trust) -> None:
        self.body = body
        self.trust = trust
        self.by_role: dict[str, list[KeySignature]] = {}
        for s in signatures:
            self.by_role.setdefault(str(s.get("role")), []).append(s)

    def by(self, role: str, key: bytes, key_id: str) -> bool:
        """A valid signature in ``role`` by ``key`` under the id ``key_id``."""
        return any(s.get("key_id") == key_id and _sig_ok(key, s, self.body) for s in self.by_role.get(role, []))

    def root_quorum(self) -> bool:
        """Valid signatures by at least ``root_quorum`` distinct pinned root keys."""
        roots = self.trust.roots
        good = {
            kid
            for s in self.by_role.get("root", [])
            if isinstance(kid := s.get("key_id"), str) and kid in roots and _sig_ok(roots[kid], s, self.body)
        }
        return bool(roots) and len(good) >= self.trust.root_quorum


@dataclass
class KeyState:
    key_id: str
    nation: str
    public_key: bytes
    after: int  # may sign batches whose first seq is > after
    until: int | None = None  # ... and <= until (set by rotation / revocation)


@dataclass
class KeyLog:
    """Replays key events under a trust file; collects problems instead of raising."""

    trust: Trust
    keys: dict[str, KeyState] = field(default_factory=dict)
    active: dict[str, str] = field(default_factory=dict)  # nation -> current key id
    heads: list[bytes] = field(default_factory=lambda: [KEY_GENESIS])  # head after n events
    log_sizes: list[int] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)  # (key event n, message)

    @property
    def size(self) -> int:
        return len(self.log_sizes)

    @property
    def head(self) -> bytes:
        return self.heads[-1]

    def add(self, body: bytes, signatures: Sequence[KeySignature]) -> bool:
        n = self.size + 1
        before = len(self.problems)
        try:
            ev = _parse_key_event(body)
        except (ValueError, KeyError, TypeError) as exc:
            self.problems.append((n, f"key event {n} is malformed ({exc})"))
            self._advance(body, self.log_sizes[-1] if self.log_sizes else 0)
            return False
        self._check_place(n, ev)
        signed = _Signed(body, signatures, self.trust)
        self._check_new_key(n, ev, signed)
        current = self.active.get(ev.nation)
        replaced = self._check_action(n, ev, signed, current)
        good = len(self.problems) == before
        if good:
            self._apply(ev, replaced)
        self._advance(body, ev.log_size)
        return good

    def _check_place(self, n: int, ev: _Claim) -> None:
        """The event's number, its link to the previous event, and its log size."""
        if ev.n != n:
            self.problems.append((n, f"key event {n} says it is number {ev.n}"))
        if ev.prev != self.head:
            self.problems.append((n, f"key event {n} does not link to key event {n - 1}"))
        if self.log_sizes and ev.log_size < self.log_sizes[-1]:
            self.problems.append((n, f"key event {n} goes back in the log (log size {ev.log_size})"))

    def _check_new_key(self, n: int, ev: _Claim, signed: _Signed) -> None:
        """A registered or rotated-in key: the pinned one if any, signed by itself, a fresh id."""
        if ev.action not in ("register", "rotate"):
            return
        kid, nation, pub = ev.key_id, ev.nation, ev.public_key
        pinned = self.trust.nations.get(nation)
        if pinned is not None and pub not in pinned:
            self.problems.append((n, f"key {kid} is not the key {nation} pinned in the trust file"))
        if not signed.by("self", pub, kid):
            self.problems.append((n, f"key event {n}: no valid signature by the new key {kid} itself"))
        if kid in self.keys:
            self.problems.append((n, f"key event {n}: key id {kid} was already used"))

    def _check_action(self, n: int, ev: _Claim, signed: _Signed, current: str | None) -> KeyState | None:
        """The authority for the action; returns the key a valid rotation replaces."""
        kid, nation = ev.key_id, ev.nation
        if ev.action == "register":
            pinned = self.trust.nations.get(nation)
            if current is not None:
                self.problems.append((n, f"key event {n}: {nation} already has key {current}; rotate it instead"))
            if not signed.root_quorum() and not (pinned is not None and ev.public_key in pinned):
                self.problems.append(
                    (
                        n,
                        f"key event {n}: registration of {kid} is not countersigned by"
                        f" {self.trust.root_quorum} pinned root key(s)",
                    )
                )
        elif ev.action == "rotate":
            old = self.keys.get(current) if current else None
            if old is None or ev.replaces != current:
                self.problems.append((n, f"key event {n}: rotation must replace {nation}'s current key {current}"))
            elif not signed.by("old", old.public_key, old.key_id):
                self.problems.append((n, f"key event {n}: rotation to {kid} is not signed by the old key {current}"))
            return old
        elif ev.action == "revoke":
            old = self.keys.get(kid)
            if old is None or self.active.get(nation) != kid:
                self.problems.append((n, f"key event {n}: {kid} is not an active key of {nation}"))
            elif not (signed.by("old", old.public_key, old.key_id) or signed.root_quorum()):
                self.problems.append(
                    (n, f"key event {n}: revocation of {kid} is signed neither by it nor by the roots")
                )
        else:
            self.problems.append((n, f"key event {n}: unknown action {ev.action!r}"))
        return None

    def _apply(self, ev: _Claim, replaced: KeyState | None) -> None:
        """Apply an event that replayed without a problem."""
        kid, nation, log_size = ev.key_id, ev.nation, ev.log_size
        if ev.action == "register":
            self.keys[kid] = KeyState(kid, nation, ev.public_key, log_size)
            self.active[nation] = kid
        elif ev.action == "rotate":
            if replaced is None:  # a rotation is valid only with the current key it replaces
                raise AssertionError(f"rotation to {kid} without the key it replaces")
            replaced.until = log_size
            self.keys[kid] = KeyState(kid, nation, ev.public_key, log_size)
            self.active[nation] = kid
        else:
            self.keys[kid].until = log_size
            del self.active[nation]

    def _advance(self, body: bytes, log_size: int) -> None:
        self.heads.append(key_event_hash(body))
        self.log_sizes.append(log_size)

    def expected_keys_size(self, first_seq: int) -> int:
        """How many key events a batch starting at ``first_seq`` must commit to."""
        return sum(1 for s in self.log_sizes if s < first_seq)

    def batch_key(self, key_id: str, nation: str, first_seq: int) -> tuple[bytes | None, str]:
        """The public key ``key_id`` if it is ``nation``'s and valid for a batch at ``first_seq``."""
        k = self.keys.get(key_id)
        if k is None:
            return None, f"key {key_id} does not chain to the trust file (no valid key event registers it)"
        if k.nation != nation:
            return None, f"key {key_id} is {k.nation}'s, not {nation}'s"
        if first_seq <= k.after:
            return None, f"key {key_id} was registered after this batch (log size {k.after})"
        if k.until is not None and first_seq > k.until:
            return None, f"key {key_id} was rotated or revoked at log size {k.until}"
        return k.public_key, ""

    def current_key(self, nation: str) -> KeyState | None:
        kid = self.active.get(nation)
        return self.keys.get(kid) if kid else None


def strict_hex(value: object) -> bytes:
    """Lower-case hex only (one spelling per value: a bundle is parsed strictly)."""
    if not isinstance(value, str) or value != value.lower():
        raise ValueError("expected lower-case hex")
    return bytes.fromhex(value)


def _sig_ok(public_key: bytes, sig: KeySignature, message: bytes) -> bool:
    try:
        return _ok(public_key, strict_hex(sig.get("signature", "")), message)
    except ValueError:
        return False


def replay(trust: Trust, events: Iterable[tuple[bytes, Sequence[KeySignature]]]) -> KeyLog:
    log = KeyLog(trust)
    for body, sigs in events:
        log.add(body, sigs)
    return log
