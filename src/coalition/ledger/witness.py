"""An independent witness (C2SP tlog-witness ``add-checkpoint``) with its own state store.

The witness keeps, in ITS OWN SQLite file (never the log operator's database), the latest
checkpoint it cosigned for each log origin it is configured to trust. It cosigns a new checkpoint
only if the log's signature verifies and a consistency proof from that stored checkpoint does —
so a log that rolled back its tail, or shows another history of the same size (a split view),
gets 409/422 and no cosignature; such requests are recorded as evidence. The check and the
update of the stored checkpoint are one ``BEGIN IMMEDIATE`` transaction (the race the spec
describes cannot roll the state back).

The HTTP front end is ``coalition witness`` (:mod:`coalition.cli.witness_cmds`). The protocol
core here is pure apart from the state file; it uses only the standard library, ``cryptography``
and the package's C2SP note and RFC 6962 modules.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import sqlite3
import time as _time
from dataclasses import dataclass
from pathlib import Path

from coalition.ledger.notes import (
    SIG_COSIGNATURE_V1,
    CheckpointBody,
    Note,
    NoteError,
    Signature,
    Verifier,
    cosignature_blob,
    cosignature_message,
    parse_checkpoint,
    parse_note,
    verified_by,
)
from coalition.ledger.rfc6962 import verify_consistency
from coalition.ledger.signers import Signer

EMPTY_ROOT = hashlib.sha256(b"").digest()
MAX_PROOF = 63


@dataclass(frozen=True)
class Outcome:
    status: int  # HTTP status
    body: str
    content_type: str = "text/plain; charset=utf-8"


class WitnessState:
    """The witness's own store: latest cosigned checkpoint per origin, and rejected requests."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS latest (origin TEXT PRIMARY KEY, size INTEGER NOT NULL,"
                " root BLOB NOT NULL, note TEXT NOT NULL, cosigned_at INTEGER NOT NULL)"
            )
            db.execute(
                "CREATE TABLE IF NOT EXISTS evidence (id INTEGER PRIMARY KEY, origin TEXT, at INTEGER,"
                " status INTEGER, reason TEXT, request TEXT)"
            )

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")  # a cosigned size is never forgotten after answering
        return db

    def latest(self, origin: str) -> tuple[int, bytes, str] | None:
        with self._connect() as db:
            row = db.execute("SELECT size, root, note FROM latest WHERE origin = ?", (origin,)).fetchone()
        return (int(row[0]), bytes(row[1]), str(row[2])) if row else None

    def evidence(self) -> list[tuple[str, int, str]]:
        with self._connect() as db:
            rows = db.execute("SELECT origin, status, reason FROM evidence ORDER BY id")
            return [(r[0], int(r[1]), r[2]) for r in rows]


class Witness:
    def __init__(self, *, name: str, signer: Signer, logs: list[Verifier], state: WitnessState) -> None:
        self.name = name
        self.signer = signer
        self.verifier = Verifier(name, SIG_COSIGNATURE_V1, signer.public_key())
        self.logs: dict[str, list[Verifier]] = {}
        for v in logs:
            self.logs.setdefault(v.name, []).append(v)
        self.state = state

    def vkey(self) -> str:
        return self.verifier.vkey()

    # -- add-checkpoint ---------------------------------------------------------------------
    def add_checkpoint(self, body: bytes, *, now: int | None = None) -> Outcome:
        req = _read_request(body)
        if isinstance(req, Outcome):
            return req
        old, proof, note, cp, text = req
        keys = self.logs.get(cp.origin)
        if keys is None:
            return Outcome(404, f"unknown log origin {cp.origin}\n")
        results = [verified_by(note, k) for k in keys]
        if False in results or True not in results:
            return self._refuse(cp.origin, 403, "no valid signature from a trusted key of this log", text)
        if old > cp.size:
            return Outcome(400, f"old size {old} is larger than the checkpoint size {cp.size}\n")
        if cp.size == 0 and cp.root != EMPTY_ROOT:
            return self._refuse(cp.origin, 422, "a tree of size 0 must have the empty root", text)
        db = self.state._connect()
        try:
            db.execute("BEGIN IMMEDIATE")  # check-and-update atomically (tlog-witness race)
            refused = _against_cosigned(db, old, proof, note, cp)
            if refused is not None:
                db.execute("ROLLBACK")  # before the evidence is written on its own connection
                answer, evidence = refused
                if evidence is not None:
                    self._evidence(cp.origin, answer.status, evidence, text)
                return answer
            ts = int(now if now is not None else _time.time())
            sig = self.signer.sign(cosignature_message(note.text, ts))
            line = Signature(self.name, self.verifier.key_id, cosignature_blob(ts, sig))
            stored = note.text + "\n" + "".join(s.line() for s in note.signatures if s.name != self.name) + line.line()
            db.execute(
                "INSERT INTO latest (origin, size, root, note, cosigned_at) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT(origin) DO UPDATE SET size = excluded.size, root = excluded.root,"
                " note = excluded.note, cosigned_at = excluded.cosigned_at",
                (cp.origin, cp.size, cp.root, stored, ts),
            )
            db.execute("COMMIT")  # persisted before answering
            return Outcome(200, line.line())
        finally:
            db.close()

    def get_checkpoint(self, origin_hash: str) -> Outcome:
        for origin in self.logs:
            if hashlib.sha256(origin.encode("utf-8")).hexdigest() == origin_hash:
                got = self.state.latest(origin)
                if got is None:
                    break
                return Outcome(200, got[2])
        return Outcome(404, "no checkpoint cosigned for that log\n")

    def _refuse(self, origin: str, status: int, reason: str, request: str) -> Outcome:
        self._evidence(origin, status, reason, request)
        return Outcome(status, reason + "\n")

    def _evidence(self, origin: str, status: int, reason: str, request: str) -> None:
        with self.state._connect() as db:
            db.execute(
                "INSERT INTO evidence (origin, at, status, reason, request) VALUES (?, ?, ?, ?, ?)",
                (origin, int(_time.time()), status, reason, request[:100_000]),
            )


def _against_cosigned(
    db: sqlite3.Connection, old: int, proof: list[bytes], note: Note, cp: CheckpointBody
) -> tuple[Outcome, str | None] | None:
    """Inside the transaction: None if the checkpoint extends the latest one cosigned for its
    log, else (the answer, the reason to keep as evidence or None); the caller rolls back."""
    row = db.execute("SELECT size, root, note FROM latest WHERE origin = ?", (cp.origin,)).fetchone()
    stored_size, stored_root = (int(row[0]), bytes(row[1])) if row else (0, EMPTY_ROOT)
    stored_text = _note_text(str(row[2])) if row else None
    if old != stored_size:
        # a log that knew a later size now claims an older one
        rollback = f"old size {old} below the cosigned {stored_size}: rollback?" if 0 < old < stored_size else None
        return Outcome(409, f"{stored_size}\n", "text/x.tlog.size"), rollback
    reason = None
    if old == 0:
        if proof:
            reason = "old size 0 needs an empty proof"
    elif old == cp.size:
        if cp.root != stored_root or proof:
            reason = f"SPLIT VIEW: a second tree of size {old} with another root"
        elif stored_text is not None and note.text != stored_text:
            # same tree, other extension lines (e.g. another nation-heads commitment)
            reason = f"SPLIT VIEW: a second checkpoint of size {old} with other extension lines"
    elif not verify_consistency(old, cp.size, stored_root, cp.root, proof):
        reason = f"not consistent with the cosigned tree of size {old}: a rewritten history (split view or rollback)"
    return None if reason is None else (Outcome(422, reason + "\n"), reason)


def _read_request(body: bytes) -> tuple[int, list[bytes], Note, CheckpointBody, str] | Outcome:
    """(old size, consistency proof, note, checkpoint, request text) of an add-checkpoint
    request, or the 400 answer to it."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return Outcome(400, "request is not UTF-8\n")
    head, sep, note_text = text.partition("\n\n")
    if not sep:
        return Outcome(400, "expected an old-size line, proof lines, an empty line, then the checkpoint\n")
    lines = head.split("\n")
    if not lines[0].startswith("old ") or not _decimal(lines[0][4:]):
        return Outcome(400, "first line must be 'old <size>'\n")
    old = int(lines[0][4:])
    if len(lines) - 1 > MAX_PROOF:
        return Outcome(400, f"more than {MAX_PROOF} consistency proof lines\n")
    try:
        proof = [_b64_hash(x) for x in lines[1:]]
        note = parse_note(note_text)
        cp = parse_checkpoint(note.text)
    except (NoteError, ValueError) as exc:
        return Outcome(400, f"{exc}\n")
    return old, proof, note, cp, text


def _note_text(stored: str) -> str | None:
    try:
        return parse_note(stored).text
    except NoteError:
        return None


def _decimal(s: str) -> bool:
    return s.isascii() and s.isdigit() and (s == "0" or not s.startswith("0"))


def _b64_hash(s: str) -> bytes:
    try:
        raw = base64.b64decode(s, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"proof line {s[:20]!r} is not base64") from None
    if len(raw) != 32:
        raise ValueError("proof line is not a 32-byte hash")
    return raw


def add_checkpoint_request(old: int, proof: list[bytes], note: str) -> bytes:
    """The tlog-witness request body: old size, proof lines, an empty line, the checkpoint."""
    head = f"old {old}\n" + "".join(base64.b64encode(h).decode() + "\n" for h in proof)
    return (head + "\n" + note).encode("utf-8")
