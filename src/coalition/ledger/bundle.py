"""Reading and verifying an exported bundle offline (``coalition-verify DIR``).

Bundle layout (all text is UTF-8; see docs/ledger.md, "Export and the offline verifier"):
``bundle.json``, ``keylog.jsonl``, ``events.jsonl``, ``batches.jsonl``, ``checkpoints.jsonl``,
``consistency.jsonl``, and for donor bundles ``proofs.jsonl`` and ``heads.jsonl``
(:mod:`coalition.ledger.completeness`). Standard library and ``cryptography`` only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from coalition.ledger.checks import (
    BatchDict,
    ChainChecker,
    Report,
    batch_leaves,
    check_batch,
    check_keylog,
    is_batch_signature,
    runs,
    tile,
)
from coalition.ledger.nationheads import checkpoint_heads, heads_commitment
from coalition.ledger.rfc6962 import verify_consistency
from coalition.ledger.trust import KeyLog, Trust, signature_list, strict_hex

T = TypeVar("T")


class BundleError(Exception):
    """The bundle is unreadable (missing file, bad JSON): not a verification result."""


class _Bad(Exception):
    """A malformed row of a bundle file; becomes a finding naming the file and line."""


@dataclass(frozen=True)
class Row:
    file: str
    line: int
    data: dict[str, Any]  # one JSON object of a bundle file: unchecked until read with get() / hex()

    def get(self, name: str, kind: type[T]) -> T:
        """The field ``name``, which must be a ``kind`` (an int is never a bool)."""
        if name not in self.data:
            raise _Bad(f"{self.file} line {self.line}: missing field {name!r}")
        value = self.data[name]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise _Bad(f"{self.file} line {self.line}: field {name!r} has the wrong type")
        return value

    def items(self, name: str) -> list[object]:
        """The field ``name``, which must be a JSON list (its items unchecked)."""
        return self.get(name, list)

    def hex(self, name: str, size: int | None = 32) -> bytes:
        value = self.get(name, str)
        try:
            raw = strict_hex(value)
        except ValueError:
            raise _Bad(f"{self.file} line {self.line}: field {name!r} is not hex") from None
        if size is not None and len(raw) != size:
            raise _Bad(f"{self.file} line {self.line}: field {name!r} is not {size} bytes")
        return raw


def read_jsonl(path: Path, *, required: bool = True) -> list[Row]:
    if not path.exists():
        if required:
            raise BundleError(
                f"{path.name}: missing (a bundle has bundle.json, keylog.jsonl, events.jsonl,"
                " batches.jsonl, checkpoints.jsonl, consistency.jsonl)"
            )
        return []
    out: list[Row] = []
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
            body = r.get("body", str).encode("utf-8")
            sigs = r.items("signatures")
            if r.get("n", int) != i:
                raise _Bad(f"{r.file} line {r.line}: key event number {r.data['n']!r}, expected {i}")
        except _Bad as exc:
            report.add("keys", str(exc))
            body, sigs = b"", []
        keys.add(body, signature_list(sigs))
    check_keylog(report, keys)
    return keys


def batch_dict(r: Row) -> BatchDict:
    """A line of batches.jsonl, every field checked for its type (in this order: the first
    wrong one is the finding)."""
    batch_id, first_seq, size = r.get("batch_id", int), r.get("first_seq", int), r.get("size", int)
    nation = r.get("nation", str)
    if "counterparty" not in r.data:
        raise _Bad(f"{r.file} line {r.line}: missing field 'counterparty'")
    cp = r.data["counterparty"]
    if cp is not None and not isinstance(cp, str):
        raise _Bad(f"{r.file} line {r.line}: field 'counterparty' must be a nation or null")
    r.hex("root")
    root = r.get("root", str)
    keys_size = r.get("keys_size", int)
    r.hex("keys_head")
    keys_head = r.get("keys_head", str)
    time = r.get("time", str)
    runs_ = r.data.get("runs")  # a non-contiguous batch (checked with its statement)
    sigs = r.items("signatures")
    signatures = [s for s in sigs if is_batch_signature(s)]
    if len(signatures) != len(sigs):
        raise _Bad(f"{r.file} line {r.line}: each signature needs role, key_id and signature")
    b: BatchDict = {
        "batch_id": batch_id,
        "first_seq": first_seq,
        "size": size,
        "nation": nation,
        "counterparty": cp,
        "root": root,
        "keys_size": keys_size,
        "keys_head": keys_head,
        "time": time,
        "signatures": signatures,
    }
    if runs_ is not None:
        b["runs"] = runs_
    return b


def check_consistency(report: Report, cps: list[tuple[int, bytes, Row, tuple[str, ...]]], rows: list[Row]) -> None:
    """Every successive pair of checkpoints must be proven consistent: none may be skipped."""
    roots = {size: root for size, root, _, _ in cps}
    proven: set[tuple[int, int]] = set()
    for r in rows:
        try:
            first, second = r.get("first", int), r.get("second", int)
            path = [strict_hex(h) for h in r.items("path")]
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


def verify_full(
    report: Report,
    keys: KeyLog,
    lines: list[bytes],
    batches: list[BatchDict],
    cps: list[tuple[int, bytes, Row, tuple[str, ...]]],
) -> None:
    """A full bundle: every event, batch and checkpoint (its root and its nation heads
    recomputed from the events)."""
    chain = ChainChecker(report)
    roots: dict[int, bytes] = {0: chain.frontier.root()}
    heads_at: dict[int, tuple[int, bytes]] = {0: heads_commitment({})}
    wanted = {size for size, _, _, _ in cps}
    for body in lines:
        chain.add(body)
        if chain.frontier.size in wanted:
            roots[chain.frontier.size] = chain.frontier.root()
            heads_at[chain.frontier.size] = heads_commitment(chain.chains.heads)
    report.events = len(lines)
    covered = tile(report, batches)  # every event in exactly one batch
    for b in sorted(batches, key=lambda b: int(b["first_seq"])):
        check_batch(report, keys, b, batch_leaves(chain.leaves, runs(b)), chain.meta)
        report.batches += 1
    if covered != len(lines):
        report.add("batch", "events outside any signed batch", covered + 1)
    for size, root, r, ext in cps:
        committed = checkpoint_heads(ext)
        if size > len(lines):
            report.add("checkpoint", f"checkpoint of size {size} beyond the {len(lines)} events")
        elif roots[size] != root:
            report.add("checkpoint", f"checkpoints.jsonl line {r.line}: root is not the events' root", size or None)
        elif committed and committed != heads_at[size]:
            report.add(
                "checkpoint",
                f"checkpoints.jsonl line {r.line}: its nation heads are not the chain heads of"
                f" the events at size {size}",
                size or None,
            )
