"""The log's side of tlog-witness: submit a checkpoint to each witness, keep verified cosignatures.

A witness answers 409 with the size it last cosigned; the log then sends a consistency proof from
that size (it never learns the witness's state from its own database). Cosignatures are checked
against the witness keys pinned in the trust file before they are stored.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from coalition.errors import InputError, Problem
from coalition.ledger.checkpoints import add_cosignatures, checkpoint_note, consistency_proof, get_checkpoint
from coalition.ledger.notes import Note, NoteError, parse_note, parse_signature_line, parse_vkey, verified_by
from coalition.ledger.trust import Trust
from coalition.ledger.witness import add_checkpoint_request
from coalition.store.db import transaction

TIMEOUT_S = 10


def _post(url: str, body: bytes) -> tuple[int, str]:
    req = urllib.request.Request(
        url.rstrip("/") + "/add-checkpoint",
        data=body,
        method="POST",
        headers={"Content-Type": "text/plain; charset=utf-8"},
    )
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT_S) as resp:  # noqa: S310 - configured witness URL
            return resp.status, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


def submit(factory: sessionmaker[Session], *, trust: Trust, checkpoint_id: int, vkey: str, url: str) -> str:
    """Ask one witness to cosign; returns what happened (stored cosignatures only if they verify)."""
    try:
        wkey = parse_vkey(vkey)
    except NoteError as exc:
        raise InputError([Problem(str(exc), field="COALITION_WITNESSES")]) from None
    with transaction(factory) as s:
        cp = get_checkpoint(s, checkpoint_id=checkpoint_id)
        note = checkpoint_note(s, cp, public_key=trust.log_key.public_key)
    old = 0
    for _ in range(2):  # first try old=0; a 409 says the witness's size, then prove from it
        with transaction(factory) as s:
            proof = consistency_proof(s, first=old, second=cp.size) if 0 < old < cp.size else []
        try:
            status, body = _post(url, add_checkpoint_request(old, proof, note))
        except (urllib.error.URLError, OSError) as exc:
            return f"{wkey.name}: unreachable at {url} ({exc})"
        if status == 409:
            text = body.strip()
            if not text.isdigit():
                return f"{wkey.name}: 409 without a size"
            old = int(text)
            if old > cp.size:
                return f"{wkey.name}: has cosigned a larger tree ({old}) than this checkpoint ({cp.size}): refused"
            continue
        if status != 200:
            return f"{wkey.name}: refused with {status}: {body.strip()[:300]}"
        try:
            sigs = [parse_signature_line(ln) for ln in body.splitlines() if ln]
            combined = Note(parse_note(note).text, tuple(sigs))
        except NoteError as exc:
            return f"{wkey.name}: malformed answer ({exc})"
        if verified_by(combined, wkey) is not True:
            return f"{wkey.name}: returned no valid cosignature by its pinned key"
        mine = [x for x in sigs if x.name == wkey.name and x.key_id == wkey.key_id]
        with transaction(factory) as s:
            add_cosignatures(s, checkpoint_id=checkpoint_id, signatures=mine)
        return f"{wkey.name}: cosigned checkpoint {checkpoint_id} (size {cp.size})"
    return f"{wkey.name}: could not agree on the old size"


def request_cosignatures(
    factory: sessionmaker[Session],
    *,
    trust: Trust,
    checkpoint_id: int,
    witnesses: list[str],
    report: Callable[[str], object] = print,
) -> list[str]:
    """``witnesses``: entries 'VKEY URL' (settings COALITION_WITNESSES)."""
    out = []
    for entry in witnesses:
        parts = entry.split()
        if len(parts) != 2:
            raise InputError([Problem(f"witness entry {entry!r}", field="COALITION_WITNESSES", hint="'VKEY URL'")])
        msg = submit(factory, trust=trust, checkpoint_id=checkpoint_id, vkey=parts[0], url=parts[1])
        report(msg)
        out.append(msg)
    return out
