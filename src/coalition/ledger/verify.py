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
body as before (slower; also reports a signed payload that is not JSON). With ``workers``, chunks
are checked in worker processes too (:mod:`coalition.ledger.rangecheck`) and their results
merged in seq order: the same report.
"""

from __future__ import annotations

import hashlib
import json
import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypedDict

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from coalition.ledger.canonical import canonical_text, chain_text_of, event_frame
from coalition.ledger.checkpoints import _row_to_cp, checkpoint_note, nation_heads
from coalition.ledger.checks import (
    BatchDict,
    BatchSignature,
    ChainChecker,
    NationChains,
    Report,
    batch_leaves,
    check_batch,
    check_checkpoint,
    check_keylog,
    runs,
    tile,
)
from coalition.ledger.chunkcheck import EventRow, Fields, Runs
from coalition.ledger.merkle import STRIDE
from coalition.ledger.models import (
    LedgerBatch,
    LedgerCheckpoint,
    LedgerEvent,
    LedgerHead,
    LedgerKeyEvent,
    LedgerNode,
    LedgerSignature,
)
from coalition.ledger.nationheads import ChainHead
from coalition.ledger.rangecheck import CHUNK_SQL, ChunkDone, ChunkTask, DbSpec, Workers, check_rows
from coalition.ledger.rfc6962 import Frontier, merkle_root
from coalition.ledger.trust import KeyLog, Trust, signature_list
from coalition.store.bulk import raw_cursor

CHUNK = 16_384
#: PostgreSQL in one process: smaller chunks, so that reading the next one overlaps checking
#: this one (:func:`_chunks`)
PG_CHUNK = 4_096
#: worker processes only for a log of at least this many chunks (each takes 0.05-0.2 s of CPU to
#: start: Python, and psycopg on PostgreSQL)
PARALLEL_CHUNKS = 4
#: with workers, this process checks chunks too while no result is ready (tests switch it off
#: to have every chunk checked by a worker)
CHECK_HERE_TOO = True
#: on PostgreSQL each checking process keeps a server backend busy reading its rows (the
#: prefetch thread overlaps the two), so it takes this many cores: on a 2-core machine one
#: process already uses both and a worker process only competes with it (measured: 209k events/s
#: in one process, 177k with a worker; tests set 1 to run the worker path on any machine)
PG_CORES_PER_PROCESS = 2
_CHAIN_NAMES = re.compile(r'"([A-Z]{3})":\[')  # the nations named in a canonical chain text
_ZERO_HEX = "0" * 64
_NATION = re.compile(r"[A-Z]{3}")  # what a chain may name (anything else goes to the full parse)


@contextmanager
def snapshot_transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A read-only transaction over ONE snapshot of the database, so that a verify running
    while appends commit never sees half of an append (events without their batch, a head ahead
    of the events): REPEATABLE READ on PostgreSQL; on SQLite an explicit read transaction (the
    driver would otherwise run each SELECT on its own, each seeing a newer state). Rolled back
    at the end: verify writes nothing."""
    session = factory()
    try:
        conn = session.connection()
        if conn.dialect.name == "sqlite":
            raw = conn.connection.driver_connection
            if raw is None:
                raise RuntimeError("the session's connection is closed")
            if not raw.in_transaction:
                conn.exec_driver_sql("BEGIN")
            conn.exec_driver_sql("SELECT count(*) FROM ledger_head")  # the snapshot starts at the first read
        else:
            conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield session
    finally:
        session.rollback()
        session.close()


def batch_row(b: LedgerBatch, signatures: list[BatchSignature]) -> BatchDict:
    """A stored batch as the verifier's dict (the same shape as a line of batches.jsonl)."""
    row: BatchDict = {
        "batch_id": b.batch_id,
        "first_seq": b.first_seq,
        "size": b.size,
        "nation": b.nation,
        "counterparty": b.counterparty,
        "root": bytes(b.root).hex(),
        "time": b.time,
        "keys_size": b.keys_size,
        "keys_head": bytes(b.keys_head).hex() if b.keys_head is not None else None,
        "signatures": signatures,
    }
    if b.runs is not None:
        row["runs"] = _parse_runs(b.runs)
    return row


class _StoredCheckpoint(TypedDict):
    checkpoint_id: int
    size: int
    note: str  # the C2SP note with the stored cosignatures


def _parse_runs(text: str) -> object:
    """The stored runs of a non-contiguous batch (checked by ``check_batch``; unreadable text is
    kept as is and reported there)."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def load_keylog(session: Session, trust: Trust, report: Report) -> KeyLog:
    """Replay the stored key events under the pinned trust (``ledger_key`` rows are ignored)."""
    keys = KeyLog(trust)
    for body, sigs in session.execute(
        select(LedgerKeyEvent.body, LedgerKeyEvent.signatures).order_by(LedgerKeyEvent.n)
    ):
        try:
            parsed = json.loads(sigs)
        except ValueError:
            parsed = []
        keys.add(body.encode("utf-8"), signature_list(parsed))
    check_keylog(report, keys)
    return keys


def verify_log(
    session: Session,
    *,
    trust: Trust,
    check_nodes: bool = True,
    parse_payloads: bool = False,
    rules: bool = False,
    projection: bool = False,
    workers: int = 1,
) -> Report:
    """Check the whole stored log against the pinned ``trust``; never raises for bad data.
    ``rules`` replays the log to check again who may sign what (:mod:`coalition.ledger.replay`);
    ``projection`` also compares the stored projection with the replay, row by row.
    ``workers`` > 1 checks the chunks of a long log in this process and ``workers - 1`` worker
    processes (:mod:`coalition.ledger.rangecheck`; a file or PostgreSQL database): the same
    report."""
    from coalition.ledger.service import paused_gc

    with paused_gc():
        report = _verify_log(
            session, trust=trust, check_nodes=check_nodes, parse_payloads=parse_payloads, workers=workers
        )
    if rules or projection:
        from coalition.ledger.replay import projection_diff, replay_log

        state = replay_log(session, report)
        if projection:
            for d in projection_diff(session, state):
                report.add("projection", str(d))
                report.diffs.append(d)
    return report


def _verify_log(session: Session, *, trust: Trust, check_nodes: bool, parse_payloads: bool, workers: int) -> Report:
    report = Report()
    top = int(session.execute(select(func.coalesce(func.max(LedgerEvent.seq), 0))).scalar_one())
    pool = _start_workers(session, workers, top) if not parse_payloads else None  # they start up meanwhile
    try:
        keys = load_keylog(session, trust, report)
        batches = _stored_batches(session)
        cps = _stored_checkpoints(session, trust)
        walk = _LogWalk(report, keys, batches, {int(c["size"]) for c in cps}, parse_payloads)
        walk.run(session, top, pool)
    finally:
        if pool is not None:
            pool.close()
    chain, chains = walk.chain, walk.chains.chains
    report.events = chain.frontier.size
    for b in batches[walk.bi :]:  # signed batches whose events are (partly) gone
        gone = max(int(b["first_seq"]), report.events + 1)
        report.add(
            "batch",
            f"batch {b['batch_id']} was signed for events {b['first_seq']}.."
            f"{int(b['first_seq']) + int(b['size']) - 1}; event {gone} on are missing",
            gone,
        )
    if walk.covered < report.events and walk.bi == len(batches):
        report.add("batch", "events outside any signed batch", walk.covered + 1)
    stored_heads = nation_heads(session)
    if stored_heads != chains.heads:
        bad = sorted(n for n in set(stored_heads) | set(chains.heads) if stored_heads.get(n) != chains.heads.get(n))
        report.add(
            "chain",
            f"stored per-nation chain heads disagree with the log for {', '.join(bad)}"
            " (derived rows; appends would link to the wrong event)",
        )
    size, last_hash = session.execute(select(LedgerHead.size, LedgerHead.last_hash)).one()
    if int(size) != report.events or bytes(last_hash) != chain.prev:
        report.add(
            "head",
            f"head says {size} events; the log has {report.events}",
            min(int(size), report.events) + 1 if int(size) != report.events else report.events,
        )
    for cp in cps:
        s = int(cp["size"])
        check_checkpoint(
            report,
            trust,
            cp["note"],
            walk.roots.get(s) if s <= report.events else None,
            label=f"checkpoint {cp['checkpoint_id']}",
            heads=walk.heads_at.get(s),
        )
        if s > report.events:
            report.add("checkpoint", f"checkpoint {cp['checkpoint_id']} covers {s} events; log has {report.events}")
    if check_nodes:
        if walk.stored_leaves == chain.leaves:  # every stored hash is the body's: reuse the level-4 subtrees
            _check_nodes(session, report, chain.frontier.kept, start_level=STRIDE)
        else:
            _check_nodes(session, report, walk.stored_leaves)
    return report


def _stored_batches(session: Session) -> list[BatchDict]:
    """Every stored batch with its signatures, in first_seq order."""
    sigs: dict[int, list[BatchSignature]] = {}
    for bid, role, kid, sig in session.execute(
        select(LedgerSignature.batch_id, LedgerSignature.role, LedgerSignature.key_id, LedgerSignature.signature)
    ):
        sigs.setdefault(int(bid), []).append({"role": role, "key_id": kid, "signature": bytes(sig).hex()})
    return [
        batch_row(b, sigs.get(b.batch_id, []))
        for b in session.scalars(select(LedgerBatch).order_by(LedgerBatch.first_seq))
    ]


def _stored_checkpoints(session: Session, trust: Trust) -> list[_StoredCheckpoint]:
    """Every stored checkpoint as its C2SP note (with the stored cosignatures), by size."""
    cps: list[_StoredCheckpoint] = []
    for c in session.scalars(select(LedgerCheckpoint).order_by(LedgerCheckpoint.size)):
        cp = _row_to_cp(session, c)
        cps.append(
            {
                "checkpoint_id": c.checkpoint_id,
                "size": c.size,
                "note": checkpoint_note(session, cp, public_key=trust.log_key.public_key),
            }
        )
    return cps


class _FastChains:
    """The per-nation chain check of framed bodies: rebuilds the text the links must have (next
    counter, previous hash of each named nation, sorted) and compares it with the body's; equal
    text means a parse would find nothing wrong. Anything else goes to :class:`NationChains`'s
    parse, which says what is wrong."""

    def __init__(self, report: Report, chains: NationChains) -> None:
        self.report, self.chains = report, chains
        self.hexes: dict[str, tuple[bytes, str] | None] = {}  # nation -> (head hash, its hex)

    def link(self, seq: int, text: str | None, own: bytes) -> None:
        heads, hexes = self.chains.heads, self.hexes
        if text is not None and text.count('":[') == 1 and _NATION.fullmatch(text[2:5]):  # one nation: most events
            n = text[2:5]
            got = heads.get(n)
            if got is None:
                one = f'{{"{n}":[1,"{_ZERO_HEX}"]}}'
            else:
                hx = hexes.get(n)
                if hx is None or hx[0] is not got[1]:
                    hx = hexes[n] = (got[1], got[1].hex())
                one = f'{{"{n}":[{got[0] + 1},"{hx[1]}"]}}'
            if one == text:
                heads[n] = (got[0] + 1 if got else 1, own, seq)
                hexes[n] = (own, own.hex())
                return
        if text is not None:
            names = _CHAIN_NAMES.findall(text)
            expect = []
            for n in names:
                got = heads.get(n)
                if got is None:
                    expect.append(f'"{n}":[1,"{_ZERO_HEX}"]')
                    continue
                hx = hexes.get(n)
                if hx is None or hx[0] is not got[1]:  # the hex of the head's hash, computed once
                    hx = hexes[n] = (got[1], got[1].hex())
                expect.append(f'"{n}":[{got[0] + 1},"{hx[1]}"]')
            if "{" + ",".join(expect) + "}" == text and names == sorted(set(names)):
                mine = (own, own.hex()) if names else None
                for n in names:
                    got = heads.get(n)
                    heads[n] = (got[0] + 1 if got else 1, own, seq)
                    hexes[n] = mine
                return
        try:
            value = json.loads(text) if text is not None else None
        except ValueError:
            value = None
        if value is None or canonical_text(value) != text:
            self.report.add("chain", "per-nation chain links are not canonical JSON", seq)
            value = None
        self.chains.add(seq, value, own)


class _LogWalk:
    """One pass over the stored events in seq order: clean chunks in bulk, anything else row by
    row; batches are checked as soon as their last event has been read."""

    def __init__(
        self, report: Report, keys: KeyLog, batches: list[BatchDict], wanted: set[int], parse_payloads: bool
    ) -> None:
        self.report, self.keys, self.batches, self.wanted = report, keys, batches, wanted
        self.parse_payloads = parse_payloads
        self.chain = ChainChecker(report)
        self.chain.frontier = Frontier(keep_height=STRIDE)  # keeps the level-4 subtrees for _check_nodes
        self.chains = _FastChains(report, self.chain.chains)
        self.roots: dict[int, bytes] = {0: self.chain.frontier.root()} if 0 in wanted else {}
        self.heads_at: dict[int, dict[str, ChainHead]] = {0: {}}  # the per-nation chain heads at each checkpoint's size
        self.stored_leaves: list[bytes] = []  # the tree nodes are derived from the stored event hashes
        self.bids: list[int | None] = []  # the stored batch id of each seq (index seq - 1; None: no such row)
        self.bi = self.bj = 0  # next batch to check; run of the current event
        # per batch, in first_seq order: its runs, first seq and last seq (a batch is checked
        # once its last event has been read)
        self.runs = [runs(b) for b in batches]
        self.first = [r[0][0] for r in self.runs]
        self.last = [r[-1][0] + r[-1][1] - 1 for r in self.runs]
        found = len(report.findings)
        self.covered = tile(report, batches)  # every event in exactly one batch: the last seq covered
        # the bulk check relies on each seq lying in exactly one run; otherwise every row is
        # checked on its own
        self.bulk = not parse_payloads and len(report.findings) == found
        # per run of events (a contiguous batch is one run), in seq order: first and last seq,
        # the batch's counterparty, id and nation
        segs = sorted(
            (f, f + n - 1, b["counterparty"], int(b["batch_id"]), b["nation"])
            for b, rs in zip(batches, self.runs, strict=True)
            for f, n in rs
        )
        self.segs = Runs(*(list(col) for col in zip(*segs, strict=True))) if segs else Runs([], [], [], [], [])
        self.b_first, self.b_end, self.b_cp = self.segs.first, self.segs.end, self.segs.counterparty
        self.batch_roots: dict[int, bytes] = {}  # batch id -> root of its leaves, computed by a chunk check

    def run(self, session: Session, top: int, pool: Workers | None) -> None:
        """Check seqs 1..``top`` (the last stored seq): chunk by chunk in bulk when the batches
        tile the log (in ``pool``'s workers if given), anything not clean row by row."""
        conn = session.connection()
        m = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        full = "SELECT seq, body, hash, prev_hash, time, nation, person, type, batch_id FROM ledger_event"
        cur = raw_cursor(session)
        size = PG_CHUNK if conn.dialect.name == "postgresql" and pool is None else CHUNK
        if not self.bulk:
            for rows in _chunks(session, f"{full} WHERE seq > {m} ORDER BY seq LIMIT {size}"):
                for row in rows:
                    self._row(row)
                self._trim(rows[-1][0])
            return
        tasks = self._tasks(top, size)
        cache: Fields = {}

        def local(task: ChunkTask) -> ChunkDone:
            cur.execute(CHUNK_SQL.format(m=m), (task.lo, task.hi))
            return check_rows(cur.fetchall(), task, cache)

        results: Iterator[tuple[ChunkDone, bool]]
        if pool is not None:
            self.report.workers = len(pool.procs)
            results = pool.results(tasks, local, help_out=CHECK_HERE_TOO)
        else:
            read = _chunks(session, CHUNK_SQL.format(m=m), [(t.lo, t.hi) for t in tasks])
            results = ((check_rows(rows, t, cache), False) for t, rows in zip(tasks, read, strict=True))
        for task, (done, remote) in zip(tasks, results, strict=True):
            if self._merge(task, done):
                self.report.worker_chunks += remote
            else:  # the same events again, every column, one by one
                cur.execute(f"{full} WHERE seq >= {m} AND seq <= {m} ORDER BY seq", (task.lo, task.hi))
                for row in cur.fetchall():
                    self._row(row)
                self._close_batches(task.hi)
            self._trim(task.hi)

    def _trim(self, last: int) -> None:
        """Keep the meta of the open batches' events only (memory stays flat)."""
        keep = self.first[self.bi] if self.bi < len(self.first) else last + 1
        self.chain.meta = {k: v for k, v in self.chain.meta.items() if k >= keep}

    def _tasks(self, top: int, size: int) -> list[ChunkTask]:
        """The chunks of seqs 1..top, each with its runs, checkpoint sizes and the batches
        that lie wholly inside it."""
        inside: dict[int, list[tuple[int, tuple[tuple[int, int], ...]]]] = {}
        for b, rs, f, last in zip(self.batches, self.runs, self.first, self.last, strict=True):
            if f >= 1 and (f - 1) // size == (last - 1) // size:
                inside.setdefault((f - 1) // size, []).append((int(b["batch_id"]), tuple(rs)))
        segs, wanted = self.segs, sorted(self.wanted)
        tasks = []
        for k, lo in enumerate(range(1, top + 1, size)):
            hi = min(top, lo + size - 1)
            j0, j1 = bisect_left(segs.end, lo), bisect_right(segs.first, hi)
            runs = Runs(
                segs.first[j0:j1], segs.end[j0:j1], segs.counterparty[j0:j1], segs.batch_id[j0:j1], segs.nation[j0:j1]
            )
            marks = tuple(wanted[bisect_left(wanted, lo) : bisect_right(wanted, hi)])
            tasks.append(ChunkTask(lo, hi, runs, marks, tuple(inside.get(k, ()))))
        return tasks

    def _merge(self, task: ChunkTask, done: ChunkDone) -> bool:
        """Take a clean chunk's result if the chain so far ends where the chunk assumed (its
        first seq, the hash its first event follows, the heads it took from before it):
        then the chunk is clean exactly as if checked here, and its bookkeeping is done in bulk
        (its events need no meta for their batch checks: the bulk check found their nation,
        counterparty and type to be their batch's). Else False: nothing was changed."""
        chain, frontier = self.chain, self.chain.frontier
        if not done.clean or chain.expected_seq != task.lo or frontier.size != task.lo - 1:
            return False
        if len(self.bids) != task.lo - 1 or done.prev != chain.prev:
            return False
        heads = chain.chains.heads
        for n, link in done.before.items():
            got = heads.get(n)
            if ((got[0], got[1].hex()) if got is not None else (0, _ZERO_HEX)) != link:
                return False
        for w, pieces in done.at.items():  # the root and heads at each checkpoint size inside
            at = frontier.copy()
            at.graft(pieces)
            self.roots[w] = at.root()
            self.heads_at[w] = {**heads, **done.marks[w]}
        owns = done.owns
        frontier.graft(done.pieces, done.kept)
        chain.leaves.extend(owns)
        self.stored_leaves.extend(owns)  # equal to the stored hashes (checked)
        chain.prev = owns[-1]
        chain.expected_seq = task.hi + 1
        runs = task.runs
        for f, e, bid in zip(runs.first, runs.end, runs.batch_id, strict=True):  # every row's batch id is its run's
            self.bids.extend([bid] * (min(e, task.hi) - max(f, task.lo) + 1))
        heads.update(done.heads)
        self.batch_roots.update(done.roots)
        self._close_batches(task.hi)
        return True

    def _row(self, row: EventRow) -> None:
        """One event at a time, parsing what does not fit the frame: says exactly what is wrong."""
        seq, body, h, prev, time, nation, person, typ, batch_id = row
        report, chain, frontier = self.report, self.chain, self.chain.frontier
        h = bytes(h)
        if seq != chain.expected_seq:
            report.add("event", f"sequence gap: expected {chain.expected_seq}, found {seq}", chain.expected_seq)
            chain.expected_seq = seq
        prev_h = chain.prev
        if prev != prev_h:  # bytes (or a buffer) against bytes: compares the content
            report.add("event", "stored previous hash does not match the chain", seq)
        data = body.encode("utf-8")
        own = hashlib.sha256(b"\x00" + data).digest()
        nb = len(self.b_end)
        while self.bj < nb and self.b_end[self.bj] < seq:
            self.bj += 1
        bj = self.bj
        ct = chain_text_of(body)
        if (
            own == h
            and bj < nb
            and self.b_first[bj] <= seq
            and not self.parse_payloads
            and ct is not None
            and _framed(body, event_frame(self.b_cp[bj], nation, person, prev_h.hex(), seq, time, typ, ct))
        ):
            chain.meta[seq] = (nation, self.b_cp[bj], typ)  # what ChainChecker.add records
            self.chains.link(seq, ct, own)
            chain.leaves.append(own)
            chain.prev = own
            chain.expected_seq = seq + 1
            self._add_leaves([own])
        else:
            chain.add(data, h, {"time": time, "nation": nation, "person": person, "type": typ}, text=body)
            if frontier.size in self.wanted:
                self.roots[frontier.size] = frontier.root()
        if frontier.size in self.wanted:
            self.heads_at[frontier.size] = dict(self.chains.chains.heads)
        bids = self.bids
        if 0 < seq <= len(bids):  # a repeated seq (rows come in seq order): the last row counts
            bids[seq - 1] = int(batch_id)
        elif seq > 0:
            bids.extend([None] * (seq - 1 - len(bids)))  # seqs with no row stay None
            bids.append(int(batch_id))
        self.stored_leaves.append(h)
        self._close_batches(seq)

    def _add_leaves(self, owns: list[bytes]) -> None:
        """Extend the Merkle frontier, taking the root at every checkpoint size on the way."""
        frontier, roots = self.chain.frontier, self.roots
        start = frontier.size
        if len(owns) == 1:
            frontier.add(owns[0])
            if start + 1 in self.wanted:
                roots[start + 1] = frontier.root()
            return
        i = 0
        for size in sorted(w for w in self.wanted if start < w <= start + len(owns)):
            frontier.extend(owns[i : size - start])
            roots[size] = frontier.root()
            i = size - start
        frontier.extend(owns[i:])

    def _close_batches(self, upto: int) -> None:
        """Check every batch, in first_seq order, that ends at or before ``upto`` (all its events
        have been read)."""
        report, chain, bids = self.report, self.chain, self.bids
        while self.bi < len(self.batches) and self.last[self.bi] <= upto:
            bi = self.bi
            b, rs, bid = self.batches[bi], self.runs[bi], int(self.batches[bi]["batch_id"])
            leaves_root = self.batch_roots.pop(bid, None)
            check_batch(report, self.keys, b, batch_leaves(chain.leaves, rs), chain.meta, leaves_root=leaves_root)
            for f, n in rs:
                if f > 0 and bids[f - 1 : f - 1 + n].count(bid) == n:
                    continue  # every stored row of the run names the batch
                for s in range(f, f + n):
                    got = bids[s - 1] if 0 < s <= len(bids) else None
                    if got != bid:
                        report.add("event", f"stored batch id {got} is not {bid}", s)
            report.batches += 1
            self.bi += 1


def _chunks(session: Session, sql: str, ranges: list[tuple[int, int]] | None = None) -> Iterator[list[Any]]:
    """The rows of ``sql`` chunk after chunk, in the session's transaction, straight from the
    driver (the verify hot path): with ``ranges``, ``sql`` takes a first and a last seq and
    is read once per range; else it is ``WHERE seq > ? ... LIMIT`` and is read until no row is
    left. On PostgreSQL the next chunk is read (binary rows: no hex for the hashes) on a
    second thread while the caller checks this one, so the server's work overlaps the check;
    it is the same connection, hence the same snapshot, and psycopg serializes the
    connection's use. SQLite runs in this process: one chunk at a time."""
    raw = session.connection().connection.driver_connection
    if raw is None:
        raise RuntimeError("the session's connection is closed")
    pg = session.get_bind().dialect.name == "postgresql"
    cur = raw.cursor(binary=True) if pg else raw.cursor()

    def read(params: tuple[int, ...]) -> list[Any]:
        cur.execute(sql, params)
        return list(cur.fetchall())

    if not pg:
        if ranges is not None:
            yield from (read(r) for r in ranges)
            return
        last = 0
        while rows := read((last,)):
            yield rows
            last = rows[-1][0]
        return
    with ThreadPoolExecutor(max_workers=1) as pool:
        if ranges is not None:
            if not ranges:
                return
            pending = pool.submit(read, ranges[0])
            for r in ranges[1:]:
                rows = pending.result()
                pending = pool.submit(read, r)
                yield rows
            yield pending.result()
            return
        pending = pool.submit(read, (0,))
        while rows := pending.result():
            pending = pool.submit(read, (rows[-1][0],))
            yield rows


def _start_workers(session: Session, workers: int, top: int) -> Workers | None:
    """Worker processes for a log of ``top`` events, if worth it and the database can be
    reached from another process (a file or PostgreSQL, not an in-memory SQLite)."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        workers //= PG_CORES_PER_PROCESS
    n = min(workers, -(-top // CHUNK)) - 1  # this process checks chunks too
    if n < 1 or top < PARALLEL_CHUNKS * CHUNK:
        return None
    url = bind.engine.url
    spec: DbSpec
    if bind.dialect.name == "sqlite":
        path = url.database
        if not path or path == ":memory:" or path.startswith("file:"):
            return None
        spec = ("sqlite", str(Path(path).resolve()), None)
    elif bind.dialect.name == "postgresql":
        if session.in_nested_transaction():
            return None  # a snapshot cannot be exported from a subtransaction (and the error would abort ours)
        snapshot = session.connection().exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
        spec = ("postgresql", url.set(drivername="postgresql").render_as_string(hide_password=False), snapshot)
    else:
        return None
    try:
        return Workers(n, spec)
    except OSError:  # no interpreter to start (an embedded Python): check everything here
        return None


def _framed(body: str, frame: tuple[str, str]) -> bool:
    """Is ``body`` exactly ``head {payload} tail``, with no top-level field smuggled into the
    payload (a parser keeps the last of two equal keys, so ``"nation":`` or ``"counterparty":``
    anywhere in the payload sends the body to the full parse)?"""
    head, tail = frame
    if len(body) < len(head) + len(tail) + 2 or not body.startswith(head + "{") or not body.endswith("}" + tail):
        return False
    mid = body[len(head) : len(body) - len(tail)]
    return '"nation":' not in mid and '"counterparty":' not in mid and '"chain":' not in mid


def _check_nodes(session: Session, report: Report, hashes: list[bytes], *, start_level: int = 0) -> None:
    """Recompute the stored subtree hashes (levels 4, 8, ...) from the leaves (``start_level`` 0)
    or from the already computed subtrees of level ``start_level``."""
    level_hashes = hashes
    level = 0
    fan = 1 << STRIDE
    while level < start_level or len(level_hashes) >= fan:
        if level < start_level:  # given: the complete subtrees of this level, computed elsewhere
            level = start_level
        else:
            n = len(level_hashes) // fan
            level_hashes = [merkle_root(level_hashes[i * fan : (i + 1) * fan]) for i in range(n)]
            level += STRIDE
        n = len(level_hashes)
        stored = session.execute(
            select(LedgerNode.idx, LedgerNode.hash).where(LedgerNode.level == level).order_by(LedgerNode.idx)
        ).all()
        if len(stored) != n:
            report.add("tree", f"level {level}: {len(stored)} stored nodes, expected {n}")
        for idx, h in stored:
            if idx >= n or bytes(h) != level_hashes[idx]:
                # derived data, not an event: proofs served from it would not verify
                report.add(
                    "tree",
                    f"stored node level {level} index {idx} (events {(idx << level) + 1}.."
                    f"{(idx + 1) << level}) is wrong: proofs would fail; rebuild the node table",
                )
                break
