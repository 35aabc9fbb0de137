"""Appending custody events: one locked, signed, hash-chained step in the caller's transaction.

``append_events`` is the only write path of the log. In ONE transaction (owned by the caller) it:
locks the head row, applies every event to the inventory projection (which enforces the
invariants and refuses the whole call on the first violation), encodes each event canonically,
chains it to the previous hash, signs each batch's Merkle root with the acting nation's key (and
the counterparty's key for a handover), stores the completed Merkle subtrees, and moves the head.
Nothing here UPDATEs or DELETEs an event row; a correction is a new event that reverses an earlier
one, after which the projection is replayed from the log.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from coalition.errors import ConflictError, InputError, NotFoundError, Problem
from coalition.inventory import service as inv
from coalition.inventory.projector import Event, SafetyCheck, apply
from coalition.inventory.schemas import PAYLOADS, CorrectionPayload
from coalition.ledger.keys import KeyRing, utc_now
from coalition.ledger.merkle import Tree, new_stored_nodes
from coalition.ledger.models import (
    LedgerBatch,
    LedgerEvent,
    LedgerEventRef,
    LedgerHead,
    LedgerKey,
    LedgerNode,
    LedgerSignature,
)
from coalition.ledger.schemas import AppendResult, Submitted
from coalition.ledger.verifier import batch_statement, canonical_text, event_frame, leaf_hash, merkle_root
from coalition.store.bulk import insert_rows, insert_tuples

MAX_BATCH = 1000
EVENT_COLS = ("seq", "batch_id", "time", "nation", "person", "type", "body", "prev_hash", "hash")


# ------------------------------------------------------------------------------------------
# Storage of the tree
# ------------------------------------------------------------------------------------------
class StoredHashes:
    """:class:`~coalition.ledger.merkle.HashReader` over the database (leaves = event hashes)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def level_range(self, level: int, lo: int, hi: int) -> list[bytes]:
        if hi <= lo:
            return []
        # straight to the driver: a proof makes ~2 log2(n) of these tiny reads, and the ORM's
        # per-statement overhead would dominate (see benchmarks/bench_ledger.py)
        conn = self.session.connection()
        m = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        if level == 0:
            sql = f"SELECT hash FROM ledger_event WHERE seq > {m} AND seq <= {m} ORDER BY seq"
            params: tuple = (lo, hi)
        else:
            sql = f"SELECT hash FROM ledger_node WHERE level = {m} AND idx >= {m} AND idx < {m} ORDER BY idx"
            params = (level, lo, hi)
        cur = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cur.execute(sql, params)
            return [bytes(r[0]) for r in cur.fetchall()]
        finally:
            cur.close()


def tree(session: Session, size: int | None = None) -> Tree:
    if size is None:
        size = head(session)[0]
    return Tree(StoredHashes(session), size)


def extend_tree(session: Session, old_size: int, leaves: list[bytes]) -> None:
    """Store the complete subtrees (levels 4, 8, ...) that ``leaves`` finish. Used by appends and,
    with synthetic leaves, by the 10,000,000-event proof benchmark."""
    nodes = new_stored_nodes(old_size, leaves, StoredHashes(session).level_range)
    insert_tuples(session, LedgerNode.__table__, ("level", "idx", "hash"), nodes)


# ------------------------------------------------------------------------------------------
# Head and lock
# ------------------------------------------------------------------------------------------
def head(session: Session) -> tuple[int, bytes]:
    row = session.execute(select(LedgerHead.size, LedgerHead.last_hash).where(LedgerHead.id == 1)).one()
    return int(row[0]), bytes(row[1])


def lock_head(session: Session) -> tuple[int, bytes]:
    """Take the append lock: SQLite BEGIN IMMEDIATE (the database write lock), PostgreSQL
    SELECT ... FOR UPDATE on the head row. Two appenders therefore never see the same head,
    so the chain cannot fork."""
    conn = session.connection()
    if conn.dialect.name == "sqlite":
        raw = conn.connection.driver_connection
        if not raw.in_transaction:  # type: ignore[union-attr]
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:  # already inside a transaction: the first write takes the lock (or fails busy)
            conn.execute(update(LedgerHead).where(LedgerHead.id == 1).values(size=LedgerHead.size))
        row = conn.execute(select(LedgerHead.size, LedgerHead.last_hash).where(LedgerHead.id == 1)).one()
    else:
        row = conn.execute(
            select(LedgerHead.size, LedgerHead.last_hash).where(LedgerHead.id == 1).with_for_update()
        ).one()
    return int(row[0]), bytes(row[1])


# ------------------------------------------------------------------------------------------
# Keys
# ------------------------------------------------------------------------------------------
def register_keys(session: Session, *, keyring: KeyRing) -> int:
    """Record the public keys of a key ring (new ones only); returns how many were added."""
    known = set(session.scalars(select(LedgerKey.key_id)))
    rows = [
        {"key_id": k.key_id, "kind": k.kind, "nation": k.nation, "public_key": k.public_key, "created_at": utc_now()}
        for k in keyring.public_keys()
        if k.key_id not in known
    ]
    if rows:
        session.execute(insert(LedgerKey.__table__), rows)
    return len(rows)


def known_nations(session: Session) -> set[str]:
    return {n for n in session.scalars(select(LedgerKey.nation)) if n}


# ------------------------------------------------------------------------------------------
# Bodies
# ------------------------------------------------------------------------------------------
def event_body(*, seq: int, time: str, nation: str, person: str, type: str, payload: dict,
               prev: bytes, counterparty: str | None) -> bytes:
    """The canonical bytes of an event (what is hashed, chained and proven): equal to
    ``canonical_json`` of the whole event, with only the payload going through the encoder."""
    head, tail = event_frame(counterparty, nation, person, prev.hex(), seq, time, type)
    return (head + canonical_text(payload) + tail).encode("utf-8")


def event_from_body(body: str | bytes) -> tuple[Event, str | None]:
    d = json.loads(body)
    payload = PAYLOADS[d["type"]].model_validate(d["payload"])
    return Event(d["seq"], d["time"], d["nation"], d["person"], d["type"], payload), d.get("counterparty")


@dataclass
class _Pending:
    seq: int
    time: str
    nation: str
    person: str
    type: str
    counterparty: str | None
    body: bytes
    hash: bytes
    prev: bytes
    refs: set[str]


# ------------------------------------------------------------------------------------------
# Append
# ------------------------------------------------------------------------------------------
def append_events(
    session: Session,
    *,
    events: Sequence[Submitted],
    keyring: KeyRing,
    safety: SafetyCheck | None = None,
    now: str | None = None,
    max_batch: int = MAX_BATCH,
) -> AppendResult:
    """Append events (all or none) in the caller's transaction; see the module docstring.

    Raises ConflictError naming the event and item if any invariant would break, NotFoundError
    if a needed private key is missing, InputError if an actor nation has no registered key.
    """
    if not events:
        raise InputError([Problem("no events to append")])
    size, prev = lock_head(session)
    nations = known_nations(session)
    missing = sorted({e.nation for e in events} - nations)
    if missing:
        raise InputError([Problem(f"nation {n} has no registered key", field="nation",
                                  hint="known: " + ", ".join(sorted(nations))) for n in missing])
    first_seq = size + 1
    batches: list[int] = []
    # corrections replay the projection, so they go one at a time between ordinary runs
    run: list[Submitted] = []
    for sub in events:
        if sub.type == "correction":
            if run:
                size, prev = _append_run(session, run, size, prev, keyring, safety, now, max_batch, batches)
                run = []
            size, prev = _append_correction(session, sub, size, prev, keyring, now, batches, safety)
        else:
            run.append(sub)
    if run:
        size, prev = _append_run(session, run, size, prev, keyring, safety, now, max_batch, batches)
    session.execute(update(LedgerHead).where(LedgerHead.id == 1).values(size=size, last_hash=prev))
    return AppendResult(first_seq, size, tuple(batches), size)


def _append_run(session, run, size, prev, keyring, safety, now, max_batch, batches):  # type: ignore[no-untyped-def]
    stamp = now or utc_now()
    evs = [Event(size + i + 1, sub.time or stamp, sub.nation, sub.person, sub.type, sub.payload)
           for i, sub in enumerate(run)]
    state = inv.load_state(session, evs, safety=safety)
    pending: list[_Pending] = []
    for ev in evs:
        try:
            applied = apply(state, ev)
        except ConflictError as exc:
            raise ConflictError(f"event {ev.seq - size} of {len(evs)} ({ev.type} by {ev.nation}): {exc}") from None
        payload = ev.payload.model_dump(mode="json")
        body = event_body(seq=ev.seq, time=ev.time, nation=ev.nation, person=ev.person, type=ev.type,
                          payload=payload, prev=prev, counterparty=applied.counterparty)
        h = leaf_hash(body)
        pending.append(_Pending(ev.seq, ev.time, ev.nation, ev.person, ev.type, applied.counterparty,
                                body, h, prev, applied.refs))
        prev = h
    inv.flush_state(session, state)
    _store(session, pending, size, keyring, now, max_batch, batches)
    return size + len(pending), prev


def _store(session, pending, size, keyring, now, max_batch, batches) -> None:  # type: ignore[no-untyped-def]
    """Insert events, refs, signed batches and tree nodes for a run of already-applied events."""
    next_batch = (session.scalar(select(func.max(LedgerBatch.batch_id))) or 0) + 1
    groups: list[list[_Pending]] = []
    for p in pending:
        g = groups[-1] if groups else None
        if g and g[0].nation == p.nation and g[0].counterparty == p.counterparty and len(g) < max_batch:
            g.append(p)
        else:
            groups.append([p])
    event_rows, ref_rows, batch_rows, sig_rows = [], [], [], []
    stamp = now or utc_now()
    for g in groups:
        bid = next_batch
        next_batch += 1
        root = merkle_root([p.hash for p in g])
        first = g[0].seq
        nation, counter = g[0].nation, g[0].counterparty
        msg = batch_statement(batch_id=bid, first_seq=first, size=len(g), nation=nation,
                              counterparty=counter, root=root)
        batch_rows.append({"batch_id": bid, "first_seq": first, "size": len(g), "nation": nation,
                           "counterparty": counter, "root": root, "time": stamp})
        kid = keyring.key_id_for(nation)
        sig_rows.append({"batch_id": bid, "role": "actor", "key_id": kid, "signature": keyring.sign(kid, msg)})
        if counter:
            ckid = keyring.key_id_for(counter)
            sig_rows.append({"batch_id": bid, "role": "counterparty", "key_id": ckid,
                             "signature": keyring.sign(ckid, msg)})
        for p in g:  # rows as tuples in EVENT_COLS order: no dict per row on the hot path
            event_rows.append((p.seq, bid, p.time, p.nation, p.person, p.type, p.body.decode("utf-8"),
                               p.prev, p.hash))
            seq = p.seq
            ref_rows.extend([(r, seq) for r in sorted(p.refs)])
        batches.append(bid)
    insert_rows(session, LedgerBatch.__table__, batch_rows)
    insert_rows(session, LedgerSignature.__table__, sig_rows)
    insert_tuples(session, LedgerEvent.__table__, EVENT_COLS, event_rows)
    insert_tuples(session, LedgerEventRef.__table__, ("ref", "seq"), ref_rows)
    extend_tree(session, size, [p.hash for p in pending])


def reversed_seqs(session: Session) -> set[int]:
    out = set()
    for body in session.scalars(select(LedgerEvent.body).where(LedgerEvent.type == "correction")):
        out.add(int(json.loads(body)["payload"]["reverses"]))
    return out


def _append_correction(session, sub, size, prev, keyring, now, batches, safety=None):  # type: ignore[no-untyped-def]
    p: CorrectionPayload = sub.payload
    target = session.execute(
        select(LedgerEvent.nation, LedgerEvent.type).where(LedgerEvent.seq == p.reverses)
    ).one_or_none()
    if target is None:
        raise NotFoundError(f"correction: event seq {p.reverses} does not exist")
    if target.type == "correction":
        raise ConflictError(f"seq {p.reverses} is itself a correction; record the right facts as a new event instead")
    if target.nation != sub.nation:
        raise ConflictError(f"seq {p.reverses} was recorded by {target.nation}; only {target.nation} can reverse it")
    if p.reverses in reversed_seqs(session):
        raise ConflictError(f"seq {p.reverses} is already reversed")
    seq = size + 1
    time = sub.time or now or utc_now()
    body = event_body(seq=seq, time=time, nation=sub.nation, person=sub.person, type="correction",
                      payload=p.model_dump(mode="json"), prev=prev, counterparty=None)
    h = leaf_hash(body)
    pend = _Pending(seq, time, sub.nation, sub.person, "correction", None, body, h, prev,
                    {f"E:{p.reverses}"} | set(session.scalars(
                        select(LedgerEventRef.ref).where(LedgerEventRef.seq == p.reverses))))
    gate = getattr(safety, "storehouse_errors", None)  # the depot safety gate, when one is bound
    lots = {r[2:] for r in pend.refs if r.startswith("L:")}
    before = gate(lots) if gate else {}
    _store(session, [pend], size, keyring, now, MAX_BATCH, batches)
    rebuild_projection(session)  # refuses (raises) if a later event depended on the reversed one
    if gate:
        after = gate(lots)
        new = {where: sorted(msgs - before.get(where, set())) for where, msgs in after.items()}
        new = {where: msgs for where, msgs in new.items() if msgs}
        if new:
            raise ConflictError(f"correction of seq {p.reverses} refused by the depot safety rules: "
                                + "; ".join(f"{w}: {'; '.join(m)}" for w, m in sorted(new.items())))
    return seq, h


# ------------------------------------------------------------------------------------------
# Rebuild
# ------------------------------------------------------------------------------------------
def rebuild_projection(session: Session, *, chunk: int = 5000) -> int:
    """Replay the whole log into empty projection tables; returns the events applied.

    Runs the same projector as live appends (without the depot safety check, which was applied
    when each receipt was made). Reversed events are skipped; if a later event no longer applies,
    ConflictError names it."""
    inv.clear_projection(session)
    skip = reversed_seqs(session)
    applied = 0
    last = 0
    while True:
        rows = session.execute(
            select(LedgerEvent.seq, LedgerEvent.body).where(LedgerEvent.seq > last)
            .order_by(LedgerEvent.seq).limit(chunk)
        ).all()
        if not rows:
            break
        last = rows[-1][0]
        evs = []
        for seq, body in rows:
            ev, _ = event_from_body(body)
            if ev.type != "correction" and seq not in skip:
                evs.append(ev)
        state = inv.load_state(session, evs)
        for ev in evs:
            try:
                apply(state, ev)
            except ConflictError as exc:
                raise ConflictError(f"replaying the log failed at seq {ev.seq}: {exc}") from None
        inv.flush_state(session, state)
        applied += len(evs)
    return applied
