"""Checking pieces shared by the offline verifier (:mod:`coalition.ledger.bundle`) and the
database verifier (:mod:`coalition.ledger.verify`): findings, the event chain, per-nation chains,
batch statements and their signatures, checkpoints and cosignatures. Standard library and
``cryptography`` only (part of the offline verifier).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NotRequired, TypedDict, TypeGuard

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from coalition.ledger.canonical import GENESIS, HANDOVER_TYPES, BatchStatement, batch_runs, batch_statement
from coalition.ledger.nationheads import ChainHead, checkpoint_heads, heads_commitment
from coalition.ledger.notes import CheckpointBody, NoteError, parse_checkpoint, parse_note, verified_by
from coalition.ledger.rfc6962 import Frontier, merkle_root
from coalition.ledger.trust import KeyLog, Trust, strict_hex

_sha256 = hashlib.sha256

#: what a batch check needs of an event: (nation, counterparty, type) as its body states them
#: (unchecked JSON values when parsed from a body)
EventMeta = tuple[object, object, object]


class BatchSignature(TypedDict):
    """One party's signature on a batch statement (hex)."""

    role: str
    key_id: str
    signature: str


class BatchDict(TypedDict):
    """A signed batch as the verifiers check it: a line of batches.jsonl, or a stored batch
    (:func:`coalition.ledger.verify.batch_row`). ``root`` and ``keys_head`` are hex."""

    batch_id: int
    first_seq: int
    size: int
    nation: str
    counterparty: str | None
    root: str
    keys_size: int | None
    keys_head: str | None
    time: str
    signatures: list[BatchSignature]
    runs: NotRequired[object]  # a non-contiguous batch's signed runs (checked by check_batch)


def is_batch_signature(value: object) -> TypeGuard[BatchSignature]:
    """A JSON object with string ``role``, ``key_id`` and ``signature``."""
    return isinstance(value, dict) and all(isinstance(value.get(k), str) for k in ("role", "key_id", "signature"))


def check_signature(public_key: bytes, signature: bytes, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
        return True
    except (InvalidSignature, ValueError):
        return False


# --------------------------------------------------------------------------------------------
# Findings
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Finding:
    """One thing that failed verification; ``seq`` is the first event it affects, if any."""

    what: str
    message: str
    seq: int | None = None

    def __str__(self) -> str:
        at = f"seq {self.seq}: " if self.seq is not None else ""
        return f"{at}{self.what}: {self.message}"


@dataclass
class Report:
    """What a verification checked (events, batches, signatures, checkpoints, cosignatures,
    proofs) and what it found: ``ok`` when there is no finding."""

    events: int = 0
    batches: int = 0
    signatures: int = 0
    checkpoints: int = 0
    cosignatures: int = 0
    proofs: int = 0
    findings: list[Finding] = field(default_factory=list)
    unpinned: bool = False  # checked against the bundle's own trust file, not a pinned one
    tail_witnessed: bool | None = None  # donor bundles: the chain's end is fixed by a witnessed checkpoint
    warnings: list[str] = field(default_factory=list)  # what verified but proves less than it seems
    diffs: list[object] = field(default_factory=list)  # projection rows that differ (database verify only)
    workers: int = 0  # database verify: worker processes started to check chunks (0: all in this process)
    worker_chunks: int = 0  # ... and the chunks whose worker result was taken (the rest were checked here)

    @property
    def ok(self) -> bool:
        return not self.findings

    def first_bad_seq(self) -> int | None:
        seqs = [f.seq for f in self.findings if f.seq is not None]
        return min(seqs) if seqs else None

    def add(self, what: str, message: str, seq: int | None = None) -> None:
        self.findings.append(Finding(what, message, seq))


class NationChains:
    """Per-nation hash chains inside the log (completeness of donor bundles, docs/ledger.md).

    Every event names, in its signed body, each title-holder nation whose items it affects with
    ``[counter, previous hash]``: the nation's counter goes 1, 2, 3, ... and the previous hash is
    the leaf hash of that nation's previous event (zeros for the first). Missing, repeated or
    relinked counters are reported at the event where the chain breaks."""

    def __init__(self, report: Report) -> None:
        self.report = report
        self.heads: dict[str, ChainHead] = {}  # nation -> (counter, last hash, last seq)

    def add(self, seq: int, chain: object, own: bytes) -> None:
        report = self.report
        if not isinstance(chain, dict):
            report.add("chain", "event has no per-nation chain links", seq)
            return
        for nation, link in chain.items():
            n, h, last = self.heads.get(nation, (0, GENESIS, 0))
            if not (isinstance(link, list) and len(link) == 2 and type(link[0]) is int and isinstance(link[1], str)):
                report.add("chain", f"{nation}'s chain link is malformed", seq)
                self.heads[nation] = (n + 1, own, seq)
                continue
            if link[0] != n + 1:
                report.add(
                    "chain",
                    f"{nation}'s counter jumps from {n} to {link[0]} (counter {n + 1} is missing or repeated)",
                    seq,
                )
            elif link[1] != h.hex():
                report.add(
                    "chain",
                    f"{nation}'s event {link[0]} does not link to its event {n}" + (f" (seq {last})" if last else ""),
                    seq,
                )
            self.heads[nation] = (link[0], own, seq)


# --------------------------------------------------------------------------------------------
# Checking pieces (shared by the database verifier in coalition.ledger.verify)
# --------------------------------------------------------------------------------------------
class ChainChecker:
    """Checks events in sequence order: hash, link to the previous hash, fields, Merkle frontier."""

    def __init__(self, report: Report, *, start_seq: int = 1, prev: bytes = GENESIS) -> None:
        self.report = report
        self.expected_seq = start_seq
        self.prev = prev
        self.frontier = Frontier()
        self.leaves: list[bytes] = []
        self.meta: dict[int, EventMeta] = {}  # seq -> (nation, counterparty, type)
        self.chains = NationChains(report)

    def add(
        self,
        body: bytes,
        stored_hash: bytes | None = None,
        stored: Mapping[str, object] | None = None,
        text: str | None = None,
    ) -> None:
        """``stored`` are the indexed columns kept beside the body; they must agree with it.
        ``text`` is the body already decoded (saves a decode when the caller has it)."""
        report = self.report
        seq = self.expected_seq
        h = _sha256(b"\x00" + body).digest()
        try:
            ev = json.loads(text if text is not None else body)
            if not isinstance(ev, dict):
                raise ValueError("not an object")
        except ValueError as exc:
            report.add("event", f"body is not a JSON object ({exc})", seq)
            ev = {}
        if ev.get("seq") != seq:
            report.add("event", f"expected seq {seq}, body says {ev.get('seq')!r}", seq)
        if ev.get("prev") != self.prev.hex() and seq > 1:
            # event seq recorded another predecessor: the event before it was changed or removed
            report.add(
                "event",
                f"event {seq} recorded a different predecessor: event {seq - 1} was altered, replaced or removed",
                seq - 1,
            )
        elif ev.get("prev") != self.prev.hex():
            report.add("event", "first event does not start from the genesis hash", seq)
        if stored_hash is not None and stored_hash != h:
            report.add("event", "stored hash does not match the event body", seq)
        if stored:
            for name, value in stored.items():
                if ev.get(name) != value:
                    report.add("event", f"stored column '{name}' disagrees with the hashed body", seq)
        self.meta[seq] = (ev.get("nation", ""), ev.get("counterparty"), ev.get("type", ""))
        self.chains.add(seq, ev.get("chain"), h)
        self.leaves.append(h)
        self.frontier.add(h)
        self.prev = h
        self.expected_seq += 1


def runs(batch: BatchDict) -> list[tuple[int, int]]:
    """The runs of a batch's events (:func:`~coalition.ledger.canonical.batch_runs`); malformed
    runs count as ``[(first_seq, size)]`` here (:func:`check_batch` reports them)."""
    first, size = int(batch["first_seq"]), int(batch["size"])
    try:
        return batch_runs(first, size, batch.get("runs"))
    except ValueError:
        return [(first, size)]


def batch_leaves(leaves: Sequence[bytes], batch_runs_: list[tuple[int, int]]) -> list[bytes]:
    """The leaf hashes of a batch's events (``leaves`` are the log's, seq 1 at index 0)."""
    if len(batch_runs_) == 1:
        f, n = batch_runs_[0]
        return list(leaves[f - 1 : f - 1 + n])
    return [h for f, n in batch_runs_ for h in leaves[f - 1 : f - 1 + n]]


def batch_index(batch: BatchDict, seq: int) -> int | None:
    """Position of event ``seq`` among its batch's leaves (None if the batch does not hold it)."""
    i = 0
    for f, n in runs(batch):
        if f <= seq < f + n:
            return i + seq - f
        i += n
    return None


def tile(report: Report, batches: Sequence[BatchDict]) -> int:
    """Every event must be in exactly one batch: the runs of all batches, sorted, must follow
    one another from seq 1 without a gap or an overlap. Returns the last seq they cover."""
    segs = sorted((f, n) for b in batches for f, n in runs(b))
    covered = 0
    for f, n in segs:
        if f != covered + 1:
            report.add("batch", "batches do not cover the log contiguously", min(f, covered + 1))
        covered = max(covered, f + n - 1)
    return covered


def _check_batch_events(
    report: Report, seqs: Sequence[int], meta: Mapping[int, EventMeta], nation: str, counterparty: str | None
) -> None:
    """Every event of a batch is by its nation, with its counterparty; a handover has one. Events
    with no meta are not checked here (missing, or checked in bulk by the database verifier)."""
    if len(meta) < len(seqs):  # few events with meta (the database verifier's clean chunks have none)
        inside = seqs if isinstance(seqs, range) else set(seqs)
        present = sorted(s for s in meta if s in inside)
    else:
        present = [s for s in seqs if s in meta]
    for seq in present:
        ev_nation, ev_counter, ev_type = meta[seq]
        if ev_nation != nation:
            report.add("batch", f"event by {ev_nation} inside a batch signed for {nation}", seq)
        if ev_counter != counterparty:
            report.add("batch", "event counterparty differs from the batch counterparty", seq)
        if ev_type in HANDOVER_TYPES and not ev_counter:
            report.add("handover", f"{ev_type} without a counterparty signature", seq)


def check_batch(
    report: Report,
    keys: KeyLog,
    batch: BatchDict,
    leaves: Sequence[bytes],
    meta: Mapping[int, EventMeta],
    *,
    full: bool = True,
    leaves_root: bytes | None = None,
) -> None:
    """Check one batch statement: root over its leaves (when ``full``; the leaves of its events in
    seq order), the key log it commits to, and each party's signature with the key the signed key
    log gives that party at that point. A batch with ``runs`` (non-contiguous) must lie between
    two key events: its first and last event are checked against the same key log.
    ``leaves_root`` is the Merkle root of ``leaves`` when the caller has computed it already
    (the database verifier's workers do)."""
    first, size = int(batch["first_seq"]), int(batch["size"])
    root = bytes.fromhex(batch["root"])
    nation, counterparty = batch["nation"], batch.get("counterparty")
    signed_runs = batch.get("runs")
    try:
        rs = batch_runs(first, size, signed_runs)
    except ValueError as exc:
        report.add("batch", f"batch {batch['batch_id']}: {exc}", first)
        return
    seqs = range(first, first + size) if len(rs) == 1 else [s for f, n in rs for s in range(f, f + n)]
    last = rs[-1][0] + rs[-1][1] - 1
    if full:
        # blame the first event of the batch already found bad, else the batch's first event
        blame = min(
            (
                f.seq
                for f in report.findings
                if f.seq is not None and first <= f.seq <= last and any(a <= f.seq < a + n for a, n in rs)
            ),
            default=first,
        )
        if len(leaves) != size:
            report.add("batch", f"batch {batch['batch_id']} covers missing events", blame)
            return
        if (merkle_root(leaves) if leaves_root is None else leaves_root) != root:
            report.add("batch", f"batch {batch['batch_id']} root does not match its events", blame)
    _check_batch_events(report, seqs, meta, nation, counterparty)
    if last != first and keys.expected_keys_size(last) != keys.expected_keys_size(first):
        report.add(
            "keys",
            f"batch {batch['batch_id']} spans a key event (events {first}..{last}): a batch is"
            " signed under one state of the key log",
            first,
        )
        return
    ks, kh = batch.get("keys_size"), batch.get("keys_head")
    want = keys.expected_keys_size(first)
    if ks is None or kh is None or int(ks) != want or bytes.fromhex(kh) != keys.heads[want]:
        report.add(
            "keys",
            f"batch {batch['batch_id']} was not signed under the key log as it stood"
            f" (expected {want} key events; the key log was altered or truncated)",
            first,
        )
        return
    message = batch_statement(
        BatchStatement(
            batch_id=int(batch["batch_id"]),
            first_seq=first,
            size=size,
            nation=nation,
            counterparty=counterparty,
            root=root,
            keys_size=want,
            keys_head=keys.heads[want],
            time=str(batch.get("time", "")),
            # the signed runs as batch_runs validated them: the same [first seq, length] lists
            runs=None if signed_runs is None else [[f, n] for f, n in rs],
        )
    )
    roles = {s["role"]: s for s in batch.get("signatures", [])}
    wanted = {"actor": nation}
    if counterparty:
        wanted["counterparty"] = counterparty
    for role, who in wanted.items():
        sig = roles.get(role)
        if sig is None:
            report.add("signature", f"batch {batch['batch_id']} lacks the {role} signature", first)
            continue
        public, why = keys.batch_key(str(sig["key_id"]), who, first)
        if public is not None and last != first:
            public, why = keys.batch_key(str(sig["key_id"]), who, last)  # valid over the whole batch
        if public is None:
            report.add("signature", f"batch {batch['batch_id']} {role} ({who}): {why}", first)
            continue
        report.signatures += 1
        try:
            raw = strict_hex(sig["signature"])
        except ValueError:
            raw = b""
        if not check_signature(public, raw, message):
            report.add("signature", f"batch {batch['batch_id']} {role} signature invalid", first)


def check_keylog(report: Report, keys: KeyLog) -> None:
    for n, message in keys.problems:
        report.add("keys", f"{message} (key event {n})")


def check_checkpoint(
    report: Report,
    trust: Trust,
    note_text: str,
    root: bytes | None,
    *,
    label: str,
    quorum: bool = False,
    heads: Mapping[str, ChainHead] | None = None,
) -> CheckpointBody | None:
    """Check a C2SP checkpoint note: its origin is the pinned log's, the pinned log key signed it,
    its root is the log's (when known), its nation-heads line is the heads recomputed from the
    events (``heads``, when known); count valid cosignatures of pinned witnesses and, with
    ``quorum``, require the trust file's witness quorum. Returns the parsed body when readable."""
    try:
        note = parse_note(note_text)
        body = parse_checkpoint(note.text)
    except NoteError as exc:
        report.add("checkpoint", f"{label}: {exc}")
        return None
    where = body.size or None
    if body.origin != trust.origin:
        report.add("checkpoint", f"{label}: origin {body.origin!r} is not the pinned log {trust.origin!r}", where)
    ok = verified_by(note, trust.log_key)
    if ok is None:
        report.add("checkpoint", f"{label}: not signed by the pinned log key {trust.log_key.name}", where)
    elif ok is False:
        report.add("checkpoint", f"{label}: log signature invalid", where)
    if root is not None and root != body.root:
        report.add("checkpoint", f"{label}: root is not the log's", where)
    committed = checkpoint_heads(body.extensions)
    if committed is False:
        report.add("checkpoint", f"{label}: malformed or repeated nation-heads line", where)
    elif committed is not None and heads is not None and heads_commitment(heads) != committed:
        report.add(
            "checkpoint",
            f"{label}: its nation heads are not the chain heads of the log at size"
            f" {body.size} (a donor's bundle could be cut short against it)",
            where,
        )
    good = 0
    for w in trust.witnesses:
        v = verified_by(note, w)
        if v is False:
            report.add("checkpoint", f"{label}: cosignature by {w.name} invalid", where)
        elif v:
            good += 1
    report.cosignatures += good
    if quorum and good < trust.witness_quorum:
        report.add(
            "witness",
            f"{label}: {good} valid cosignature(s) from pinned witnesses; the trust file"
            f" requires {trust.witness_quorum}",
            where,
        )
    report.checkpoints += 1
    return body
