"""Signed checkpoints (C2SP tlog-checkpoint notes), stored witness cosignatures, and inclusion and
consistency proofs. Witnesses run as separate processes (``coalition witness``) and keep their own
state; the log only stores the cosignatures they return."""

from __future__ import annotations

import json

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from coalition.errors import InputError, IntegrityError, NotFoundError, Problem
from coalition.ledger.keyevents import DEFAULT_ORIGIN
from coalition.ledger.keys import OPERATOR_KEY_ID, KeyRing, utc_now
from coalition.ledger.merkle import path_in
from coalition.ledger.models import LedgerBatch, LedgerCheckpoint, LedgerCosignature, LedgerEvent, LedgerNationHead
from coalition.ledger.nationheads import heads_line
from coalition.ledger.notes import Note, Signature, checkpoint_text, cosignature_time, sign_note_line
from coalition.ledger.schemas import Checkpoint, InclusionProof
from coalition.ledger.service import head, lock_head, tree
from coalition.store.bulk import raw_cursor
from coalition.store.db import table_of


def _row_to_cp(session: Session, row: LedgerCheckpoint) -> Checkpoint:
    cos = tuple(
        session.scalars(
            select(LedgerCosignature.key_id)
            .where(LedgerCosignature.checkpoint_id == row.checkpoint_id)
            .order_by(LedgerCosignature.key_id)
        )
    )
    return Checkpoint(
        row.checkpoint_id, row.size, bytes(row.root), row.time, row.key_id, bytes(row.signature), cos, row.heads
    )


def nation_heads(session: Session) -> dict[str, tuple[int, bytes, int]]:
    """Every nation's chain head now: nation -> (counter, last leaf hash, last seq). Derived rows
    kept by the append path in its transaction; verify recomputes them from the events."""
    query = select(
        LedgerNationHead.nation, LedgerNationHead.counter, LedgerNationHead.last_hash, LedgerNationHead.last_seq
    )
    return {n: (int(c), bytes(h), int(s)) for n, c, h, s in session.execute(query)}


def make_checkpoint(
    session: Session, *, keyring: KeyRing, now: str | None = None, origin: str = DEFAULT_ORIGIN
) -> Checkpoint:
    """Sign (with the log operator's key) a C2SP checkpoint of the whole log as it stands now,
    committing in an extension line to every nation's chain head at that size (so the end of a
    donor's chain is fixed by the witnessed checkpoint, not by the operator at export time).
    ``key_id`` of the stored checkpoint is its origin (the note's key name)."""
    size, _ = lock_head(session)  # one checkpointer (and no appender) at a time: ids never collide
    last = latest_checkpoint(session)
    if last is not None and last.size == size and last.key_id == origin:
        return last
    root = tree(session, size).root()
    time = now or utc_now()
    heads = heads_line(nation_heads(session))  # under the append lock: the heads at exactly `size`
    sig = keyring.sign(OPERATOR_KEY_ID, checkpoint_text(origin, size, root, (heads,)).encode("utf-8"))
    cid = (session.scalar(select(func.max(LedgerCheckpoint.checkpoint_id))) or 0) + 1
    session.execute(
        insert(table_of(LedgerCheckpoint)),
        [
            {
                "checkpoint_id": cid,
                "size": size,
                "root": root,
                "time": time,
                "key_id": origin,
                "signature": sig,
                "heads": heads,
            }
        ],
    )
    return Checkpoint(cid, size, root, time, origin, sig, (), heads)


def latest_checkpoint(session: Session) -> Checkpoint | None:
    row = session.scalars(select(LedgerCheckpoint).order_by(LedgerCheckpoint.checkpoint_id.desc()).limit(1)).first()
    return _row_to_cp(session, row) if row else None


def checkpoints(session: Session) -> list[Checkpoint]:
    rows = session.scalars(select(LedgerCheckpoint).order_by(LedgerCheckpoint.checkpoint_id)).all()
    return [_row_to_cp(session, r) for r in rows]


def get_checkpoint(session: Session, *, checkpoint_id: int) -> Checkpoint:
    row = session.get(LedgerCheckpoint, checkpoint_id)
    if row is None:
        raise NotFoundError(f"checkpoint {checkpoint_id} does not exist")
    return _row_to_cp(session, row)


def checkpoint_note(session: Session, cp: Checkpoint, *, public_key: bytes | None = None) -> str:
    """The checkpoint as a C2SP signed note: the log's signature, then every stored cosignature.
    ``public_key`` (the operator's) gives the log signature its key ID; without it the key ID is
    taken from the stored note key (the trust file's log key must match)."""
    text = checkpoint_text(cp.key_id, cp.size, cp.root, cp.extensions)
    lines = []
    if public_key is not None:
        lines.append(sign_note_line(cp.key_id, public_key, cp.signature))
    for name, blob, kid in session.execute(
        select(LedgerCosignature.key_id, LedgerCosignature.signature, LedgerCosignature.note_key_id)
        .where(LedgerCosignature.checkpoint_id == cp.checkpoint_id)
        .order_by(LedgerCosignature.key_id)
    ):
        lines.append(Signature(name, bytes(kid or b""), bytes(blob)))
    return Note(text, tuple(lines)).encode()


def add_cosignatures(session: Session, *, checkpoint_id: int, signatures: list[Signature]) -> int:
    """Store witness cosignatures (already verified by the caller against pinned witness keys)."""
    added = 0
    for sig in signatures:
        if session.get(LedgerCosignature, (checkpoint_id, sig.name)) is not None:
            continue
        session.execute(
            insert(table_of(LedgerCosignature)),
            [
                {
                    "checkpoint_id": checkpoint_id,
                    "key_id": sig.name,
                    "time": str(cosignature_time(sig.blob)),
                    "signature": sig.blob,
                    "note_key_id": sig.key_id,
                }
            ],
        )
        added += 1
    return added


def inclusion_proof(session: Session, *, seq: int, checkpoint_id: int | None = None) -> InclusionProof:
    """Prove event ``seq`` is in its signed batch and in the tree of a checkpoint (default: the
    latest checkpoint that contains it; else the current head, unsigned)."""
    row = session.execute(select(LedgerEvent.hash, LedgerEvent.batch_id).where(LedgerEvent.seq == seq)).one_or_none()
    if row is None:
        raise NotFoundError(f"event seq {seq} does not exist (log size {head(session)[0]})")
    leaf, batch_id = bytes(row[0]), int(row[1])
    if checkpoint_id is not None:
        cp = get_checkpoint(session, checkpoint_id=checkpoint_id)
        if cp.size < seq:
            raise InputError(
                [Problem(f"checkpoint {checkpoint_id} has {cp.size} events; seq {seq} came later", field="checkpoint")]
            )
        size, root, cid = cp.size, cp.root, cp.checkpoint_id
    else:
        cp_row = session.execute(
            select(LedgerCheckpoint.checkpoint_id, LedgerCheckpoint.size, LedgerCheckpoint.root)
            .where(LedgerCheckpoint.size >= seq)
            .order_by(LedgerCheckpoint.checkpoint_id.desc())
            .limit(1)
        ).first()
        if cp_row:
            cid, size, root = int(cp_row[0]), int(cp_row[1]), bytes(cp_row[2])
        else:
            cid, size = None, head(session)[0]
            root = tree(session, size).root()
    t = tree(session, size)
    path = t.inclusion_path(seq - 1)
    batch = session.get(LedgerBatch, batch_id)
    if batch is None:
        raise IntegrityError(
            f"event seq {seq} names batch {batch_id}, which is not stored; run 'coalition ledger verify'"
        )
    seqs, hashes = _batch_leaves(session, batch_id, batch.first_seq, _batch_end(batch))
    if len(hashes) != batch.size:
        raise IntegrityError(
            f"batch {batch_id} has {batch.size} events but {len(hashes)} are stored; run 'coalition ledger verify'"
        )
    if seq not in seqs:
        raise IntegrityError(
            f"event seq {seq} lies outside batch {batch_id}'s signed span; run 'coalition ledger verify'"
        )
    bidx = seqs.index(seq)  # its place among the batch's events (runs: not seq - first)
    return InclusionProof(
        seq,
        leaf,
        size,
        root,
        tuple(path),
        batch_id,
        bidx,
        batch.size,
        bytes(batch.root),
        tuple(path_in(hashes, bidx)),
        cid,
    )


def _batch_end(batch: LedgerBatch) -> int:
    """The last seq of a batch: ``first_seq + size - 1``, or the end of its last run."""
    if batch.runs is None:
        return int(batch.first_seq) + int(batch.size) - 1
    try:
        start, length = json.loads(batch.runs)[-1]
        return int(start) + int(length) - 1
    except (ValueError, TypeError, IndexError, KeyError):
        raise IntegrityError(
            f"batch {batch.batch_id} has malformed runs {batch.runs!r}; run 'coalition ledger verify'"
        ) from None


def _batch_leaves(session: Session, batch_id: int, first: int, last: int) -> tuple[list[int], list[bytes]]:
    """The seqs and leaf hashes of a batch's events in seq order, straight from the driver (a
    proof reads up to 1,000 of them; ORM rows cost more than the proof's hashing). Read from
    the batch's seq span on the primary key (``ledger_event.batch_id`` has no index: ledger_0008),
    keeping the rows of this batch (a non-contiguous batch's span holds others' events too)."""
    m = "?" if session.connection().dialect.paramstyle == "qmark" else "%s"
    cur = raw_cursor(session)
    try:
        cur.execute(
            f"SELECT seq, hash FROM ledger_event WHERE seq >= {m} AND seq <= {m} AND batch_id = {m} ORDER BY seq",
            (first, last, batch_id),
        )
        rows = cur.fetchall()
    finally:
        cur.close()
    return [int(r[0]) for r in rows], [bytes(r[1]) for r in rows]


def consistency_proof(session: Session, *, first: int, second: int) -> list[bytes]:
    size = head(session)[0]
    if not 0 <= first <= second <= size:
        raise InputError([Problem(f"need 0 <= first <= second <= {size}, got {first}, {second}", field="first/second")])
    return tree(session, second).consistency_path(first)
