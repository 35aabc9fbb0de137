"""Offline verifier of a custody-ledger bundle: ``coalition-verify DIR``.

This module is the small, self-contained piece a donor nation runs without trusting the log
operator. It depends ONLY on the Python standard library and ``cryptography`` (a test parses its
imports to keep it that way), so it can be audited on its own. The ledger package imports its
primitives (canonical encoding, RFC 6962 hashing, proof checking, signed statements) from here, so
the producer and the checker can never disagree about the format.

Why RFC 6962 hashing is hand-written: ``cryptography`` offers SHA-256 and Ed25519 but no Merkle
tree, and the CT-specific libraries are either unmaintained or pull in network clients. The
algorithms are short and specified exactly in RFC 6962 §2.1 / RFC 9162 §2.1.3-2.1.4.

Bundle layout (all text is UTF-8; see docs/ledger.md):

- ``bundle.json``   format, scope ("full" or "donor:XXX"), the checkpoint the proofs are against
- ``keys.json``     public keys: key_id, kind ("nation" | "operator"), nation, public_key (hex)
- ``events.jsonl``  one canonical event body per line (the exact bytes that were hashed)
- ``batches.jsonl`` batch statements with their signatures
- ``checkpoints.jsonl`` signed checkpoints with witness cosignatures
- ``consistency.jsonl`` consistency proofs between successive checkpoints
- ``proofs.jsonl``  (donor bundles) per event: inclusion in its batch and in the checkpoint tree
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from coalition.ledger.notes import NoteError, parse_checkpoint, parse_note, verified_by
from coalition.ledger.trust import KeyLog, Trust, TrustError, load_trust, parse_trust, strict_hex

BUNDLE_FORMAT = "coalition-ledger-bundle/2"
GENESIS = bytes(32)  # "prev" of the first event
BATCH_KIND = "coalition-ledger/batch/v2"
#: Event types that hand custody from one nation to another; they need both parties' signatures.
HANDOVER_TYPES = frozenset({"receipt", "issue", "return"})

_sha256 = hashlib.sha256


# --------------------------------------------------------------------------------------------
# Canonical encoding and hashing
# --------------------------------------------------------------------------------------------
#: One encoder for every canonical encoding: ``json.dumps`` with these options would build a new
#: encoder on every call, which costs more than encoding a 300-byte event (the append hot path).
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical_json(value: object) -> bytes:
    """The one encoding that is hashed and signed: sorted keys, no whitespace, UTF-8, no NaN."""
    return _CANONICAL.encode(value).encode("utf-8")


def canonical_text(value: object) -> str:
    """:func:`canonical_json` before the UTF-8 encoding."""
    return _CANONICAL.encode(value)


_str = json.encoder.encode_basestring  # what the canonical encoder does to a string (ensure_ascii=False)


def event_frame(counterparty: str | None, nation: str, person: str, prev_hex: str, seq: int,
                time: str, type: str, chain_text: str = "{}") -> tuple[str, str]:
    """The canonical text of an event body before and after its payload.

    With sorted keys an event body is always ``{"chain":{..},"counterparty":..,"nation":..,
    "payload":<payload>,"person":..,"prev":..,"seq":..,"time":..,"type":..}``, so
    ``head + canonical(payload) + tail`` is byte for byte ``canonical_json(event)`` (a property
    test checks it). ``chain_text`` is the canonical text of the per-nation chain links. The
    producer uses it to encode the payload only, and the database verifier to check a body
    without parsing it."""
    cp = "null" if counterparty is None else _str(counterparty)
    head = f'{{"chain":{chain_text},"counterparty":{cp},"nation":{_str(nation)},"payload":'
    tail = (f',"person":{_str(person)},"prev":"{prev_hex}","seq":{seq:d},"time":{_str(time)},'
            f'"type":{_str(type)}}}')
    return head, tail


_CHAIN_HEAD = '{"chain":'
_CHAIN_END = ',"counterparty":'


def chain_text_of(body: str) -> str | None:
    """The chain object's text at the start of a body (None if the body does not start so)."""
    if not body.startswith(_CHAIN_HEAD):
        return None
    end = body.find(_CHAIN_END, len(_CHAIN_HEAD))
    return body[len(_CHAIN_HEAD):end] if end > 0 else None


class NationChains:
    """Per-nation hash chains inside the log (completeness of donor bundles, docs/ledger.md).

    Every event names, in its signed body, each title-holder nation whose items it affects with
    ``[counter, previous hash]``: the nation's counter goes 1, 2, 3, ... and the previous hash is
    the leaf hash of that nation's previous event (zeros for the first). Missing, repeated or
    relinked counters are reported at the event where the chain breaks."""

    def __init__(self, report: Report) -> None:
        self.report = report
        self.heads: dict[str, tuple[int, bytes, int]] = {}  # nation -> (counter, last hash, last seq)

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
                report.add("chain", f"{nation}'s counter jumps from {n} to {link[0]}"
                           f" (counter {n + 1} is missing or repeated)", seq)
            elif link[1] != h.hex():
                report.add("chain", f"{nation}'s event {link[0]} does not link to its event {n}"
                           + (f" (seq {last})" if last else ""), seq)
            self.heads[nation] = (link[0], own, seq)


NATION_HEAD_KIND = "coalition-ledger/nation-head/v1"


def nation_head_text(origin: str, size: int, nation: str, counter: int, last_hash: bytes) -> str:
    """The note text the log signs for a donor bundle: where the nation's chain ends at ``size``."""
    return f"{NATION_HEAD_KIND}\n{origin}\n{size}\n{nation} {counter} {last_hash.hex()}\n"


def leaf_hash(data: bytes) -> bytes:
    """RFC 6962 leaf hash: SHA-256(0x00 || data)."""
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 6962 interior node hash: SHA-256(0x01 || left || right)."""
    return _sha256(b"\x01" + left + right).digest()


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    """MTH of a list of leaf hashes (pairing bottom-up and promoting an odd last node gives the
    same tree as RFC 6962's split at the largest power of two)."""
    if not leaves:
        return _sha256(b"").digest()
    level = list(leaves)
    sha = _sha256
    while len(level) > 1:
        # node_hash inlined: this loop is most of the cost of checking a batch root
        nxt = [sha(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


class Frontier:
    """Incremental Merkle tree: the complete subtrees on the right edge; root at any size."""

    __slots__ = ("stack", "size", "keep_height", "kept")

    def __init__(self, keep_height: int | None = None) -> None:
        self.stack: list[tuple[int, bytes]] = []  # (height, hash), heights strictly decreasing
        self.size = 0
        self.keep_height = keep_height
        self.kept: list[bytes] = []  # every complete subtree of keep_height, left to right

    def add(self, leaf: bytes) -> None:
        stack = self.stack
        height, h = 0, leaf
        while stack and stack[-1][0] == height:
            h = _sha256(b"\x01" + stack.pop()[1] + h).digest()  # node_hash, inlined (hot)
            height += 1
            if height == self.keep_height:
                self.kept.append(h)
        stack.append((height, h))
        self.size += 1

    def root(self) -> bytes:
        if not self.stack:
            return _sha256(b"").digest()
        r = self.stack[-1][1]
        for _, h in reversed(self.stack[:-1]):
            r = node_hash(h, r)
        return r


def verify_inclusion(
    leaf: bytes, index: int, tree_size: int, path: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2: does ``path`` prove leaf ``index`` is in the tree of ``root``?"""
    if index < 0 or index >= tree_size:
        return False
    fn, sn, r = index, tree_size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, path: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2: does ``path`` prove the tree of ``second`` extends that of ``first``?"""
    if first < 0 or second < first:
        return False
    if first == second:
        return not path and first_root == second_root
    if first == 0:
        return not path  # the empty tree is a prefix of every tree
    path = list(path)
    if not path:
        return False
    if first & (first - 1) == 0:  # exact power of two
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_root and sr == second_root


# --------------------------------------------------------------------------------------------
# Signed statements
# --------------------------------------------------------------------------------------------
def batch_statement(
    *, batch_id: int, first_seq: int, size: int, nation: str, counterparty: str | None, root: bytes,
    keys_size: int, keys_head: bytes, time: str,
) -> bytes:
    """The bytes each party signs for a batch: its Merkle root, where it sits in the log, the key
    log it was signed under (size and head hash) and the signed commit time."""
    return canonical_json(
        {
            "kind": BATCH_KIND,
            "batch_id": batch_id,
            "first_seq": first_seq,
            "size": size,
            "nation": nation,
            "counterparty": counterparty,
            "root": root.hex(),
            "keys": keys_size,
            "keys_head": keys_head.hex(),
            "time": time,
        }
    )


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
    events: int = 0
    batches: int = 0
    signatures: int = 0
    checkpoints: int = 0
    cosignatures: int = 0
    proofs: int = 0
    findings: list[Finding] = field(default_factory=list)
    unpinned: bool = False  # checked against the bundle's own trust file, not a pinned one
    diffs: list = field(default_factory=list)  # projection rows that differ (database verify only)

    @property
    def ok(self) -> bool:
        return not self.findings

    def first_bad_seq(self) -> int | None:
        seqs = [f.seq for f in self.findings if f.seq is not None]
        return min(seqs) if seqs else None

    def add(self, what: str, message: str, seq: int | None = None) -> None:
        self.findings.append(Finding(what, message, seq))


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
        self.meta: dict[int, tuple[str, str | None, str]] = {}  # seq -> (nation, counterparty, type)
        self.chains = NationChains(report)

    def add(self, body: bytes, stored_hash: bytes | None = None, stored: dict | None = None,
            text: str | None = None) -> None:
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
            report.add("event", f"event {seq} recorded a different predecessor: event {seq - 1}"
                       " was altered, replaced or removed", seq - 1)
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


def check_batch(
    report: Report,
    keys: KeyLog,
    batch: dict,
    leaves: Sequence[bytes],
    meta: dict[int, tuple[str, str | None, str]],
    *,
    full: bool = True,
) -> None:
    """Check one batch statement: root over its leaves (when ``full``), the key log it commits to,
    and each party's signature with the key the signed key log gives that party at that point."""
    first, size = int(batch["first_seq"]), int(batch["size"])
    root = bytes.fromhex(batch["root"])
    nation, counterparty = batch["nation"], batch.get("counterparty")
    if full:
        # blame the first event of the batch already found bad, else the batch's first event
        blame = min((f.seq for f in report.findings if f.seq is not None and first <= f.seq < first + size),
                    default=first)
        if len(leaves) != size:
            report.add("batch", f"batch {batch['batch_id']} covers missing events", blame)
            return
        if merkle_root(leaves) != root:
            report.add("batch", f"batch {batch['batch_id']} root does not match its events", blame)
    for seq in range(first, first + size):
        if seq not in meta:
            continue
        ev_nation, ev_counter, ev_type = meta[seq]
        if ev_nation != nation:
            report.add("batch", f"event by {ev_nation} inside a batch signed for {nation}", seq)
        if ev_counter != counterparty:
            report.add("batch", "event counterparty differs from the batch counterparty", seq)
        if ev_type in HANDOVER_TYPES and not ev_counter:
            report.add("handover", f"{ev_type} without a counterparty signature", seq)
    ks, kh = batch.get("keys_size"), batch.get("keys_head")
    want = keys.expected_keys_size(first)
    if ks is None or kh is None or int(ks) != want or bytes.fromhex(kh) != keys.heads[want]:
        report.add("keys", f"batch {batch['batch_id']} was not signed under the key log as it stood"
                   f" (expected {want} key events; the key log was altered or truncated)", first)
        return
    message = batch_statement(
        batch_id=int(batch["batch_id"]), first_seq=first, size=size, nation=nation,
        counterparty=counterparty, root=root, keys_size=want, keys_head=keys.heads[want],
        time=str(batch.get("time", "")),
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


def check_checkpoint(report: Report, trust: Trust, note_text: str, root: bytes | None, *,
                     label: str, quorum: bool = False) -> tuple[int, bytes] | None:
    """Check a C2SP checkpoint note: its origin is the pinned log's, the pinned log key signed it,
    its root is the log's (when known); count valid cosignatures of pinned witnesses and, with
    ``quorum``, require the trust file's witness quorum. Returns (size, root) when readable."""
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
    good = 0
    for w in trust.witnesses:
        v = verified_by(note, w)
        if v is False:
            report.add("checkpoint", f"{label}: cosignature by {w.name} invalid", where)
        elif v:
            good += 1
    report.cosignatures += good
    if quorum and good < trust.witness_quorum:
        report.add("witness", f"{label}: {good} valid cosignature(s) from pinned witnesses; the trust file"
                   f" requires {trust.witness_quorum}", where)
    report.checkpoints += 1
    return body.size, body.root


# --------------------------------------------------------------------------------------------
# Bundles
# --------------------------------------------------------------------------------------------
class BundleError(Exception):
    """The bundle is unreadable (missing file, bad JSON): not a verification result."""


class _Bad(Exception):
    """A malformed row of a bundle file; becomes a finding naming the file and line."""


@dataclass(frozen=True)
class Row:
    file: str
    line: int
    data: dict

    def get(self, name: str, kind: type | tuple[type, ...] = object) -> object:
        if name not in self.data:
            raise _Bad(f"{self.file} line {self.line}: missing field {name!r}")
        value = self.data[name]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise _Bad(f"{self.file} line {self.line}: field {name!r} has the wrong type")
        return value

    def hex(self, name: str, size: int | None = 32) -> bytes:
        value = self.get(name, str)
        try:
            raw = strict_hex(value)
        except ValueError:
            raise _Bad(f"{self.file} line {self.line}: field {name!r} is not hex") from None
        if size is not None and len(raw) != size:
            raise _Bad(f"{self.file} line {self.line}: field {name!r} is not {size} bytes")
        return raw


def _jsonl(path: Path, *, required: bool = True) -> list[Row]:
    if not path.exists():
        if required:
            raise BundleError(f"{path.name}: missing (a bundle has bundle.json, keylog.jsonl, events.jsonl,"
                              " batches.jsonl, checkpoints.jsonl, consistency.jsonl)")
        return []
    out = []
    for n, line in enumerate(path.read_bytes().splitlines(), 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError as exc:
            raise BundleError(f"{path.name} line {n}: not JSON ({exc})") from None
        if not isinstance(value, dict):
            raise BundleError(f"{path.name} line {n}: expected a JSON object")
        out.append(Row(path.name, n, value))
    return out


def read_keylog(rows: list[Row], trust: Trust, report: Report) -> KeyLog:
    keys = KeyLog(trust)
    for i, r in enumerate(rows, 1):
        try:
            body = str(r.get("body", str)).encode("utf-8")
            sigs = r.get("signatures", list)
            if r.get("n", int) != i:
                raise _Bad(f"{r.file} line {r.line}: key event number {r.data['n']!r}, expected {i}")
        except _Bad as exc:
            report.add("keys", str(exc))
            body, sigs = b"", []
        keys.add(body, [x for x in sigs if isinstance(x, dict)])  # type: ignore[union-attr]
    check_keylog(report, keys)
    return keys


def _batch_dict(r: Row) -> dict:
    b = {k: r.get(k, int) for k in ("batch_id", "first_seq", "size")}
    b["nation"] = r.get("nation", str)
    if "counterparty" not in r.data:
        raise _Bad(f"{r.file} line {r.line}: missing field 'counterparty'")
    cp = r.data["counterparty"]
    if cp is not None and not isinstance(cp, str):
        raise _Bad(f"{r.file} line {r.line}: field 'counterparty' must be a nation or null")
    b["counterparty"] = cp
    r.hex("root")
    b["root"] = r.data["root"]
    b["keys_size"] = r.get("keys_size", int)
    r.hex("keys_head")
    b["keys_head"] = r.data["keys_head"]
    b["time"] = r.get("time", str)
    sigs = r.get("signatures", list)
    for s in sigs:  # type: ignore[union-attr]
        if not isinstance(s, dict) or not all(isinstance(s.get(k), str) for k in ("role", "key_id", "signature")):
            raise _Bad(f"{r.file} line {r.line}: each signature needs role, key_id and signature")
    b["signatures"] = sigs
    return b


def verify_bundle(directory: Path, trust: Trust | None = None) -> Report:
    """Verify every hash, key event, signature, checkpoint, cosignature and proof of a bundle
    against the pinned ``trust`` (default: the bundle's own ``trust.json``, reported as unpinned)."""
    directory = Path(directory)
    try:
        meta = json.loads((directory / "bundle.json").read_text("utf-8"))
    except FileNotFoundError as exc:
        raise BundleError(f"{directory}: no bundle.json (is this an exported ledger bundle?)") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise BundleError(f"bundle.json: not JSON ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != BUNDLE_FORMAT:
        got = meta.get("format") if isinstance(meta, dict) else meta
        raise BundleError(f"bundle.json: field 'format' is {got!r}, expected {BUNDLE_FORMAT!r}")
    report = Report()
    if trust is None:
        try:
            trust = parse_trust((directory / "trust.json").read_text("utf-8"), source="trust.json")
        except (OSError, UnicodeDecodeError, TrustError) as exc:
            raise BundleError(f"no pinned trust file given and the bundle's trust.json is unusable ({exc})") from None
        report.unpinned = True
    keys = read_keylog(_jsonl(directory / "keylog.jsonl"), trust, report)
    lines = [ln for ln in (directory / "events.jsonl").read_bytes().splitlines() if ln.strip()] \
        if (directory / "events.jsonl").exists() else None
    if lines is None:
        raise BundleError("events.jsonl: missing")
    batches: list[dict] = []
    for r in _jsonl(directory / "batches.jsonl"):
        try:
            batches.append(_batch_dict(r))
        except _Bad as exc:
            report.add("batch", str(exc))
    cps: list[tuple[int, bytes, Row]] = []
    for r in _jsonl(directory / "checkpoints.jsonl"):
        try:
            note = str(r.get("note", str))
        except _Bad as exc:
            report.add("checkpoint", str(exc))
            continue
        got = check_checkpoint(report, trust, note, None, label=f"checkpoints.jsonl line {r.line}")
        if got is not None:
            cps.append((got[0], got[1], r))
    if not cps:
        report.add("checkpoint", "bundle has no readable checkpoint")
        return report
    cps.sort(key=lambda c: c[0])
    top_size, top_root, top_row = cps[-1]
    quorum = Report()
    check_checkpoint(quorum, trust, str(top_row.data["note"]), None, label="latest checkpoint", quorum=True)
    report.findings.extend(f for f in quorum.findings if f.what == "witness")
    scope = meta.get("scope")
    if meta.get("tree_size") != top_size:
        report.add("bundle", f"bundle.json says tree size {meta.get('tree_size')!r}; its latest checkpoint has"
                   f" {top_size} (a bundle truncated to an older checkpoint, or relabelled)")
    if scope == "full":
        _verify_full(report, keys, lines, batches, cps)
    elif isinstance(scope, str) and scope.startswith("donor:") and len(scope) == 9:
        try:
            proofs = [(r, r.get("seq", int)) for r in _jsonl(directory / "proofs.jsonl")]
        except _Bad as exc:
            report.add("proof", str(exc))
            proofs = []
        _verify_partial(report, keys, lines, batches, top_size, top_root, proofs, donor=scope[6:],
                        heads=_jsonl(directory / "heads.jsonl", required=False))
    else:
        report.add("bundle", f"bundle.json: scope {scope!r} is neither 'full' nor 'donor:XXX'")
    _check_consistency(report, cps, _jsonl(directory / "consistency.jsonl"))
    return report


def _check_consistency(report: Report, cps: list[tuple[int, bytes, Row]], rows: list[Row]) -> None:
    """Every successive pair of checkpoints must be proven consistent: none may be skipped."""
    roots = {size: root for size, root, _ in cps}
    proven: set[tuple[int, int]] = set()
    for r in rows:
        try:
            first, second = int(r.get("first", int)), int(r.get("second", int))  # type: ignore[call-overload]
            path = [strict_hex(h) for h in r.get("path", list)]  # type: ignore[union-attr]
        except (_Bad, ValueError, TypeError) as exc:
            report.add("consistency", f"consistency.jsonl line {r.line}: malformed ({exc})")
            continue
        if first not in roots or second not in roots:
            report.add("consistency", f"proof {first}->{second} names an unknown checkpoint")
            continue
        if not verify_consistency(first, second, roots[first], roots[second], path):
            report.add("consistency", f"checkpoint {second} does not extend checkpoint {first}", first + 1)
            continue
        proven.add((first, second))
        report.proofs += 1
    sizes = sorted(roots)
    for a, b in zip(sizes, sizes[1:], strict=False):
        if (a, b) not in proven:
            report.add("consistency", f"no valid consistency proof from checkpoint size {a} to {b}", a + 1)


def _verify_full(report: Report, keys: KeyLog, lines: list[bytes], batches: list[dict],
                 cps: list[tuple[int, bytes, Row]]) -> None:
    chain = ChainChecker(report)
    roots: dict[int, bytes] = {0: chain.frontier.root()}
    wanted = {size for size, _, _ in cps}
    for body in lines:
        chain.add(body)
        if chain.frontier.size in wanted:
            roots[chain.frontier.size] = chain.frontier.root()
    report.events = len(lines)
    covered = 0
    for b in sorted(batches, key=lambda b: int(b["first_seq"])):
        first, size = int(b["first_seq"]), int(b["size"])
        if first != covered + 1:
            report.add("batch", "batches do not cover the log contiguously", covered + 1)
        covered = first + size - 1
        check_batch(report, keys, b, chain.leaves[first - 1 : first - 1 + size], chain.meta)
        report.batches += 1
    if covered != len(lines):
        report.add("batch", "events outside any signed batch", covered + 1)
    for size, root, r in cps:
        if size > len(lines):
            report.add("checkpoint", f"checkpoint of size {size} beyond the {len(lines)} events")
        elif roots[size] != root:
            report.add("checkpoint", f"checkpoints.jsonl line {r.line}: root is not the events' root", size or None)


def _verify_partial(report: Report, keys: KeyLog, lines: list[bytes], batches: list[dict], top_size: int,
                    top_root: bytes, proofs: list[tuple[Row, object]], *, donor: str, heads: list[Row]) -> None:
    """A donor bundle: some events only, each proven into its signed batch and the checkpoint."""
    by_batch = {int(b["batch_id"]): b for b in batches}
    proof_by_seq = {int(seq): r for r, seq in proofs}  # type: ignore[call-overload]
    meta: dict[int, tuple[str, str | None, str]] = {}
    prev_seq, prev_hash = None, None
    mine = _DonorChain(report, donor)
    for body in lines:
        h = leaf_hash(body)
        try:
            ev = json.loads(body)
            seq = int(ev["seq"])
            if not isinstance(ev, dict) or isinstance(ev["seq"], bool):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            report.add("event", "event line is not a ledger event", (prev_seq or 0) + 1)
            continue
        if prev_seq is not None and seq <= prev_seq:
            report.add("event", f"event {seq} is out of order (after {prev_seq})", seq)
            continue
        if prev_seq is not None and seq == prev_seq + 1 and ev.get("prev") != prev_hash.hex():  # type: ignore[union-attr]
            report.add("event", f"event {seq} recorded a different predecessor: event {prev_seq} was altered",
                       prev_seq)
        prev_seq, prev_hash = seq, h
        meta[seq] = (str(ev.get("nation", "")), ev.get("counterparty"), str(ev.get("type", "")))
        report.events += 1
        mine.add(seq, ev.get("chain"), h)
        row = proof_by_seq.get(seq)
        if row is None:
            report.add("proof", "no inclusion proof for this event", seq)
            continue
        try:
            batch = by_batch.get(int(row.get("batch_id", int)))  # type: ignore[call-overload]
            batch_path = [strict_hex(x) for x in row.get("batch_path", list)]  # type: ignore[union-attr]
            log_path = [strict_hex(x) for x in row.get("log_path", list)]  # type: ignore[union-attr]
        except (_Bad, ValueError, TypeError) as exc:
            report.add("proof", f"proofs.jsonl line {row.line}: malformed ({exc})", seq)
            continue
        if batch is None:
            report.add("proof", "proof names a batch not in the bundle", seq)
            continue
        bidx = seq - int(batch["first_seq"])
        if not verify_inclusion(h, bidx, int(batch["size"]), batch_path, bytes.fromhex(batch["root"])):
            report.add("proof", "event is not in its signed batch (hash or proof altered)", seq)
        if not verify_inclusion(h, seq - 1, top_size, log_path, top_root):
            report.add("proof", f"event is not in checkpoint of size {top_size}", seq)
        report.proofs += 2
    for b in batches:
        check_batch(report, keys, b, [], meta, full=False)
        report.batches += 1
    mine.close(heads, keys.trust, top_size)


class _DonorChain:
    """Completeness of a donor bundle from signed data alone: the donor's counters must run 1..n
    without a gap, each event linking to the previous one's hash, and end where the log's signed
    head for the donor at the checkpoint's size says it ends."""

    def __init__(self, report: Report, donor: str) -> None:
        self.report, self.donor = report, donor
        self.counter, self.last, self.last_seq = 0, GENESIS, 0

    def add(self, seq: int, chain: object, own: bytes) -> None:
        report, donor = self.report, self.donor
        link = chain.get(donor) if isinstance(chain, dict) else None
        if not (isinstance(link, list) and len(link) == 2 and type(link[0]) is int and isinstance(link[1], str)):
            report.add("completeness", f"event does not concern {donor}'s items (a bundle relabelled, or padded"
                       " with another nation's events)", seq)
            return
        n = link[0]
        if n > self.counter + 1:
            report.add("completeness", f"{donor}'s event counter {self.counter + 1} is missing"
                       + (f" (after seq {self.last_seq})" if self.last_seq else "") + f"; next present: counter {n}",
                       self.last_seq + 1 if self.last_seq else 1)
        elif n <= self.counter:
            report.add("completeness", f"{donor}'s event counter {n} appears twice or out of order", seq)
        elif link[1] != self.last.hex():
            report.add("completeness", f"{donor}'s event {n} does not link to its event {self.counter}", seq)
        self.counter, self.last, self.last_seq = max(self.counter, n), own, seq

    def close(self, heads: list[Row], trust: Trust, size: int) -> None:
        report, donor = self.report, self.donor
        if not heads:
            report.add("completeness", f"no signed head of {donor}'s chain: a bundle cut short at the end would"
                       " not be noticed")
            return
        try:
            note = parse_note(str(heads[0].get("note", str)))
            lines = note.text.split("\n")
            kind, origin, at, last = lines[0], lines[1], int(lines[2]), lines[3].split(" ")
            nation, counter, last_hash = last[0], int(last[1]), bytes.fromhex(last[2])
        except (_Bad, NoteError, ValueError, IndexError) as exc:
            report.add("completeness", f"heads.jsonl: malformed signed head ({exc})")
            return
        if (kind != NATION_HEAD_KIND or origin != trust.origin or
                note.text != nation_head_text(origin, at, nation, counter, last_hash)):
            report.add("completeness", "heads.jsonl: not a nation-head statement of the pinned log")
            return
        if verified_by(note, trust.log_key) is not True:
            report.add("completeness", "heads.jsonl: the signed head is not signed by the pinned log key")
            return
        if nation != donor or at != size:
            report.add("completeness", f"heads.jsonl: the signed head is {nation}'s at tree size {at}, not"
                       f" {donor}'s at {size}")
            return
        if counter > self.counter:
            report.add("completeness", f"{donor}'s event counter {self.counter + 1} is missing (the log's signed head"
                       f" says its chain has {counter} events at tree size {size}; the bundle ends at"
                       f" {self.counter})", self.last_seq + 1 if self.last_seq else 1)
        elif counter < self.counter or last_hash != self.last:
            report.add("completeness", f"the log's signed head of {donor}'s chain ({counter}) disagrees with the"
                       f" bundle ({self.counter})", self.last_seq or None)


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------
def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="coalition-verify",
        description="Verify an exported custody-ledger bundle offline (hashes, key log, signatures, "
        "checkpoints, witness cosignatures, proofs) against a pinned trust file. Exit 0 = valid, "
        "1 = tampered or invalid, 2 = unreadable.",
    )
    parser.add_argument("directory", type=Path, help="bundle folder written by 'coalition ledger export'")
    parser.add_argument("--trust", type=Path, default=None,
                        help="pinned trust file obtained out of band ('coalition ledger trust export');"
                        " default: the bundle's own trust.json, which proves nothing against its producer")
    args = parser.parse_args(list(argv) if argv is not None else None)
    try:
        trust = load_trust(args.trust) if args.trust else None
        report = verify_bundle(args.directory, trust)
    except (BundleError, TrustError) as exc:
        print(f"coalition-verify: cannot read bundle: {exc}", file=sys.stderr)
        return 2
    except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError, OverflowError) as exc:
        # a damaged bundle must never end in a traceback; say what broke
        print(f"coalition-verify: cannot read bundle: malformed content ({type(exc).__name__}: {exc})",
              file=sys.stderr)
        return 2
    print(
        f"events {report.events}, batches {report.batches}, signatures {report.signatures}, "
        f"checkpoints {report.checkpoints}, cosignatures {report.cosignatures}, proofs {report.proofs}"
    )
    if report.unpinned:
        print("WARNING: no --trust file given: checked against the bundle's own trust.json, which its"
              " producer could have replaced; pin a trust file obtained out of band")
    if report.ok:
        print("OK: every hash, key event, signature, checkpoint and proof verifies")
        return 0
    bad = report.first_bad_seq()
    print(f"FAILED: {len(report.findings)} problem(s)" + (f"; first bad seq {bad}" if bad else ""))
    for f in report.findings[:50]:
        print(f"  - {f}")
    return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
