"""Completeness of a donor bundle, checked offline from signed data alone (docs/ledger.md,
"Completeness of donor bundles"): every event is proven into its signed batch and the latest
checkpoint, the donor's per-nation counters run 1..n without a gap, and the chain ends where the
latest checkpoint's nation-heads map (:mod:`coalition.ledger.nationheads`), cosigned by the
witnesses, says it ends. Standard library and ``cryptography`` only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from coalition.ledger.bundle import Row, _Bad
from coalition.ledger.canonical import GENESIS
from coalition.ledger.checks import BatchDict, EventMeta, Report, batch_index, check_batch
from coalition.ledger.nationheads import head_leaf
from coalition.ledger.rfc6962 import leaf_hash, verify_inclusion
from coalition.ledger.trust import KeyLog, Trust, strict_hex


@dataclass(frozen=True)
class DonorBundle:
    """What the completeness check reads of a donor bundle."""

    donor: str
    lines: list[bytes]  # events.jsonl
    batches: list[BatchDict]  # batches.jsonl (the readable lines)
    proofs: list[tuple[Row, int]]  # proofs.jsonl: (row, the seq it proves)
    heads: list[Row]  # heads.jsonl


@dataclass(frozen=True)
class LatestCheckpoint:
    """The bundle's latest checkpoint: its size, root and nation-heads commitment ((count, root),
    None or False, from :func:`~coalition.ledger.nationheads.checkpoint_heads`)."""

    size: int
    root: bytes
    committed: tuple[int, bytes] | None | bool


def verify_partial(report: Report, keys: KeyLog, bundle: DonorBundle, latest: LatestCheckpoint) -> None:
    """A donor bundle: some events only, each proven into its signed batch and the checkpoint."""
    lines, batches, proofs, donor, heads = bundle.lines, bundle.batches, bundle.proofs, bundle.donor, bundle.heads
    top_size, top_root, committed = latest.size, latest.root, latest.committed
    by_batch = {int(b["batch_id"]): b for b in batches}
    proof_by_seq = {int(seq): r for r, seq in proofs}
    meta: dict[int, EventMeta] = {}
    prev_seq: int | None = None
    prev_hash = b""
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
        if prev_seq is not None and seq == prev_seq + 1 and ev.get("prev") != prev_hash.hex():
            report.add("event", f"event {seq} recorded a different predecessor: event {prev_seq} was altered", prev_seq)
        prev_seq, prev_hash = seq, h
        meta[seq] = (str(ev.get("nation", "")), ev.get("counterparty"), str(ev.get("type", "")))
        report.events += 1
        mine.add(seq, ev.get("chain"), h)
        row = proof_by_seq.get(seq)
        if row is None:
            report.add("proof", "no inclusion proof for this event", seq)
            continue
        try:
            batch = by_batch.get(row.get("batch_id", int))
            batch_path = [strict_hex(x) for x in row.items("batch_path")]
            log_path = [strict_hex(x) for x in row.items("log_path")]
        except (_Bad, ValueError, TypeError) as exc:
            report.add("proof", f"proofs.jsonl line {row.line}: malformed ({exc})", seq)
            continue
        if batch is None:
            report.add("proof", "proof names a batch not in the bundle", seq)
            continue
        bidx = batch_index(batch, seq)
        if bidx is None:
            report.add("proof", f"batch {batch['batch_id']} does not hold event {seq}", seq)
        elif not verify_inclusion(h, bidx, int(batch["size"]), batch_path, bytes.fromhex(batch["root"])):
            report.add("proof", "event is not in its signed batch (hash or proof altered)", seq)
        if not verify_inclusion(h, seq - 1, top_size, log_path, top_root):
            report.add("proof", f"event is not in checkpoint of size {top_size}", seq)
        report.proofs += 2
    for b in batches:
        check_batch(report, keys, b, [], meta, full=False)
        report.batches += 1
    mine.close(heads, keys.trust, top_size, committed)


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
            report.add(
                "completeness",
                f"event does not concern {donor}'s items (a bundle relabelled, or padded with another nation's events)",
                seq,
            )
            return
        n = link[0]
        if n > self.counter + 1:
            report.add(
                "completeness",
                f"{donor}'s event counter {self.counter + 1} is missing"
                + (f" (after seq {self.last_seq})" if self.last_seq else "")
                + f"; next present: counter {n}",
                self.last_seq + 1 if self.last_seq else 1,
            )
        elif n <= self.counter:
            report.add("completeness", f"{donor}'s event counter {n} appears twice or out of order", seq)
        elif link[1] != self.last.hex():
            report.add("completeness", f"{donor}'s event {n} does not link to its event {self.counter}", seq)
        self.counter, self.last, self.last_seq = max(self.counter, n), own, seq

    def close(self, heads: list[Row], trust: Trust, size: int, committed: tuple[int, bytes] | None | bool) -> None:
        """Where the donor's chain ends: its entry in the nation-heads map that the latest
        checkpoint commits to (``committed``: (count, root), None or False, from
        :func:`~coalition.ledger.nationheads.checkpoint_heads`), proven by a Merkle path."""
        report, donor = self.report, self.donor
        report.tail_witnessed = False
        if committed is None or isinstance(committed, bool):
            report.add(
                "completeness",
                "the latest checkpoint commits to no (or a malformed) nation-heads map: the end"
                f" of {donor}'s chain cannot be checked, so events cut off at the end would not be noticed",
            )
            return
        if not heads:
            report.add(
                "completeness",
                f"heads.jsonl: no entry for {donor}'s chain head: a bundle cut short at the end would not be noticed",
            )
            return
        r = heads[0]
        try:
            nation, counter = r.get("nation", str), r.get("counter", int)
            last, index, count = r.hex("last_hash"), r.get("index", int), r.get("count", int)
            path = [strict_hex(x) for x in r.items("path")]
        except (_Bad, ValueError, TypeError) as exc:
            report.add("completeness", f"heads.jsonl: malformed head entry ({exc})")
            return
        if nation != donor:
            report.add("completeness", f"heads.jsonl: the head entry is {nation}'s, not {donor}'s")
            return
        want_count, root = committed
        if count != want_count or not verify_inclusion(
            leaf_hash(head_leaf(nation, counter, last)), index, count, path, root
        ):
            report.add(
                "completeness",
                f"heads.jsonl: {donor}'s head (counter {counter}) is not in the nation heads"
                f" committed by the witnessed checkpoint of size {size}: the end of the chain was rewritten",
                self.last_seq + 1 if self.last_seq else 1,
            )
            return
        if counter > self.counter:
            report.add(
                "completeness",
                f"{donor}'s event counter {self.counter + 1} is missing (the checkpoint of tree"
                f" size {size} commits to a chain of {counter} events; the bundle ends at {self.counter})",
                self.last_seq + 1 if self.last_seq else 1,
            )
        elif counter < self.counter or last != self.last:
            report.add(
                "completeness",
                f"the checkpoint's head of {donor}'s chain ({counter}) disagrees with the bundle ({self.counter})",
                self.last_seq or None,
            )
        elif trust.witness_quorum > 0:
            report.tail_witnessed = True  # the quorum itself is checked on the same checkpoint
        else:
            report.warnings.append(
                f"the end of {donor}'s chain (counter {counter}) is not witnessed: the trust file requires no witness"
                " cosignature, so only the log operator's signature says no later event was cut off"
            )
