"""Write a bundle that ``coalition-verify`` checks offline (format in coalition.ledger.verifier).

A full bundle holds every event. A donor bundle holds only the events that touch the donor's
items (serials and lots whose title the donor holds), plus for each an inclusion proof into its
signed batch and into the latest checkpoint, so the donor can check its own history without
seeing other nations' data.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from coalition.errors import InputError, Problem
from coalition.ledger.checkpoints import (
    checkpoint_note,
    checkpoints,
    consistency_proof,
    inclusion_proof,
    make_checkpoint,
)
from coalition.ledger.keyevents import key_events, trust_from_keyring
from coalition.ledger.keys import KeyRing
from coalition.ledger.models import LedgerBatch, LedgerEvent, LedgerEventRef, LedgerSignature
from coalition.ledger.trust import Trust
from coalition.ledger.verifier import BUNDLE_FORMAT
from coalition.ledger.verify import batch_row


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, sort_keys=True, separators=(",", ":")) + "\n")


BUNDLE_FILES = ("bundle.json", "keylog.jsonl", "events.jsonl", "batches.jsonl", "checkpoints.jsonl",
                "consistency.jsonl", "proofs.jsonl", "heads.jsonl", "trust.json")


def export_bundle(session: Session, *, directory: Path, keyring: KeyRing, donor: str | None = None,
                  now: str | None = None, trust: Trust | None = None) -> dict[str, object]:
    """Write the bundle into ``directory`` atomically: everything is written into a temporary
    folder beside it, which is renamed into place only when complete. An existing bundle there is
    replaced; a folder holding anything else is refused. Makes a checkpoint of the current head
    first if none covers it."""
    directory = Path(directory)
    if directory.exists():
        if not directory.is_dir():
            raise InputError([Problem("exists and is not a folder", file=str(directory))])
        foreign = sorted(p.name for p in directory.iterdir() if p.name not in BUNDLE_FILES)
        if foreign:
            raise InputError([Problem(f"folder holds files that are not part of a bundle ({', '.join(foreign[:5])})",
                                      file=str(directory), hint="export into a new or empty folder")])
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", suffix=".partial", dir=directory.parent))
    try:
        meta = _write_bundle(session, tmp, keyring=keyring, donor=donor, now=now,
                             trust=trust or trust_from_keyring(keyring))
        if directory.exists():
            old = directory.with_name(f".{directory.name}.old-{os.getpid()}")
            os.rename(directory, old)
            os.rename(tmp, directory)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, directory)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return meta


def _write_bundle(session: Session, directory: Path, *, keyring: KeyRing, donor: str | None,
                  now: str | None, trust: Trust) -> dict[str, object]:
    top = make_checkpoint(session, keyring=keyring, now=now, origin=trust.origin)
    if donor is not None:
        known = set(session.scalars(select(LedgerEventRef.ref).where(LedgerEventRef.ref == f"T:{donor}").limit(1)))
        if not known:
            raise InputError([Problem(f"no events concern items donated by {donor}", field="donor",
                                      hint="a donor is the ISO alpha-3 code of the title-holding nation")])
    if donor is None:
        seqs = None
        q = select(LedgerEvent.seq, LedgerEvent.body, LedgerEvent.batch_id).where(LedgerEvent.seq <= top.size)
    else:
        seqs = select(LedgerEventRef.seq).where(LedgerEventRef.ref == f"T:{donor}", LedgerEventRef.seq <= top.size)
        q = select(LedgerEvent.seq, LedgerEvent.body, LedgerEvent.batch_id).where(LedgerEvent.seq.in_(seqs))
    rows = session.execute(q.order_by(LedgerEvent.seq)).all()
    with (directory / "events.jsonl").open("w", encoding="utf-8") as fh:
        for _, body, _ in rows:
            fh.write(body + "\n")
    batch_ids = sorted({int(r[2]) for r in rows})
    sigs: dict[int, list[dict]] = {}
    bq = select(LedgerBatch).order_by(LedgerBatch.first_seq).where(LedgerBatch.first_seq <= top.size)
    sq = select(LedgerSignature)
    if donor is not None:
        bq = bq.where(LedgerBatch.batch_id.in_(batch_ids))
        sq = sq.where(LedgerSignature.batch_id.in_(batch_ids))
    for sg in session.scalars(sq):
        sigs.setdefault(sg.batch_id, []).append(
            {"role": sg.role, "key_id": sg.key_id, "signature": bytes(sg.signature).hex()})
    _write_jsonl(directory / "batches.jsonl", [
        batch_row(b, sorted(sigs.get(b.batch_id, []), key=lambda x: x["role"])) for b in session.scalars(bq)
    ])
    _write_jsonl(directory / "keylog.jsonl", key_events(session))
    cps = [c for c in checkpoints(session) if c.size <= top.size and c.key_id == trust.origin]
    _write_jsonl(directory / "checkpoints.jsonl", [
        {"checkpoint_id": c.checkpoint_id, "note": checkpoint_note(session, c, public_key=trust.log_key.public_key)}
        for c in cps])
    by_size = sorted({c.size for c in cps})
    _write_jsonl(directory / "consistency.jsonl", [
        {"first": a, "second": b, "path": [h.hex() for h in consistency_proof(session, first=a, second=b)]}
        for a, b in zip(by_size, by_size[1:], strict=False)
    ])
    proofs_path = directory / "proofs.jsonl"
    if donor is not None:
        _write_jsonl(proofs_path, [
            inclusion_proof(session, seq=int(seq), checkpoint_id=top.checkpoint_id).as_dict() for seq, _, _ in rows
        ])
    (directory / "trust.json").write_text(trust.to_json(), "utf-8")
    meta = {"format": BUNDLE_FORMAT, "scope": "full" if donor is None else f"donor:{donor}",
            "checkpoint": top.checkpoint_id, "tree_size": top.size, "events": len(rows),
            "note": "verify with a trust file obtained out of band: coalition-verify DIR --trust FILE"}
    (directory / "bundle.json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n", "utf-8")
    return meta
