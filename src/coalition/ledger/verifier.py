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

BUNDLE_FORMAT = "coalition-ledger-bundle/1"
GENESIS = bytes(32)  # "prev" of the first event
BATCH_KIND = "coalition-ledger/batch/v1"
CHECKPOINT_KIND = "coalition-ledger/checkpoint/v1"
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
                time: str, type: str) -> tuple[str, str]:
    """The canonical text of an event body before and after its payload.

    With sorted keys an event body is always ``{"counterparty":..,"nation":..,"payload":<payload>,
    "person":..,"prev":..,"seq":..,"time":..,"type":..}``, so ``head + canonical(payload) + tail``
    is byte for byte ``canonical_json(event)`` (a property test checks it). The producer uses it to
    encode the payload only, and the database verifier to check a body without parsing it."""
    cp = "null" if counterparty is None else _str(counterparty)
    head = f'{{"counterparty":{cp},"nation":{_str(nation)},"payload":'
    tail = (f',"person":{_str(person)},"prev":"{prev_hex}","seq":{seq:d},"time":{_str(time)},'
            f'"type":{_str(type)}}}')
    return head, tail


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
    *, batch_id: int, first_seq: int, size: int, nation: str, counterparty: str | None, root: bytes
) -> bytes:
    """The bytes each party signs for a batch (its Merkle root and where it sits in the log)."""
    return canonical_json(
        {
            "kind": BATCH_KIND,
            "batch_id": batch_id,
            "first_seq": first_seq,
            "size": size,
            "nation": nation,
            "counterparty": counterparty,
            "root": root.hex(),
        }
    )


def checkpoint_statement(*, log: str, size: int, root: bytes, time: str) -> bytes:
    """The bytes the log operator signs, and witnesses cosign, for a checkpoint."""
    return canonical_json(
        {"kind": CHECKPOINT_KIND, "log": log, "size": size, "root": root.hex(), "time": time}
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

    @property
    def ok(self) -> bool:
        return not self.findings

    def first_bad_seq(self) -> int | None:
        seqs = [f.seq for f in self.findings if f.seq is not None]
        return min(seqs) if seqs else None

    def add(self, what: str, message: str, seq: int | None = None) -> None:
        self.findings.append(Finding(what, message, seq))


@dataclass(frozen=True)
class Key:
    key_id: str
    kind: str
    nation: str | None
    public_key: bytes


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
        self.leaves.append(h)
        self.frontier.add(h)
        self.prev = h
        self.expected_seq += 1


def check_batch(
    report: Report,
    keys: dict[str, Key],
    batch: dict,
    leaves: Sequence[bytes],
    meta: dict[int, tuple[str, str | None, str]],
    *,
    full: bool = True,
) -> None:
    """Check one batch statement: root over its leaves (when ``full``), signatures, parties."""
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
    message = batch_statement(
        batch_id=int(batch["batch_id"]),
        first_seq=first,
        size=size,
        nation=nation,
        counterparty=counterparty,
        root=root,
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
        key = keys.get(sig["key_id"])
        if key is None or key.kind != "nation" or key.nation != who:
            report.add(
                "signature", f"batch {batch['batch_id']} {role} key is not {who}'s key", first
            )
            continue
        report.signatures += 1
        if not check_signature(key.public_key, bytes.fromhex(sig["signature"]), message):
            report.add("signature", f"batch {batch['batch_id']} {role} signature invalid", first)


def check_checkpoint(report: Report, keys: dict[str, Key], cp: dict, root: bytes | None) -> None:
    """Check a checkpoint's operator signature, cosignatures, and (if known) its root."""
    size, cp_root = int(cp["size"]), bytes.fromhex(cp["root"])
    where = size if size else None
    if root is not None and root != cp_root:
        report.add("checkpoint", f"checkpoint {cp['checkpoint_id']} root is not the log's", where)
    key = keys.get(cp["key_id"])
    message = checkpoint_statement(log=cp["key_id"], size=size, root=cp_root, time=cp["time"])
    if key is None or key.kind != "operator":
        report.add("checkpoint", f"checkpoint {cp['checkpoint_id']} not signed by an operator key")
    elif not check_signature(key.public_key, bytes.fromhex(cp["signature"]), message):
        report.add("checkpoint", f"checkpoint {cp['checkpoint_id']} signature invalid", where)
    for co in cp.get("cosignatures", []):
        wkey = keys.get(co["key_id"])
        if wkey is None or wkey.kind != "nation":
            report.add("checkpoint", f"cosignature by unknown witness {co['key_id']!r}", where)
        elif not check_signature(wkey.public_key, bytes.fromhex(co["signature"]), message):
            report.add("checkpoint", f"cosignature by {co['key_id']} invalid", where)
        else:
            report.cosignatures += 1
    report.checkpoints += 1


# --------------------------------------------------------------------------------------------
# Bundles
# --------------------------------------------------------------------------------------------
class BundleError(Exception):
    """The bundle is unreadable (missing file, bad JSON): not a verification result."""


def _jsonl(path: Path) -> list[dict]:
    if not path.exists():
        return []
    out = []
    for n, line in enumerate(path.read_bytes().splitlines(), 1):
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except ValueError as exc:
            raise BundleError(f"{path.name} line {n}: not JSON ({exc})") from exc
    return out


def load_keys(path: Path) -> dict[str, Key]:
    try:
        data = json.loads(path.read_text("utf-8"))
        return {
            k["key_id"]: Key(k["key_id"], k["kind"], k.get("nation"), bytes.fromhex(k["public_key"]))
            for k in data["keys"]
        }
    except FileNotFoundError as exc:
        raise BundleError(f"{path} not found") from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise BundleError(f"{path}: malformed key list ({exc})") from exc


def verify_bundle(directory: Path, trusted_keys: dict[str, Key] | None = None) -> Report:
    """Verify every hash, signature, checkpoint and proof of a bundle; return the findings."""
    directory = Path(directory)
    try:
        meta = json.loads((directory / "bundle.json").read_text("utf-8"))
    except FileNotFoundError as exc:
        raise BundleError(f"{directory}: no bundle.json (is this an exported ledger bundle?)") from exc
    except ValueError as exc:
        raise BundleError(f"bundle.json: not JSON ({exc})") from exc
    if meta.get("format") != BUNDLE_FORMAT:
        raise BundleError(f"bundle.json: format {meta.get('format')!r}, expected {BUNDLE_FORMAT!r}")
    keys = load_keys(directory / "keys.json")
    report = Report()
    if trusted_keys is not None:
        for kid, key in keys.items():
            t = trusted_keys.get(kid)
            if t is None or t.public_key != key.public_key:
                report.add("keys", f"bundle key {kid!r} is not among the trusted keys")
        keys = trusted_keys
    lines = [ln for ln in (directory / "events.jsonl").read_bytes().splitlines() if ln.strip()]
    batches = _jsonl(directory / "batches.jsonl")
    checkpoints = sorted(_jsonl(directory / "checkpoints.jsonl"), key=lambda c: int(c["size"]))
    if not checkpoints:
        report.add("checkpoint", "bundle has no checkpoint")
        return report
    if meta.get("scope", "full") == "full":
        _verify_full(report, keys, lines, batches, checkpoints)
    else:
        _verify_partial(report, keys, lines, batches, checkpoints, _jsonl(directory / "proofs.jsonl"))
    roots = {int(c["size"]): bytes.fromhex(c["root"]) for c in checkpoints}
    for cons in _jsonl(directory / "consistency.jsonl"):
        first, second = int(cons["first"]), int(cons["second"])
        if first not in roots or second not in roots:
            report.add("consistency", f"proof {first}->{second} names an unknown checkpoint")
            continue
        path = [bytes.fromhex(h) for h in cons["path"]]
        if not verify_consistency(first, second, roots[first], roots[second], path):
            report.add("consistency", f"checkpoint {second} does not extend checkpoint {first}", first + 1)
        report.proofs += 1
    return report


def _verify_full(
    report: Report, keys: dict[str, Key], lines: list[bytes], batches: list[dict], cps: list[dict]
) -> None:
    chain = ChainChecker(report)
    roots: dict[int, bytes] = {0: chain.frontier.root()}
    wanted = {int(c["size"]) for c in cps}
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
    for cp in cps:
        size = int(cp["size"])
        if size > len(lines):
            report.add("checkpoint", f"checkpoint of size {size} beyond the {len(lines)} events")
            check_checkpoint(report, keys, cp, None)
        else:
            check_checkpoint(report, keys, cp, roots[size])


def _verify_partial(
    report: Report,
    keys: dict[str, Key],
    lines: list[bytes],
    batches: list[dict],
    cps: list[dict],
    proofs: list[dict],
) -> None:
    """A donor bundle: some events only, each proven into its signed batch and the checkpoint."""
    top = cps[-1]
    top_size, top_root = int(top["size"]), bytes.fromhex(top["root"])
    for cp in cps:
        check_checkpoint(report, keys, cp, None)
    by_batch = {int(b["batch_id"]): b for b in batches}
    proof_by_seq = {int(p["seq"]): p for p in proofs}
    meta: dict[int, tuple[str, str | None, str]] = {}
    prev_seq, prev_hash = None, None
    for body in lines:
        h = leaf_hash(body)
        try:
            ev = json.loads(body)
            seq = int(ev["seq"])
        except (ValueError, KeyError, TypeError):
            report.add("event", "event line is not a ledger event", (prev_seq or 0) + 1)
            continue
        if prev_seq is not None and seq == prev_seq + 1 and ev.get("prev") != prev_hash.hex():
            report.add("event", f"event {seq} recorded a different predecessor: event {prev_seq} was altered",
                       prev_seq)
        prev_seq, prev_hash = seq, h
        meta[seq] = (ev.get("nation", ""), ev.get("counterparty"), ev.get("type", ""))
        report.events += 1
        proof = proof_by_seq.get(seq)
        if proof is None:
            report.add("proof", "no inclusion proof for this event", seq)
            continue
        batch = by_batch.get(int(proof["batch_id"]))
        if batch is None:
            report.add("proof", "proof names a batch not in the bundle", seq)
            continue
        bidx = seq - int(batch["first_seq"])
        if not verify_inclusion(
            h, bidx, int(batch["size"]), [bytes.fromhex(x) for x in proof["batch_path"]],
            bytes.fromhex(batch["root"]),
        ):
            report.add("proof", "event is not in its signed batch (hash or proof altered)", seq)
        if not verify_inclusion(
            h, seq - 1, top_size, [bytes.fromhex(x) for x in proof["log_path"]], top_root
        ):
            report.add("proof", f"event is not in checkpoint of size {top_size}", seq)
        report.proofs += 2
    for b in batches:
        check_batch(report, keys, b, [], meta, full=False)
        report.batches += 1


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------
def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="coalition-verify",
        description="Verify an exported custody-ledger bundle offline (hashes, signatures, "
        "checkpoints, proofs). Exit 0 = valid, 1 = tampered or invalid, 2 = unreadable.",
    )
    parser.add_argument("directory", type=Path, help="bundle folder written by 'coalition ledger export'")
    parser.add_argument(
        "--keys",
        type=Path,
        default=None,
        help="trusted public keys (keys.json obtained out of band); default: the bundle's own",
    )
    args = parser.parse_args(list(argv) if argv is not None else None)
    try:
        trusted = load_keys(args.keys) if args.keys else None
        report = verify_bundle(args.directory, trusted)
    except BundleError as exc:
        print(f"coalition-verify: cannot read bundle: {exc}", file=sys.stderr)
        return 2
    print(
        f"events {report.events}, batches {report.batches}, signatures {report.signatures}, "
        f"checkpoints {report.checkpoints}, cosignatures {report.cosignatures}, proofs {report.proofs}"
    )
    if report.ok:
        print("OK: every hash, signature, checkpoint and proof verifies")
        return 0
    bad = report.first_bad_seq()
    print(f"FAILED: {len(report.findings)} problem(s)" + (f"; first bad seq {bad}" if bad else ""))
    for f in report.findings[:50]:
        print(f"  - {f}")
    return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
