"""The key log in the database: appending signed key events and replaying them under trust.

Key events are history (INSERT only). ``ledger_key`` is refreshed as a cache of what the replay
says; nothing reads it as an authority. See :mod:`coalition.ledger.trust` for the rules.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from coalition.errors import ConflictError, InputError, IntegrityError, Problem
from coalition.ledger.keys import OPERATOR_KEY_ID, ROOT_KEY_ID, KeyRing, kind_of, utc_now
from coalition.ledger.models import LedgerHead, LedgerKey, LedgerKeyEvent
from coalition.ledger.notes import SIG_COSIGNATURE_V1, SIG_ED25519, Verifier
from coalition.ledger.trust import (
    KEY_GENESIS,
    KeyEvent,
    KeyLog,
    KeySignature,
    Trust,
    key_event_body,
    key_event_hash,
    replay,
    signature_list,
)
from coalition.store.db import table_of

DEFAULT_ORIGIN = "coalition.example/custody-ledger"


def trust_from_keyring(
    keyring: KeyRing, *, origin: str = DEFAULT_ORIGIN, witnesses: tuple[Verifier, ...] = (), witness_quorum: int = 0
) -> Trust:
    """The trust file a root-key holder writes: its root key(s) and the log operator's key."""
    roots = {k.key_id: k.public_key for k in keyring.public_keys() if k.kind == "root"}
    if not roots:
        raise InputError([Problem("no coalition root key in this key store", hint="run 'coalition ledger init'")])
    log = Verifier(origin, SIG_ED25519, keyring.public(OPERATOR_KEY_ID))
    for w in witnesses:
        if w.sig_type != SIG_COSIGNATURE_V1:
            raise InputError([Problem(f"witness key {w.name} is not a cosignature key (type 0x04)")])
    return Trust(origin, log, roots, 1, tuple(witnesses), witness_quorum)


def _rows(session: Session) -> list[tuple[bytes, list[KeySignature]]]:
    return [
        (b.encode("utf-8"), signature_list(json.loads(sigs)))
        for b, sigs in session.execute(
            select(LedgerKeyEvent.body, LedgerKeyEvent.signatures).order_by(LedgerKeyEvent.n)
        )
    ]


@lru_cache(maxsize=32)
def _replay_cached(trust: Trust, events: tuple[tuple[bytes, str], ...]) -> KeyLog:
    log = KeyLog(trust)
    for body, sigs in events:
        log.add(body, signature_list(json.loads(sigs)))
    return log


def key_log(session: Session, trust: Trust) -> KeyLog:
    """Replay the stored key log under ``trust`` (cached by content: the result is pure)."""
    rows = tuple(
        (b.encode("utf-8"), s)
        for b, s in session.execute(select(LedgerKeyEvent.body, LedgerKeyEvent.signatures).order_by(LedgerKeyEvent.n))
    )
    return _replay_cached(trust, rows)


@dataclass(frozen=True)
class KeyChange:
    """What one key event does: ``register`` a nation's key, ``rotate`` to it (``replaces`` names
    the nation's current key) or ``revoke`` it."""

    action: str
    key_id: str
    nation: str
    public_key: bytes
    replaces: str | None = None


def append_key_event(
    session: Session,
    change: KeyChange,
    *,
    trust: Trust,
    keyring: KeyRing | None = None,
    signatures: Sequence[KeySignature] | None = None,
    time: str | None = None,
    log_size: int | None = None,
) -> int:
    """Append one key event (caller's transaction; takes the append lock first). Signatures are
    given, or made with ``keyring`` for the roles it can sign; the event must then replay cleanly
    under ``trust`` or nothing is written. ``time`` and ``log_size`` default to now and the log's
    size."""
    from coalition.ledger.service import lock_head

    action, key_id, nation, replaces = change.action, change.key_id, change.nation, change.replaces
    size, _ = lock_head(session)
    log = key_log(session, trust)
    n = log.size + 1
    body = key_event_body(
        KeyEvent(
            n=n,
            prev=log.head,
            action=action,
            key_id=key_id,
            nation=nation,
            public_key=change.public_key,
            replaces=replaces,
            log_size=size if log_size is None else log_size,
            time=time or utc_now(),
        )
    )
    sigs: list[KeySignature] = list(signatures or [])
    if keyring is not None:
        have = {(s["role"], s["key_id"]) for s in sigs}

        def add(role: str, kid: str) -> None:
            if keyring.has(kid) and (role, kid) not in have:
                sigs.append({"role": role, "key_id": kid, "signature": keyring.sign(kid, body).hex()})

        if action in ("register", "rotate"):
            add("self", key_id)
        if action == "register" or (action == "revoke" and not keyring.has(key_id)):
            for root in sorted(trust.roots):
                add("root", root)
        if action == "rotate" and replaces:
            add("old", replaces)
        if action == "revoke":
            add("old", key_id)
    if log.problems:
        raise IntegrityError(f"the stored key log does not chain to the trust file: {log.problems[0][1]}")
    check = replay(trust, [*_rows(session), (body, sigs)])
    if check.problems:
        raise ConflictError(check.problems[-1][1])
    session.execute(
        insert(table_of(LedgerKeyEvent)),
        [
            {
                "n": n,
                "body": body.decode("utf-8"),
                "hash": key_event_hash(body),
                "signatures": json.dumps(sigs),
                "nation": nation,
                "key_id": key_id,
            }
        ],
    )
    _refresh_cache(session, check)
    return n


def _refresh_cache(session: Session, log: KeyLog) -> None:
    """``ledger_key`` mirrors the replayed key log (a cache for queries; never read as authority)."""
    session.execute(delete(LedgerKey).where(LedgerKey.kind == "nation"))
    rows = [
        {"key_id": k.key_id, "kind": "nation", "nation": k.nation, "public_key": k.public_key, "created_at": utc_now()}
        for k in log.keys.values()
        if k.until is None
    ]
    if rows:
        session.execute(insert(table_of(LedgerKey)), rows)


def register_keys(session: Session, *, keyring: KeyRing, trust: Trust | None = None) -> int:
    """Register (root-countersigned key events) every nation key of a key ring whose nation has
    no key in the log yet; returns how many were added. Needs the root key in the key ring."""
    trust = trust or trust_from_keyring(keyring)
    if session.get(LedgerHead, 1) is None:
        raise IntegrityError("the ledger has no head row; run the migrations")
    log = key_log(session, trust)
    added = 0
    for k in keyring.public_keys():
        if k.kind != "nation" or k.nation is None or k.nation in log.active or k.key_id in log.keys:
            continue
        append_key_event(session, KeyChange("register", k.key_id, k.nation, k.public_key), keyring=keyring, trust=trust)
        log = key_log(session, trust)
        added += 1
    return added


def key_events(session: Session) -> list[dict[str, object]]:
    """The stored key log as bundled (``keylog.jsonl``): signatures exactly as stored."""
    return [
        {"n": n, "body": body, "signatures": json.loads(sigs)}
        for n, body, sigs in session.execute(
            select(LedgerKeyEvent.n, LedgerKeyEvent.body, LedgerKeyEvent.signatures).order_by(LedgerKeyEvent.n)
        )
    ]


def known_nations(session: Session) -> set[str]:
    return set(session.scalars(select(LedgerKeyEvent.nation)))


__all__ = [
    "DEFAULT_ORIGIN",
    "KEY_GENESIS",
    "ROOT_KEY_ID",
    "KeyChange",
    "append_key_event",
    "key_events",
    "key_log",
    "kind_of",
    "register_keys",
    "trust_from_keyring",
]
