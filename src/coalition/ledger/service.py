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

import gc
import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from hashlib import sha256
from json import encoder as _json_encoder
from json.encoder import encode_basestring
from typing import NamedTuple

from pydantic import BaseModel
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from coalition.errors import ConflictError, InputError, IntegrityError, NotFoundError, Problem
from coalition.inventory import service as inv
from coalition.inventory.counts import split_count
from coalition.inventory.projector import apply
from coalition.inventory.schemas import PAYLOADS, CorrectionPayload, CountPayload
from coalition.inventory.state import Applied, Event, SafetyCheck, State
from coalition.ledger.batches import BatchSigner, LocalSigner, Needed, SignaturesNeeded, commit_time
from coalition.ledger.canonical import (
    _CANONICAL,
    GENESIS,
    BatchStatement,
    batch_statement,
    canonical_text,
    chain_text,
    event_frame,
    runs_of_seqs,
)
from coalition.ledger.checks import check_signature
from coalition.ledger.keyevents import key_log, known_nations, register_keys, trust_from_keyring
from coalition.ledger.keys import KeyRing, utc_now
from coalition.ledger.merkle import Tree, new_stored_nodes, stored_reads
from coalition.ledger.models import (
    LedgerBatch,
    LedgerCheckpoint,
    LedgerEvent,
    LedgerEventRef,
    LedgerHead,
    LedgerNationHead,
    LedgerNode,
    LedgerSignature,
)
from coalition.ledger.nationheads import ChainHead
from coalition.ledger.rfc6962 import leaf_hash, merkle_root
from coalition.ledger.schemas import AppendResult, Submitted
from coalition.ledger.trust import KeyLog, Trust
from coalition.store.bulk import insert_rows, insert_tuples, raw_cursor
from coalition.store.db import table_of

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
            params: tuple[int, ...] = (lo, hi)
        else:
            sql = f"SELECT hash FROM ledger_node WHERE level = {m} AND idx >= {m} AND idx < {m} ORDER BY idx"
            params = (level, lo, hi)
        cur = raw_cursor(self.session)
        try:
            cur.execute(sql, params)
            return [bytes(r[0]) for r in cur.fetchall()]
        finally:
            cur.close()

    def level_ranges(self, ranges: list[tuple[int, int, int]]) -> list[list[bytes]]:
        """Many ``level_range`` reads in one query (UNION ALL of index range scans): an
        inclusion proof is then one round trip whatever the log size."""
        if not ranges:
            return []
        conn = self.session.connection()
        m = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        parts, params = [], []
        for k, (level, lo, hi) in enumerate(ranges):
            if level == 0:
                parts.append(f"SELECT {k:d} AS k, seq - 1 AS i, hash FROM ledger_event WHERE seq > {m} AND seq <= {m}")
                params += [lo, hi]
            else:
                parts.append(
                    f"SELECT {k:d} AS k, idx AS i, hash FROM ledger_node WHERE level = {m} AND idx >= {m} AND idx < {m}"
                )
                params += [level, lo, hi]
        out: list[list[bytes]] = [[] for _ in ranges]
        cur = raw_cursor(self.session)
        try:
            cur.execute(" UNION ALL ".join(parts) + " ORDER BY k, i", params)
            for k, _i, h in cur.fetchall():
                out[k].append(bytes(h))
        finally:
            cur.close()
        return out


def tree(session: Session, size: int | None = None) -> Tree:
    if size is None:
        size = head(session)[0]
    return Tree(StoredHashes(session), size)


def extend_tree(session: Session, old_size: int, leaves: list[bytes]) -> None:
    """Store the complete subtrees (levels 4, 8, ...) that ``leaves`` finish. Used by appends and,
    with synthetic leaves, by the 10,000,000-event proof benchmark."""
    stored = StoredHashes(session)
    reads = stored_reads(old_size, old_size + len(leaves))
    got = dict(zip(reads, stored.level_ranges(reads), strict=True))  # one query, not one per level

    def read(level: int, lo: int, hi: int) -> list[bytes]:
        hashes = got.get((level, lo, hi))
        return hashes if hashes is not None else stored.level_range(level, lo, hi)

    nodes = new_stored_nodes(old_size, leaves, read)
    insert_tuples(session, table_of(LedgerNode), ("level", "idx", "hash"), nodes)


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
        if raw is None:
            raise RuntimeError("the session's connection is closed")
        if not raw.in_transaction:
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
# Keys: the signed key log (coalition.ledger.keyevents); re-exported for callers
# ------------------------------------------------------------------------------------------
__all__ = ["append_events", "head", "known_nations", "rebuild_projection", "register_keys", "tree"]


# ------------------------------------------------------------------------------------------
# Bodies
# ------------------------------------------------------------------------------------------
class EventHeader(NamedTuple):
    """Every field of an event but its payload. ``chain`` holds the per-nation links
    ``{nation: [counter, previous hash hex]}``. A NamedTuple: one is built per appended event."""

    seq: int
    time: str
    nation: str
    person: str
    type: str
    prev: bytes
    counterparty: str | None
    chain: Mapping[str, Sequence[int | str]] | None = None


def event_body(header: EventHeader, payload: dict[str, object]) -> bytes:
    """The canonical bytes of an event (what is hashed, chained and proven): equal to
    ``canonical_json`` of the whole event, with only the payload going through the encoder."""
    seq, time, nation, person, type, prev, counterparty, chain = header
    head, tail = event_frame(counterparty, nation, person, prev.hex(), seq, time, type, chain_text(chain or {}))
    return (head + canonical_text(payload) + tail).encode("utf-8")


#: the canonical encoder's C core, made once: :func:`~coalition.ledger.canonical.canonical_text`
#: builds it on every call through two Python layers (JSONEncoder.encode, iterencode), which cost
#: more than encoding a small payload. Same arguments as the canonical encoder (sorted keys,
#: compact separators, no ASCII escaping, NaN refused); no circular check (a payload's JSON dump
#: is a tree). None when the interpreter has no C json accelerator.
_c_make_encoder = getattr(_json_encoder, "c_make_encoder", None)  # not in the stubs: a CPython detail
_C_ENCODE = (
    None
    if _c_make_encoder is None
    else _c_make_encoder(None, _CANONICAL.default, encode_basestring, None, ":", ",", True, False, False)
)


def payload_text(payload: BaseModel) -> str:
    """``canonical_text(payload.model_dump(mode="json"))``, without the Python layers of either
    (pydantic's serializer called directly, the JSON encoder's C core made once); a test checks
    the text equals the general path for every payload type."""
    dumped = type(payload).__pydantic_serializer__.to_python(payload, mode="json")
    if _C_ENCODE is None:
        return canonical_text(dumped)
    return "".join(_C_ENCODE(dumped, 0))


def event_from_body(body: str | bytes, recorded: str = "") -> tuple[Event, str | None]:
    d = json.loads(body)
    payload = PAYLOADS[d["type"]].model_validate(d["payload"])
    return Event(d["seq"], d["time"], d["nation"], d["person"], d["type"], payload, recorded), d.get("counterparty")


@dataclass(slots=True)
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
    text: str = ""  # the body as text (what is stored); empty: decode ``body``


# ------------------------------------------------------------------------------------------
# Append
# ------------------------------------------------------------------------------------------
@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector for one bounded step (an append call, a verify pass).

    Such a step allocates hundreds of thousands of short-lived objects, all freed by reference
    counting; with a large heap (an import holds its whole parsed file) the collector's full
    passes over the old generations cost ~10 % of an append (benchmarks/bench_ledger.py). Nothing
    is leaked: cycles made meanwhile are collected at the next pass after it is re-enabled."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


@dataclass(frozen=True)
class AppendTiming:
    """Time and size rules of one append.

    ``now``: the commit time (default: the signer's prepared time, else the clock); ``max_batch``:
    events per signed batch; ``backdate_tolerance_s``: refuse events dated more than that many
    seconds before the last checkpoint (``None``: no check).
    """

    now: str | None = None
    max_batch: int = MAX_BATCH
    backdate_tolerance_s: int | None = None


def append_events(
    session: Session,
    *,
    events: Sequence[Submitted],
    keyring: KeyRing | None = None,
    signer: BatchSigner | None = None,
    trust: Trust | None = None,
    safety: SafetyCheck | None = None,
    timing: AppendTiming | None = None,
) -> AppendResult:
    """Append events (all or none) in the caller's transaction; see the module docstring.

    Each batch is signed through ``signer`` (default: ``LocalSigner(keyring)``, the actor's own
    key only) and every signature is checked against the key the signed key log (replayed under
    ``trust``; default: the key ring's root keys) gives that nation. Raises ConflictError naming
    the event and item if any invariant would break, :class:`SignaturesNeeded` if a party has not
    signed, InputError if an actor nation has no key in the key log.
    """
    with paused_gc():
        return _append_events(
            session,
            events=events,
            keyring=keyring,
            signer=signer,
            trust=trust,
            safety=safety,
            timing=timing or AppendTiming(),
        )


def _append_events(
    session: Session,
    *,
    events: Sequence[Submitted],
    keyring: KeyRing | None,
    signer: BatchSigner | None,
    trust: Trust | None,
    safety: SafetyCheck | None,
    timing: AppendTiming,
) -> AppendResult:
    now, max_batch, backdate_tolerance_s = timing.now, timing.max_batch, timing.backdate_tolerance_s
    if not events:
        raise InputError([Problem("no events to append")])
    if signer is None:
        if keyring is None:
            raise InputError([Problem("append needs a signer (keys on this machine or pre-signed batches)")])
        signer = LocalSigner(keyring)
    if trust is None:
        if keyring is None:
            raise InputError([Problem("append needs the pinned trust file to check signatures against")])
        trust = trust_from_keyring(keyring)
    prepared = commit_time(signer)
    if prepared is not None:
        now = _check_prepared_time(prepared, now)
    size, prev = lock_head(session)
    keys = key_log(session, trust)
    if keys.problems:
        raise IntegrityError(f"the key log does not chain to the trust file: {keys.problems[0][1]}")
    missing = sorted({e.nation for e in events} - set(keys.active))
    if missing:
        raise InputError(
            [
                Problem(
                    f"nation {n} has no key in the signed key log",
                    field="nation",
                    hint="known: " + ", ".join(sorted(keys.active)),
                )
                for n in missing
            ]
        )
    if backdate_tolerance_s is not None:
        _refuse_backdated(session, events, backdate_tolerance_s)
    ctx = _SignCtx(signer, keys, [], now or utc_now(), _load_chain_heads(session))
    now = ctx.time
    first_seq = size + 1
    batches: list[int] = []
    # corrections replay the projection, so they go one at a time between ordinary runs
    run: list[Submitted] = []
    for sub in events:
        if sub.type == "correction":
            if run:
                size, prev = _append_run(session, run, size, prev, ctx, safety, max_batch, batches)
                run = []
            size, prev = _append_correction(session, sub, size, prev, ctx, now, batches, safety)
        else:
            run.append(sub)
    if run:
        size, prev = _append_run(session, run, size, prev, ctx, safety, max_batch, batches)
    if ctx.missing:
        raise SignaturesNeeded(ctx.missing)
    _store_chain_heads(session, ctx)
    session.execute(update(LedgerHead).where(LedgerHead.id == 1).values(size=size, last_hash=prev))
    return AppendResult(first_seq, size, tuple(batches), size)


def _refuse_backdated(session: Session, events: Sequence[Submitted], tolerance_s: int) -> None:
    """An event may not be dated before the last checkpoint by more than the tolerance: the
    checkpoint (cosigned by witnesses) fixes what the log held then, so an older business time
    would rewrite the past. Its recording time is signed with its batch either way."""
    from datetime import UTC, datetime, timedelta

    cp_time = session.scalar(select(LedgerCheckpoint.time).order_by(LedgerCheckpoint.checkpoint_id.desc()).limit(1))
    if not cp_time:
        return
    floor = (
        datetime.strptime(cp_time[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC) - timedelta(seconds=tolerance_s)
    ).strftime("%Y-%m-%dT%H:%M:%SZ")
    bad = [(i, e) for i, e in enumerate(events, 1) if e.time is not None and e.time[:19] + "Z" < floor]
    if bad:
        raise InputError(
            [
                Problem(
                    f"dated {e.time}, more than {tolerance_s // 3600} h before the last checkpoint"
                    f" ({cp_time}): backdating is refused",
                    row=getattr(e, "row", None) or i,
                    file=e.file,
                    field="time",
                    hint="record the event with its true time of recording; the business date goes in"
                    " the payload (e.g. occurred_on)",
                )
                for i, e in bad[:50]
            ]
        )


MAX_PREPARED_AGE_S = 900  # pre-signed statements must be submitted within 15 minutes of preparing


def _check_prepared_time(prepared: str, now: str | None) -> str:
    from datetime import UTC, datetime

    try:
        t = datetime.strptime(prepared, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise InputError([Problem(f"prepared commit time {prepared!r} is not UTC ISO 8601", field="time")]) from None
    ref = datetime.strptime(now, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) if now else datetime.now(UTC)
    age = (ref - t).total_seconds()
    if age < -60 or age > MAX_PREPARED_AGE_S:
        raise ConflictError(
            f"the statements were prepared at {prepared}; they must be signed and submitted within"
            f" {MAX_PREPARED_AGE_S // 60} minutes (prepare again)"
        )
    return prepared


_NO_HEAD: ChainHead = (0, GENESIS, 0)  # a nation's chain before its first event


@dataclass
class _SignCtx:
    signer: BatchSigner
    keys: KeyLog
    missing: list[Needed]
    time: str  # the commit time every batch statement of this append signs
    heads: dict[str, ChainHead]  # nation -> (counter, last hash, last seq)
    moved: set[str] = field(default_factory=set)

    def link(self, refs: set[str]) -> dict[str, tuple[int, str]]:
        """The chain links of an event touching ``refs``: one per title-holder nation,
        ``[counter, previous hash hex]`` (a tuple encodes as the same JSON array)."""
        out: dict[str, tuple[int, str]] = {}
        for r in refs:
            if r.startswith("T:"):
                n, h, _ = self.heads.get(r[2:], (0, GENESIS, 0))
                out[r[2:]] = (n + 1, h.hex())
        return out

    def link_text(self, refs: set[str]) -> tuple[dict[str, tuple[int, str]], str]:
        """:meth:`link` and the canonical text of its links (``canonical.chain_text``), in one
        pass: an event of one title nation, the usual case, is framed without the general loop."""
        heads = self.heads
        chain: dict[str, tuple[int, str]] = {}
        for r in refs:
            if r[:2] == "T:":
                n, h, _ = heads.get(r[2:], _NO_HEAD)
                chain[r[2:]] = (n + 1, h.hex())
        if len(chain) == 1:
            ((nation, (counter, prev)),) = chain.items()
            return chain, f'{{{encode_basestring(nation)}:[{counter:d},"{prev}"]}}'
        return chain, chain_text(chain)

    def advance(self, chain: dict[str, tuple[int, str]], seq: int, own: bytes) -> None:
        for nation, (n, _) in chain.items():
            self.heads[nation] = (n, own, seq)
            self.moved.add(nation)

    def signature(self, batch: int, role: str, nation: str, statement: bytes) -> tuple[str, bytes] | None:
        key = self.keys.current_key(nation)
        if key is None:
            raise InputError([Problem(f"{role} nation {nation} has no key in the signed key log", field="nation")])
        need = Needed(batch, role, nation, key.key_id, statement, self.time)
        sig = self.signer.sign(need)
        if sig is None:
            self.missing.append(need)
            return None
        holds = getattr(self.signer, "holds", None)
        if not (holds is not None and holds(key.key_id, key.public_key)) and not check_signature(
            key.public_key, sig, statement
        ):
            raise ConflictError(
                f"the {role} signature for {nation}'s batch does not verify with {nation}'s key"
                f" {key.key_id}: it was made with another key, or for another statement"
                " (the log moved on: prepare and sign again)"
            )
        return key.key_id, sig


def _load_chain_heads(session: Session) -> dict[str, ChainHead]:
    query = select(
        LedgerNationHead.nation, LedgerNationHead.counter, LedgerNationHead.last_hash, LedgerNationHead.last_seq
    )
    return {n: (int(c), bytes(h), int(s)) for n, c, h, s in session.execute(query)}


def _store_chain_heads(session: Session, ctx: _SignCtx) -> None:
    if not ctx.moved:
        return
    known = set(session.scalars(select(LedgerNationHead.nation).where(LedgerNationHead.nation.in_(sorted(ctx.moved)))))
    for nation in sorted(ctx.moved):
        n, h, s = ctx.heads[nation]
        if nation in known:
            session.execute(
                update(LedgerNationHead)
                .where(LedgerNationHead.nation == nation)
                .values(counter=n, last_hash=h, last_seq=s)
            )
        else:
            session.execute(
                insert(table_of(LedgerNationHead)), [{"nation": nation, "counter": n, "last_hash": h, "last_seq": s}]
            )


def _append_run(
    session: Session,
    run: list[Submitted],
    size: int,
    prev: bytes,
    ctx: _SignCtx,
    safety: SafetyCheck | None,
    max_batch: int,
    batches: list[int],
) -> tuple[int, bytes]:
    now = ctx.time  # the append's commit time
    stamp = now or utc_now()
    evs = [
        Event(size + i + 1, sub.time or stamp, sub.nation, sub.person, sub.type, sub.payload, stamp)
        for i, sub in enumerate(run)
    ]
    state = inv.load_state(session, evs, safety=safety)
    pending: list[_Pending] = []
    for n, (ev0, sub) in enumerate(zip(evs, run, strict=True), 1):
        for ev in _split(state, ev0, size + len(pending) + 1):
            try:
                applied = apply(state, ev)
            except ConflictError as exc:
                raise ConflictError(f"{sub.where(n, len(evs))} ({ev.type} by {ev.nation}): {exc}") from None
            prev = _pend(pending, ev, applied, prev, ctx)
    inv.flush_state(session, state)
    _store(session, pending, size, ctx, now, max_batch, batches)
    return size + len(pending), prev


def _split(state: State, ev: Event, seq: int) -> list[Event]:
    """The event at ``seq``; a count split per title nation (:func:`coalition.inventory.counts.
    split_count`), its parts at ``seq``, ``seq + 1``, ... sharing ``stocktake = seq``."""
    if not isinstance(ev.payload, CountPayload):
        # the event already sits at ``seq`` unless a count earlier in the run was split
        return [ev] if ev.seq == seq else [replace(ev, seq=seq)]
    parts = split_count(state, ev.payload, stocktake=seq)
    return [replace(ev, seq=seq + i, payload=part) for i, part in enumerate(parts)]


def _pend(pending: list[_Pending], ev: Event, applied: Applied, prev: bytes, ctx: _SignCtx) -> bytes:
    """Encode an applied event, link it into its nations' chains, add it to ``pending``.

    :func:`event_body` inlined (this runs once per appended event)."""
    chain, links = ctx.link_text(applied.refs)
    seq, nation, type_, time = ev.seq, ev.nation, ev.type, ev.time
    cp = applied.counterparty
    head, tail = event_frame(cp, nation, ev.person, prev.hex(), seq, time, type_, links)
    text = head + payload_text(ev.payload) + tail
    body = text.encode("utf-8")
    h = sha256(b"\x00" + body).digest()  # rfc6962.leaf_hash, inlined
    for n, (c, _) in chain.items():  # ctx.advance, inlined
        ctx.heads[n] = (c, h, seq)
        ctx.moved.add(n)
    pending.append(_Pending(seq, time, nation, ev.person, type_, cp, body, h, prev, applied.refs, text))
    return h


def _store(
    session: Session, pending: list[_Pending], size: int, ctx: _SignCtx, now: str, max_batch: int, batches: list[int]
) -> None:
    """Insert events, refs, signed batches and tree nodes for a run of already-applied events.

    One batch per (nation, counterparty) of the run, up to ``max_batch`` events, whether or not
    its events are contiguous: alternating nations then cost one statement and one signature per
    nation and call, not per event (a non-contiguous batch signs its runs, docs/ledger.md)."""
    next_batch = (session.scalar(select(func.max(LedgerBatch.batch_id))) or 0) + 1
    open_: dict[tuple[str, str | None], list[_Pending]] = {}
    groups: list[list[_Pending]] = []  # in order of their first event
    for p in pending:
        key = (p.nation, p.counterparty)
        g = open_.get(key)
        if g is None or len(g) >= max_batch:
            g = open_[key] = []
            groups.append(g)
        g.append(p)
    event_rows: list[tuple[object, ...]] = []
    ref_rows: list[tuple[object, ...]] = []
    batch_rows: list[dict[str, object]] = []
    sig_rows: list[dict[str, object]] = []
    stamp = now or utc_now()
    for g in groups:
        bid = next_batch
        next_batch += 1
        root = merkle_root([p.hash for p in g])
        first = g[0].seq
        nation, counter = g[0].nation, g[0].counterparty
        keys = ctx.keys
        runs = None if g[-1].seq - first + 1 == len(g) else runs_of_seqs([p.seq for p in g])
        msg = batch_statement(
            BatchStatement(
                batch_id=bid,
                first_seq=first,
                size=len(g),
                nation=nation,
                counterparty=counter,
                root=root,
                keys_size=keys.size,
                keys_head=keys.head,
                time=stamp,
                runs=runs,
            )
        )
        batch_rows.append(
            {
                "batch_id": bid,
                "first_seq": first,
                "size": len(g),
                "nation": nation,
                "counterparty": counter,
                "root": root,
                "time": stamp,
                "keys_size": keys.size,
                "keys_head": keys.head,
                "runs": None if runs is None else canonical_text(runs),
            }
        )
        index = len(batches)
        for role, who in (("actor", nation), ("counterparty", counter)):
            if who is None:
                continue
            got = ctx.signature(index, role, who, msg)
            if got is not None:
                sig_rows.append({"batch_id": bid, "role": role, "key_id": got[0], "signature": got[1]})
        for p in g:  # rows as tuples in EVENT_COLS order: no dict per row on the hot path
            text = p.text or p.body.decode("utf-8")
            event_rows.append((p.seq, bid, p.time, p.nation, p.person, p.type, text, p.prev, p.hash))
            seq = p.seq
            ref_rows.extend([(r, seq) for r in sorted(p.refs)])
        batches.append(bid)
    insert_rows(session, table_of(LedgerBatch), batch_rows)
    insert_rows(session, table_of(LedgerSignature), sig_rows)
    insert_tuples(session, table_of(LedgerEvent), EVENT_COLS, event_rows)
    insert_tuples(session, table_of(LedgerEventRef), ("ref", "seq"), ref_rows)
    extend_tree(session, size, [p.hash for p in pending])


def reversed_seqs(session: Session) -> set[int]:
    out: set[int] = set()
    for body in session.scalars(select(LedgerEvent.body).where(LedgerEvent.type == "correction")):
        out.add(int(json.loads(body)["payload"]["reverses"]))
    return out


def _append_correction(
    session: Session,
    sub: Submitted,
    size: int,
    prev: bytes,
    ctx: _SignCtx,
    now: str,
    batches: list[int],
    safety: SafetyCheck | None = None,
) -> tuple[int, bytes]:
    p = sub.payload
    if not isinstance(p, CorrectionPayload):  # parse_event gives a correction its payload model
        raise TypeError(f"a correction's payload is a {type(p).__name__}")
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
    target_body = session.scalar(select(LedgerEvent.body).where(LedgerEvent.seq == p.reverses))
    if target_body is None:  # read in the same transaction as `target` above
        raise NotFoundError(f"correction: event seq {p.reverses} does not exist")
    refs = {f"E:{p.reverses}"} | set(
        session.scalars(select(LedgerEventRef.ref).where(LedgerEventRef.seq == p.reverses))
    )
    refs |= {f"T:{n}" for n in json.loads(target_body).get("chain", {})}  # the signed titles, not the index
    chain = ctx.link(refs)
    body = event_body(
        EventHeader(
            seq=seq,
            time=time,
            nation=sub.nation,
            person=sub.person,
            type="correction",
            prev=prev,
            counterparty=None,
            chain=chain,
        ),
        p.model_dump(mode="json"),
    )
    h = leaf_hash(body)
    ctx.advance(chain, seq, h)
    pend = _Pending(seq, time, sub.nation, sub.person, "correction", None, body, h, prev, refs)
    gate = getattr(safety, "storehouse_errors", None)  # the depot safety gate, when one is bound
    lots = {r[2:] for r in pend.refs if r.startswith("L:")}
    before = gate(lots) if gate else {}
    _store(session, [pend], size, ctx, now, MAX_BATCH, batches)
    rebuild_projection(session)  # refuses (raises) if a later event depended on the reversed one
    if gate:
        after = gate(lots)
        new = {where: sorted(msgs - before.get(where, set())) for where, msgs in after.items()}
        new = {where: msgs for where, msgs in new.items() if msgs}
        if new:
            raise ConflictError(
                f"correction of seq {p.reverses} refused by the depot safety rules: "
                + "; ".join(f"{w}: {'; '.join(m)}" for w, m in sorted(new.items()))
            )
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
            select(LedgerEvent.seq, LedgerEvent.body, LedgerBatch.time)
            .join(LedgerBatch, LedgerBatch.batch_id == LedgerEvent.batch_id)
            .where(LedgerEvent.seq > last)
            .order_by(LedgerEvent.seq)
            .limit(chunk)
        ).all()
        if not rows:
            break
        last = rows[-1][0]
        evs = []
        for seq, body, recorded in rows:
            ev, _ = event_from_body(body, recorded)
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
