"""Verify the stored log: every hash, link, batch signature, checkpoint, cosignature and stored
Merkle node, reading the database directly. Uses the same checking code as the offline verifier.

The report names the first bad sequence number, so an inspector knows from which event on the
record can no longer be trusted.

Hot path. A body is canonical JSON with sorted keys, so everything but the payload sits at fixed
places: ``{"counterparty":C,"nation":N,"payload":{...},"person":P,"prev":H,"seq":S,"time":T,
"type":Y}``. Instead of parsing every body, the verifier rebuilds that frame from what the body
must say (the stored columns, the batch's counterparty, the expected seq and the previous hash)
and compares bytes. A body whose frame matches says exactly what a parse would have found for
every checked field; the payload's bytes are covered by the hash, the chain and the batch
signature. Any body that does not match (or whose payload contains a ``"nation":`` or
``"counterparty":`` key that a parser could take for a top-level duplicate) goes through the full
parse of :class:`ChainChecker`, which names what is wrong. ``parse_payloads=True`` parses every
body as before (slower; also reports a signed payload that is not JSON).
"""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session

from coalition.ledger.merkle import STRIDE
from coalition.ledger.models import (
    LedgerBatch,
    LedgerCheckpoint,
    LedgerCosignature,
    LedgerHead,
    LedgerKey,
    LedgerNode,
    LedgerSignature,
)
from coalition.ledger.verifier import (
    ChainChecker,
    Key,
    Report,
    check_batch,
    check_checkpoint,
    event_frame,
    merkle_root,
)

CHUNK = 20_000


def load_keys(session: Session) -> dict[str, Key]:
    return {
        k.key_id: Key(k.key_id, k.kind, k.nation, bytes(k.public_key))
        for k in session.scalars(select(LedgerKey))
    }


def verify_log(session: Session, *, check_nodes: bool = True, parse_payloads: bool = False) -> Report:
    """Check the whole stored log; never raises for bad data, returns the findings."""
    report = Report()
    keys = load_keys(session)
    batches = []
    sigs: dict[int, list[dict]] = {}
    for bid, role, kid, sig in session.execute(
        select(LedgerSignature.batch_id, LedgerSignature.role, LedgerSignature.key_id, LedgerSignature.signature)
    ):
        sigs.setdefault(int(bid), []).append({"role": role, "key_id": kid, "signature": bytes(sig).hex()})
    for b in session.scalars(select(LedgerBatch).order_by(LedgerBatch.first_seq)):
        batches.append({
            "batch_id": b.batch_id, "first_seq": b.first_seq, "size": b.size, "nation": b.nation,
            "counterparty": b.counterparty, "root": bytes(b.root).hex(), "signatures": sigs.get(b.batch_id, []),
        })
    cps = []
    for c in session.scalars(select(LedgerCheckpoint).order_by(LedgerCheckpoint.size)):
        cos = [{"key_id": kid, "signature": bytes(sig).hex()} for kid, sig in session.execute(
            select(LedgerCosignature.key_id, LedgerCosignature.signature)
            .where(LedgerCosignature.checkpoint_id == c.checkpoint_id))]
        cps.append({"checkpoint_id": c.checkpoint_id, "size": c.size, "root": bytes(c.root).hex(),
                    "time": c.time, "key_id": c.key_id, "signature": bytes(c.signature).hex(),
                    "cosignatures": cos})
    wanted = {int(c["size"]) for c in cps}
    roots: dict[int, bytes] = {}
    chain = ChainChecker(report)
    if 0 in wanted:
        roots[0] = chain.frontier.root()
    bi = 0  # next batch to check
    stored_leaves: list[bytes] = []  # the tree nodes are derived from the stored event hashes
    batch_of: dict[int, int] = {}
    covered = 0
    last = 0
    conn = session.connection()
    m = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql = ("SELECT seq, body, hash, prev_hash, time, nation, person, type, batch_id FROM ledger_event"
           f" WHERE seq > {m} ORDER BY seq LIMIT {CHUNK}")
    cur = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    # per batch, in first_seq order: where it ends and its counterparty as canonical JSON
    b_first = [int(b["first_seq"]) for b in batches]
    b_end = [int(b["first_seq"]) + int(b["size"]) - 1 for b in batches]
    b_cp = [b["counterparty"] for b in batches]
    nb, bj = len(batches), 0  # bj: the batch the current event should be in
    sha, frame = hashlib.sha256, event_frame
    frontier_add, meta, leaves = chain.frontier.add, chain.meta, chain.leaves
    while True:
        cur.execute(sql, (last,))  # straight to the driver: this loop is the verify hot path
        rows = cur.fetchall()
        if not rows:
            break
        for seq, body, h, prev, time, nation, person, typ, batch_id in rows:
            h = bytes(h)
            if seq != chain.expected_seq:
                report.add("event", f"sequence gap: expected {chain.expected_seq}, found {seq}", chain.expected_seq)
                chain.expected_seq = seq
            prev_h = chain.prev
            if bytes(prev) != prev_h:
                report.add("event", "stored previous hash does not match the chain", seq)
            data = body.encode("utf-8")
            own = sha(b"\x00" + data).digest()
            while bj < nb and b_end[bj] < seq:
                bj += 1
            framed = False
            if own == h and bj < nb and b_first[bj] <= seq and not parse_payloads:
                head_, tail = frame(counterparty=b_cp[bj], nation=nation, person=person,
                                    prev_hex=prev_h.hex(), seq=seq, time=time, type=typ)
                # the payload is an object: its braces belong to the frame
                if (len(body) >= len(head_) + len(tail) + 2 and body.startswith(head_ + "{")
                        and body.endswith("}" + tail)):
                    mid = body[len(head_):len(body) - len(tail)]
                    framed = '"nation":' not in mid and '"counterparty":' not in mid
            if framed:  # every checked field is what the body says: same bookkeeping as ChainChecker.add
                meta[seq] = (nation, batches[bj]["counterparty"], typ)
                leaves.append(own)
                frontier_add(own)
                chain.prev = own
                chain.expected_seq = seq + 1
            else:  # parse it and say exactly what is wrong
                chain.add(data, h, {"time": time, "nation": nation, "person": person, "type": typ}, text=body)
            batch_of[seq] = int(batch_id)
            stored_leaves.append(h)
            if chain.frontier.size in wanted:
                roots[chain.frontier.size] = chain.frontier.root()
            # check every batch that ends here
            while bi < len(batches) and batches[bi]["first_seq"] + batches[bi]["size"] - 1 <= seq:
                b = batches[bi]
                first, size = int(b["first_seq"]), int(b["size"])
                if first != covered + 1:
                    report.add("batch", "batches do not cover the log contiguously", covered + 1)
                covered = first + size - 1
                check_batch(report, keys, b, chain.leaves[first - 1: first - 1 + size], chain.meta)
                for s in range(first, first + size):
                    if batch_of.get(s) != b["batch_id"]:
                        report.add("event", f"stored batch id {batch_of.get(s)} is not {b['batch_id']}", s)
                report.batches += 1
                bi += 1
        last = rows[-1][0]
        chain.meta = meta = {k: v for k, v in chain.meta.items() if k > covered}  # keep memory flat
    report.events = chain.frontier.size
    for b in batches[bi:]:  # signed batches whose events are (partly) gone
        gone = max(int(b["first_seq"]), report.events + 1)
        report.add("batch", f"batch {b['batch_id']} was signed for events {b['first_seq']}.."
                   f"{int(b['first_seq']) + int(b['size']) - 1}; event {gone} on are missing", gone)
    if covered < report.events and bi == len(batches):
        report.add("batch", "events outside any signed batch", covered + 1)
    size, last_hash = session.execute(select(LedgerHead.size, LedgerHead.last_hash)).one()
    if int(size) != report.events or bytes(last_hash) != chain.prev:
        report.add("head", f"head says {size} events; the log has {report.events}",
                   min(int(size), report.events) + 1 if int(size) != report.events else report.events)
    for cp in cps:
        s = int(cp["size"])
        check_checkpoint(report, keys, cp, roots.get(s) if s <= report.events else None)
        if s > report.events:
            report.add("checkpoint", f"checkpoint {cp['checkpoint_id']} covers {s} events; log has {report.events}")
    if check_nodes:
        _check_nodes(session, report, stored_leaves)
    return report


def _check_nodes(session: Session, report: Report, leaves: list[bytes]) -> None:
    """Recompute the stored subtree hashes (levels 4, 8, ...) from the leaves."""
    level_hashes = leaves
    level = 0
    fan = 1 << STRIDE
    while len(level_hashes) >= fan:
        n = len(level_hashes) // fan
        level_hashes = [merkle_root(level_hashes[i * fan:(i + 1) * fan]) for i in range(n)]
        level += STRIDE
        stored = session.execute(
            select(LedgerNode.idx, LedgerNode.hash).where(LedgerNode.level == level).order_by(LedgerNode.idx)
        ).all()
        if len(stored) != n:
            report.add("tree", f"level {level}: {len(stored)} stored nodes, expected {n}")
        for idx, h in stored:
            if idx >= n or bytes(h) != level_hashes[idx]:
                # derived data, not an event: proofs served from it would not verify
                report.add("tree", f"stored node level {level} index {idx} (events {(idx << level) + 1}.."
                           f"{(idx + 1) << level}) is wrong: proofs would fail; rebuild the node table")
                break
