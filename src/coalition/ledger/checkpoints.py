"""Signed checkpoints, witness cosignatures, inclusion and consistency proofs."""

from __future__ import annotations

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from coalition.errors import ConflictError, InputError, IntegrityError, NotFoundError, Problem
from coalition.ledger.keys import OPERATOR_KEY_ID, KeyRing, utc_now
from coalition.ledger.merkle import ListHashes, Tree
from coalition.ledger.models import LedgerBatch, LedgerCheckpoint, LedgerCosignature, LedgerEvent, LedgerKey
from coalition.ledger.schemas import Checkpoint, InclusionProof
from coalition.ledger.service import head, tree
from coalition.ledger.verifier import check_signature, checkpoint_statement, verify_consistency


def _row_to_cp(session: Session, row: LedgerCheckpoint) -> Checkpoint:
    cos = tuple(session.scalars(
        select(LedgerCosignature.key_id).where(LedgerCosignature.checkpoint_id == row.checkpoint_id)
        .order_by(LedgerCosignature.key_id)))
    return Checkpoint(row.checkpoint_id, row.size, bytes(row.root), row.time, row.key_id, bytes(row.signature), cos)


def make_checkpoint(session: Session, *, keyring: KeyRing, now: str | None = None) -> Checkpoint:
    """Sign (with the log operator's key) the root of the whole log as it stands now."""
    size, _ = head(session)
    last = latest_checkpoint(session)
    if last is not None and last.size == size:
        return last
    root = tree(session, size).root()
    time = now or utc_now()
    sig = keyring.sign(OPERATOR_KEY_ID, checkpoint_statement(log=OPERATOR_KEY_ID, size=size, root=root, time=time))
    cid = (session.scalar(select(func.max(LedgerCheckpoint.checkpoint_id))) or 0) + 1
    session.execute(insert(LedgerCheckpoint.__table__), [{
        "checkpoint_id": cid, "size": size, "root": root, "time": time,
        "key_id": OPERATOR_KEY_ID, "signature": sig}])
    return Checkpoint(cid, size, root, time, OPERATOR_KEY_ID, sig)


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


def cosign_checkpoint(session: Session, *, checkpoint_id: int, key_id: str, keyring: KeyRing,
                      now: str | None = None) -> None:
    """A witness nation cosigns a checkpoint after checking it: the operator's signature, the
    root against the stored tree, and that it extends the last checkpoint this witness cosigned
    (a consistency proof), so the operator cannot show the witness two different histories."""
    cp = get_checkpoint(session, checkpoint_id=checkpoint_id)
    keys = {k.key_id: k for k in session.scalars(select(LedgerKey))}
    op = keys.get(cp.key_id)
    msg = checkpoint_statement(log=cp.key_id, size=cp.size, root=cp.root, time=cp.time)
    if op is None or not check_signature(bytes(op.public_key), cp.signature, msg):
        raise IntegrityError(f"checkpoint {checkpoint_id}: operator signature does not verify")
    if key_id not in keys or keys[key_id].kind != "nation":
        raise InputError([Problem(f"'{key_id}' is not a registered nation key", field="witness")])
    if tree(session, cp.size).root() != cp.root:
        raise IntegrityError(f"checkpoint {checkpoint_id}: root does not match the stored log")
    prev_id = session.scalar(
        select(func.max(LedgerCosignature.checkpoint_id)).where(LedgerCosignature.key_id == key_id))
    if prev_id is not None:
        prev = get_checkpoint(session, checkpoint_id=prev_id)
        if prev.size > cp.size:
            raise ConflictError(f"witness {key_id} already cosigned a larger tree ({prev.size})")
        path = tree(session, cp.size).consistency_path(prev.size)
        if not verify_consistency(prev.size, cp.size, prev.root, cp.root, path):
            raise IntegrityError(f"checkpoint {checkpoint_id} does not extend checkpoint {prev_id}")
    if session.get(LedgerCosignature, (checkpoint_id, key_id)) is not None:
        return
    session.execute(insert(LedgerCosignature.__table__), [{
        "checkpoint_id": checkpoint_id, "key_id": key_id, "time": now or utc_now(),
        "signature": keyring.sign(key_id, msg)}])


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
            raise InputError([Problem(f"checkpoint {checkpoint_id} has {cp.size} events; seq {seq} came later",
                                      field="checkpoint")])
        size, root, cid = cp.size, cp.root, cp.checkpoint_id
    else:
        cp_row = session.execute(
            select(LedgerCheckpoint.checkpoint_id, LedgerCheckpoint.size, LedgerCheckpoint.root)
            .where(LedgerCheckpoint.size >= seq).order_by(LedgerCheckpoint.checkpoint_id.desc()).limit(1)
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
        raise IntegrityError(f"event seq {seq} names batch {batch_id}, which is not stored; run 'coalition ledger verify'")
    leaves = list(session.scalars(
        select(LedgerEvent.hash).where(LedgerEvent.batch_id == batch_id).order_by(LedgerEvent.seq)))
    bt = Tree(ListHashes([bytes(x) for x in leaves]), batch.size)
    bidx = seq - batch.first_seq
    return InclusionProof(seq, leaf, size, root, tuple(path), batch_id, bidx, batch.size,
                          bytes(batch.root), tuple(bt.inclusion_path(bidx)), cid)


def consistency_proof(session: Session, *, first: int, second: int) -> list[bytes]:
    size = head(session)[0]
    if not 0 <= first <= second <= size:
        raise InputError([Problem(f"need 0 <= first <= second <= {size}, got {first}, {second}",
                                  field="first/second")])
    return tree(session, second).consistency_path(first)
