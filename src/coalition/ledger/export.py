"""Write a bundle that ``coalition-verify`` checks offline (format in coalition.ledger.bundle).

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
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from coalition.errors import InputError, IntegrityError, Problem
from coalition.ledger.canonical import BUNDLE_FORMAT
from coalition.ledger.checkpoints import (
    checkpoint_note,
    checkpoints,
    consistency_proof,
    inclusion_proof,
    make_checkpoint,
    nation_heads,
)
from coalition.ledger.checks import BatchSignature
from coalition.ledger.keyevents import key_events, trust_from_keyring
from coalition.ledger.keys import KeyRing
from coalition.ledger.merkle import ListHashes, Tree
from coalition.ledger.models import LedgerBatch, LedgerEvent, LedgerEventRef, LedgerNationHead, LedgerSignature
from coalition.ledger.nationheads import heads_leaves
from coalition.ledger.trust import Trust
from coalition.ledger.verify import batch_row

#: (seq, body, batch id) of a stored event
_EventRow = Row[int, str, int]


def _chain_counter(body: str, donor: str) -> int | None:
    link = json.loads(body).get("chain", {}).get(donor)
    return int(link[0]) if isinstance(link, list) and link else None


def _complete(
    session: Session, rows: Sequence[_EventRow], donor: str, size: int
) -> tuple[Sequence[_EventRow], list[int]]:
    """The donor's events as its signed chain demands. The selection by ``ledger_event_ref`` is an
    unhashed index; if the counters it yields are not exactly 1..head, the log itself is searched
    for the donor's chain links (slow, but an index row deleted by mistake or on purpose can no
    longer hide an event from the donor)."""
    head = session.get(LedgerNationHead, donor)
    want = int(head.counter) if head is not None and int(head.last_seq) <= size else None
    counters = [_chain_counter(r[1], donor) for r in rows]
    if want is not None and counters == list(range(1, want + 1)):
        return rows, []
    pattern = f'{{"chain":{{%"{donor}":[%'
    scan = session.execute(
        select(LedgerEvent.seq, LedgerEvent.body, LedgerEvent.batch_id)
        .where(LedgerEvent.seq <= size, LedgerEvent.body.like(pattern))
        .order_by(LedgerEvent.seq)
    ).all()
    found = [r for r in scan if _chain_counter(r[1], donor) is not None]
    have = {int(r[0]) for r in rows}
    merged = sorted({int(r[0]): r for r in [*rows, *found]}.values(), key=lambda r: int(r[0]))
    got = [_chain_counter(r[1], donor) for r in merged if _chain_counter(r[1], donor) is not None]
    if want is not None and got != list(range(1, want + 1)):
        missing = next((i for i, c in enumerate(got, 1) if c != i), len(got) + 1)
        raise IntegrityError(
            f"{donor}'s chain in the log is broken at counter {missing}: the log lost an event;"
            " run 'coalition ledger verify'"
        )
    return merged, sorted(int(r[0]) for r in found if int(r[0]) not in have)


def _head_entry(session: Session, donor: str) -> dict[str, object]:
    """The donor's leaf in the nation-heads map the checkpoint just made (or found) at the current
    size commits to, with its Merkle path: the end of the donor's chain as the witnessed
    checkpoint fixes it (docs/ledger.md, completeness). Other nations' heads stay out."""
    heads = nation_heads(session)
    names = sorted(heads)
    index = names.index(donor)
    leaves = heads_leaves(heads)
    counter, last, _ = heads[donor]
    return {
        "nation": donor,
        "counter": counter,
        "last_hash": last.hex(),
        "index": index,
        "count": len(leaves),
        "path": [h.hex() for h in Tree(ListHashes(leaves), len(leaves)).inclusion_path(index)],
    }


def _write_jsonl(path: Path, rows: Iterable[Mapping[str, object]]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, sort_keys=True, separators=(",", ":")) + "\n")


BUNDLE_FILES = (
    "bundle.json",
    "keylog.jsonl",
    "events.jsonl",
    "batches.jsonl",
    "checkpoints.jsonl",
    "consistency.jsonl",
    "proofs.jsonl",
    "heads.jsonl",
    "trust.json",
)


def export_bundle(
    session: Session,
    *,
    directory: Path,
    keyring: KeyRing,
    donor: str | None = None,
    now: str | None = None,
    trust: Trust | None = None,
) -> dict[str, object]:
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
            raise InputError(
                [
                    Problem(
                        f"folder holds files that are not part of a bundle ({', '.join(foreign[:5])})",
                        file=str(directory),
                        hint="export into a new or empty folder",
                    )
                ]
            )
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", suffix=".partial", dir=directory.parent))
    try:
        meta = _write_bundle(
            session, tmp, keyring=keyring, donor=donor, now=now, trust=trust or trust_from_keyring(keyring)
        )
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


def _write_bundle(
    session: Session, directory: Path, *, keyring: KeyRing, donor: str | None, now: str | None, trust: Trust
) -> dict[str, object]:
    top = make_checkpoint(session, keyring=keyring, now=now, origin=trust.origin)
    if donor is not None and session.get(LedgerNationHead, donor) is None:
        raise InputError(
            [
                Problem(
                    f"no events concern items donated by {donor}",
                    field="donor",
                    hint="a donor is the ISO alpha-3 code of the title-holding nation",
                )
            ]
        )
    if donor is None:
        seqs = None
        q = select(LedgerEvent.seq, LedgerEvent.body, LedgerEvent.batch_id).where(LedgerEvent.seq <= top.size)
    else:
        seqs = select(LedgerEventRef.seq).where(LedgerEventRef.ref == f"T:{donor}", LedgerEventRef.seq <= top.size)
        q = select(LedgerEvent.seq, LedgerEvent.body, LedgerEvent.batch_id).where(LedgerEvent.seq.in_(seqs))
    rows = session.execute(q.order_by(LedgerEvent.seq)).all()
    head_entry = None
    recovered: list[int] = []
    if donor is not None:
        rows, recovered = _complete(session, rows, donor, top.size)
        head_entry = _head_entry(session, donor)  # top.size is the current size (make_checkpoint)
    with (directory / "events.jsonl").open("w", encoding="utf-8") as fh:
        for _, body, _ in rows:
            fh.write(body + "\n")
    batch_ids = sorted({int(r[2]) for r in rows})
    sigs: dict[int, list[BatchSignature]] = {}
    bq = select(LedgerBatch).order_by(LedgerBatch.first_seq).where(LedgerBatch.first_seq <= top.size)
    sq = select(LedgerSignature)
    if donor is not None:
        bq = bq.where(LedgerBatch.batch_id.in_(batch_ids))
        sq = sq.where(LedgerSignature.batch_id.in_(batch_ids))
    for sg in session.scalars(sq):
        sigs.setdefault(sg.batch_id, []).append(
            {"role": sg.role, "key_id": sg.key_id, "signature": bytes(sg.signature).hex()}
        )
    _write_jsonl(
        directory / "batches.jsonl",
        [batch_row(b, sorted(sigs.get(b.batch_id, []), key=lambda x: x["role"])) for b in session.scalars(bq)],
    )
    _write_jsonl(directory / "keylog.jsonl", key_events(session))
    cps = [c for c in checkpoints(session) if c.size <= top.size and c.key_id == trust.origin]
    _write_jsonl(
        directory / "checkpoints.jsonl",
        [
            {"checkpoint_id": c.checkpoint_id, "note": checkpoint_note(session, c, public_key=trust.log_key.public_key)}
            for c in cps
        ],
    )
    by_size = sorted({c.size for c in cps})
    _write_jsonl(
        directory / "consistency.jsonl",
        [
            {"first": a, "second": b, "path": [h.hex() for h in consistency_proof(session, first=a, second=b)]}
            for a, b in zip(by_size, by_size[1:], strict=False)
        ],
    )
    proofs_path = directory / "proofs.jsonl"
    if donor is not None:
        _write_jsonl(
            proofs_path,
            [inclusion_proof(session, seq=int(seq), checkpoint_id=top.checkpoint_id).as_dict() for seq, _, _ in rows],
        )
    if head_entry is not None:
        _write_jsonl(directory / "heads.jsonl", [head_entry])
    (directory / "trust.json").write_text(trust.to_json(), "utf-8")
    meta = {
        "format": BUNDLE_FORMAT,
        "scope": "full" if donor is None else f"donor:{donor}",
        "checkpoint": top.checkpoint_id,
        "tree_size": top.size,
        "events": len(rows),
        "note": "verify with a trust file obtained out of band: coalition-verify DIR --trust FILE",
    }
    if recovered:
        meta["recovered_from_log"] = recovered  # events the (unhashed) reference index had lost
    (directory / "bundle.json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n", "utf-8")
    return meta
