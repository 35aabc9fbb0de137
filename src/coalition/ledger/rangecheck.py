"""The database verifier's check of one chunk of stored events, done where it can run on another
core: in this process, or in worker processes that read the chunk over their own connection to
the same database (``python -m coalition.ledger.rangecheck``, fed tasks over a pipe).

A chunk's check (:func:`check_rows`) needs nothing of the log before it: the per-nation chain
heads it starts from are taken from the bodies (``check_chunk(..., guess=True)``) and returned
with the result, as are the hash its first event says it follows and the chunk's first seq. It
also does the chunk's share of the tree work: its leaves as the largest aligned complete subtrees
(:func:`~coalition.ledger.rfc6962.subtrees`, grafted onto the verifier's frontier), the
subtrees at each checkpoint size inside it, and the Merkle root of every signed batch whose
events all lie inside it. The verifier (:mod:`coalition.ledger.verify`) takes the results in seq
order and uses one only if the chain before the chunk ends exactly where the chunk assumed;
anything else (a chunk that is not clean, a failed worker) it checks row by row in its own
snapshot, as it always did. The results are therefore the serial verifier's, whatever ran where.

**Snapshots.** PostgreSQL workers import the verifier's snapshot (``pg_export_snapshot``, as
parallel ``pg_dump`` does), so they read exactly what it reads. SQLite cannot share a snapshot
between connections: a worker's read transaction starts after the verifier's, and it reads only
seqs up to the verifier's last one. Event rows are only ever inserted (nothing in the package
updates or deletes them), so appends meanwhile change nothing it reads; an edit by hand that
lands while verify runs may be seen by a worker, as it would be by a verify started a moment
later.
"""

from __future__ import annotations

import contextlib
import pickle
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any, NamedTuple

from coalition.ledger.chunkcheck import FAST_COLUMNS, FastRow, Fields, Link, Runs, check_chunk
from coalition.ledger.merkle import STRIDE
from coalition.ledger.nationheads import ChainHead
from coalition.ledger.rfc6962 import merkle_root, subtrees

#: how a worker reaches the database: ("sqlite", file path, None) or ("postgresql", libpq URL,
#: the exported snapshot id)
DbSpec = tuple[str, str, str | None]


class ChunkTask(NamedTuple):
    """One chunk to check: seqs ``lo..hi``, the runs of the signed batches that hold them, the
    checkpoint sizes inside, and the batches whose events all lie inside (id, runs)."""

    lo: int
    hi: int
    runs: Runs
    wanted: tuple[int, ...]
    batches: tuple[tuple[int, tuple[tuple[int, int], ...]], ...]


class ChunkDone(NamedTuple):
    """A chunk's result. ``clean`` False: nothing else is set (the verifier checks the chunk
    row by row). Else: the hash its first event says it follows (``prev``), the chain heads it
    took from before it (``before``) and moved (``heads``; ``marks``: moved up to each
    checkpoint size inside), its leaf hashes (``owns``), its complete aligned subtrees
    (``pieces``) with the stored-level subtrees inside them (``kept``), the pieces up to
    each checkpoint size inside (``at``) and the root of each batch inside (``roots``)."""

    clean: bool
    prev: bytes = b""
    before: dict[str, Link] = {}
    heads: dict[str, ChainHead] = {}
    marks: dict[int, dict[str, ChainHead]] = {}
    owns: list[bytes] = []
    pieces: list[tuple[int, bytes]] = []
    kept: list[bytes] = []
    at: dict[int, list[tuple[int, bytes]]] = {}
    roots: dict[int, bytes] = {}


NOT_CLEAN = ChunkDone(False)
#: the rows of one chunk (two parameters: its first and last seq)
CHUNK_SQL = f"SELECT {FAST_COLUMNS} FROM ledger_event WHERE seq >= {{m}} AND seq <= {{m}} ORDER BY seq"


def check_rows(rows: Sequence[FastRow], task: ChunkTask, cache: Fields) -> ChunkDone:
    """Check the rows read for ``task`` (seq order): :data:`NOT_CLEAN` unless they are exactly
    seqs ``lo..hi`` and clean (:func:`~coalition.ledger.chunkcheck.check_chunk`, the heads
    before the chunk guessed from the bodies)."""
    if not rows or rows[-1][0] != task.hi:
        return NOT_CLEAN
    prev = bytes(rows[0][3])
    clean = check_chunk(rows, task.lo, prev, task.runs, {}, set(task.wanted), cache, guess=True)
    if clean is None:
        return NOT_CLEAN
    owns, lo = clean.owns, task.lo
    pieces, kept = subtrees(lo - 1, owns, STRIDE)
    at = {w: subtrees(lo - 1, owns[: w - lo + 1])[0] for w in task.wanted}
    roots = {}
    for bid, runs in task.batches:
        leaves = owns[runs[0][0] - lo : runs[0][0] - lo + runs[0][1]]
        for f, n in runs[1:]:
            leaves += owns[f - lo : f - lo + n]
        roots[bid] = merkle_root(leaves)
    return ChunkDone(True, prev, clean.before, clean.heads, clean.marks, owns, pieces, kept, at, roots)


# --------------------------------------------------------------------------------------------
# Worker processes
# --------------------------------------------------------------------------------------------
def _connect(spec: DbSpec) -> tuple[Any, str]:
    """A read-only transaction on the database of ``spec`` (the verifier's snapshot on
    PostgreSQL), and the SQL of a chunk's rows for it."""
    kind, target, snapshot = spec
    if kind == "sqlite":
        import sqlite3
        from urllib.parse import quote

        db = sqlite3.connect(f"file:{quote(target)}?mode=ro", uri=True, isolation_level=None)
        db.execute("PRAGMA busy_timeout=30000")
        db.execute("BEGIN")
        return db.cursor(), CHUNK_SQL.format(m="?")
    import psycopg
    from psycopg import sql

    pg = psycopg.connect(target)
    pg.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    pg.read_only = True
    pg.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(snapshot)))
    return pg.cursor(binary=True), CHUNK_SQL.format(m="%s")


def main() -> None:
    """A worker: read the database spec, then tasks, from stdin; write each result to stdout."""
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    cur, query = _connect(pickle.load(inp))
    cache: Fields = {}
    while (task := pickle.load(inp)) is not None:
        cur.execute(query, (task.lo, task.hi))
        pickle.dump(check_rows(cur.fetchall(), task, cache), out, protocol=pickle.HIGHEST_PROTOCOL)
        out.flush()


class Workers:
    """``n`` worker processes checking chunks for one verify; :meth:`results` hands the tasks
    out as workers come free, checks chunks itself (``local``: the verifier's own check, in its
    snapshot) while none is ready, and yields the results in task order. A worker that fails
    leaves its task to ``local``."""

    def __init__(self, n: int, spec: DbSpec) -> None:
        src = str(Path(__file__).resolve().parents[2])  # this very code, whatever sys.path says
        code = f"import sys; sys.path.insert(0, {src!r}); from coalition.ledger.rangecheck import main; main()"
        self.procs: list[subprocess.Popen[bytes]] = []
        self.stop = threading.Event()
        try:
            for _ in range(n):
                cmd = [sys.executable, "-c", code]
                self.procs.append(subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE))
        except OSError:
            self.close()
            raise
        for p in self.procs:
            self._send(p.stdin, spec)

    @staticmethod
    def _send(pipe: IO[bytes] | None, value: object) -> bool:
        try:
            assert pipe is not None
            pickle.dump(value, pipe, protocol=pickle.HIGHEST_PROTOCOL)
            pipe.flush()
            return True
        except (OSError, ValueError):
            return False

    def results(
        self, tasks: Sequence[ChunkTask], local: Callable[[ChunkTask], ChunkDone], *, help_out: bool = True
    ) -> Iterator[tuple[ChunkDone, bool]]:
        """Each task's result, in order, and whether a worker made it (else ``local`` did).
        ``help_out`` False: ``local`` only checks what a failed worker left."""
        done: dict[int, ChunkDone | None] = {}
        todo = iter(range(len(tasks)))
        lock = threading.Condition()

        def serve(p: subprocess.Popen[bytes]) -> None:
            reply = p.stdout
            while reply is not None and not self.stop.is_set():
                with lock:
                    k = next(todo, None)
                if k is None:
                    break
                got: ChunkDone | None = None
                if self._send(p.stdin, tasks[k]):
                    try:
                        got = pickle.load(reply)
                    except (OSError, EOFError, pickle.UnpicklingError):
                        got = None
                with lock:
                    done[k] = got
                    lock.notify_all()
                if got is None:
                    break
            with lock:
                lock.notify_all()

        threads = [threading.Thread(target=serve, args=(p,), daemon=True) for p in self.procs]
        for t in threads:
            t.start()
        mine: dict[int, ChunkDone] = {}  # checked here while the workers were busy
        try:
            for k, task in enumerate(tasks):
                while k not in mine:
                    with lock:
                        if k in done:
                            break
                        j = next(todo, None) if help_out else None  # check the next chunk no worker took
                        if j is None:
                            if not any(t.is_alive() for t in threads):
                                break
                            lock.wait(1.0)
                            continue
                    mine[j] = local(tasks[j])
                if k in mine:
                    yield mine.pop(k), False
                    continue
                with lock:
                    got = done.pop(k, None)
                yield (got, True) if got is not None else (local(task), False)
        finally:
            self.close()

    def close(self) -> None:
        """Tell every worker to stop after its task and wait for it (killed after 10 s)."""
        self.stop.set()
        for p in self.procs:
            self._send(p.stdin, None)
            if p.stdin is not None:
                with contextlib.suppress(OSError):
                    p.stdin.close()
        for p in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            if p.stdout is not None:
                p.stdout.close()


if __name__ == "__main__":
    main()
