"""Verify the audit log as stored: the chain entry by entry, then every checkpoint's root and
signature against the chain. Reads only; never trusts ``audit_head``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from coalition.audit import chain
from coalition.audit.models import AuditCheckpoint, AuditEntry, AuditHead
from coalition.ledger.checks import check_signature

BATCH = 5_000


@dataclass
class Report:
    entries: int = 0
    checkpoints: int = 0
    signed_checkpoints: int = 0
    first: str | None = None  # the first problem, naming the entry (or checkpoint)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # not failures (e.g. an unpinned key)

    @property
    def ok(self) -> bool:
        return not self.problems

    def fail(self, message: str) -> None:
        if self.first is None:
            self.first = message
        self.problems.append(message)


def _entries(session: Session) -> Iterator[AuditEntry]:
    last = 0
    while True:
        rows = list(
            session.scalars(select(AuditEntry).where(AuditEntry.seq > last).order_by(AuditEntry.seq).limit(BATCH))
        )
        if not rows:
            return
        yield from rows
        last = rows[-1].seq or last


def verify_log(session: Session, *, public_keys: dict[str, bytes] | None = None) -> Report:
    """``public_keys``: key id -> Ed25519 public key, pinned by the caller (e.g. read from the
    operator's key file); a signed checkpoint whose key is not pinned is reported, not trusted."""
    report = Report()
    hashes: list[str] = []
    broken = chain.first_break(_track(session, hashes))
    report.entries = len(hashes)
    if broken is not None:
        report.fail(str(broken))
        return report
    unchained = session.scalars(
        select(AuditEntry.id).where(AuditEntry.seq.is_(None)).order_by(AuditEntry.id).limit(1)
    ).first()
    if unchained is not None:
        report.fail(f"entry id {unchained}: not in the chain (no seq): inserted behind its back")
    for cp in session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.id)):
        report.checkpoints += 1
        if cp.size > len(hashes):
            report.fail(
                f"checkpoint {cp.id}: covers {cp.size} entries but the chain has "
                f"{len(hashes)} (entries were deleted from the end)"
            )
            continue
        root = chain.tree(hashes[: cp.size]).root()
        if root != bytes(cp.root):
            report.fail(f"checkpoint {cp.id}: root over entries 1..{cp.size} does not match (the chain was rewritten)")
        if cp.signature is not None:
            from coalition.audit.service import statement

            key = (public_keys or {}).get(cp.key_id)
            if key is None:
                report.notes.append(
                    f"checkpoint {cp.id}: signed by '{cp.key_id}', whose "
                    "public key was not given; signature not checked"
                )
            elif not check_signature(key, bytes(cp.signature), statement(cp.size, bytes(cp.root), cp.time)):
                report.fail(f"checkpoint {cp.id}: signature by '{cp.key_id}' does not verify")
            else:
                report.signed_checkpoints += 1
    head = session.get(AuditHead, 1)
    if head is not None and head.seq != len(hashes):
        report.fail(
            f"entry seq {len(hashes) + 1}: missing; the chain head records {head.seq} "
            "entries (entries were deleted from the end)"
        )
    return report


def _track(session: Session, hashes: list[str]) -> Iterator[AuditEntry]:
    for e in _entries(session):
        hashes.append(e.entry_hash or "")
        yield e
