"""verify's chunk checks in worker processes (coalition.ledger.rangecheck): the same report as
the serial verifier on good and bad logs, on SQLite and PostgreSQL; a chunk checked without the
log before it assumes heads the merge must confirm; a worker that fails leaves its chunks to the
verifier."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import text

from coalition.ledger import checkpoints, verify
from coalition.ledger.canonical import GENESIS, canonical_text
from coalition.ledger.chunkcheck import SEP, FastRow, Runs
from coalition.ledger.rangecheck import ChunkTask, Workers, check_rows
from coalition.ledger.rfc6962 import Frontier, merkle_root
from coalition.ledger.verify import snapshot_transaction, verify_log

from .ledger_helpers import Ledger, ev, shipped


@pytest.fixture
def filled(ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> Ledger:
    """23 events in chunks of 4 (six chunks, the last one short), a checkpoint inside the
    fourth; worker processes from the second chunk on."""
    shipped(ledger)  # seq 1-3
    shipped(ledger, name="M2", nation="DEU", serials=20, lot_qty=0)  # seq 4-6
    ledger.append(*[ev("transfer", "FRA", {"serials": [f"DEU-S{i}"], "to": "UA-LVIV/LV-D1/SH-2"}) for i in range(8)])
    with ledger.session() as s:
        checkpoints.make_checkpoint(s, keyring=ledger.keyring)  # size 14
    ledger.append(*[ev("transfer", "FRA", {"serials": [f"DEU-S{i}"], "to": "UA-LVIV/LV-D1/SH-1"}) for i in range(9)])
    monkeypatch.setattr(verify, "CHUNK", 4)
    monkeypatch.setattr(verify, "PG_CHUNK", 4)
    monkeypatch.setattr(verify, "PARALLEL_CHUNKS", 2)
    monkeypatch.setattr(verify, "CHECK_HERE_TOO", False)  # every chunk goes to the worker processes
    monkeypatch.setattr(verify, "PG_CORES_PER_PROCESS", 1)  # workers on PostgreSQL too, on any machine
    return ledger


def _reports(ledger: Ledger) -> tuple[list[str], list[str], object]:
    """Findings of the serial and the parallel verify of one snapshot, and the parallel report."""
    with snapshot_transaction(ledger.factory) as s:
        serial = verify_log(s, trust=ledger.trust)
        parallel = verify_log(s, trust=ledger.trust, workers=3)
    for name in ("events", "batches", "signatures", "checkpoints", "cosignatures"):
        assert getattr(serial, name) == getattr(parallel, name), name
    return [str(f) for f in serial.findings], [str(f) for f in parallel.findings], parallel


def _tamper(ledger: Ledger, sql: str, **params: object) -> None:
    with ledger.session() as s:
        s.execute(text(sql), params)


def test_parallel_verify_of_a_good_log_is_the_serial_one(filled: Ledger) -> None:
    serial, parallel, rep = _reports(filled)
    assert serial == parallel == []
    assert rep.events == 23 and rep.checkpoints == 1  # type: ignore[attr-defined]
    assert rep.workers == 2 and rep.worker_chunks == 6  # type: ignore[attr-defined]  # every chunk from a worker


def test_this_process_checks_chunks_while_the_workers_are_busy(filled: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(verify, "CHECK_HERE_TOO", True)
    serial, parallel, rep = _reports(filled)
    assert serial == parallel == []
    assert rep.workers == 2 and 0 <= rep.worker_chunks <= 6  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("sql", "bad_seq"),
    [
        ("update ledger_event set body = replace(body, 'DEU-S3', 'DEU-S9') where seq = 10", 10),  # chunk 3
        ("update ledger_event set person = 'someone else' where seq = 6", 6),  # chunk 2
        ("update ledger_event set nation = 'GBR' where seq = 22", 22),  # the last, short chunk
        ("delete from ledger_event where seq = 7", 7),  # a gap: every later chunk is misplaced
    ],
)
def test_a_tampered_event_in_a_later_chunk_is_reported_as_the_serial_verify_does(
    filled: Ledger, sql: str, bad_seq: int
) -> None:
    if sql.startswith("delete"):
        _tamper(filled, "delete from ledger_event_ref where seq = 7")
    _tamper(filled, sql)
    serial, parallel, rep = _reports(filled)
    assert serial and parallel == serial
    assert rep.first_bad_seq() == bad_seq  # type: ignore[attr-defined]


def test_a_rewritten_event_with_its_next_link_fixed_fails_the_assumptions_as_it_fails_serially(filled: Ledger) -> None:
    """Event 8 (the end of chunk 2) rewritten with a matching hash and event 9's prev_hash set to
    it: chunk 3 is clean on its own, and only the batch root and chain heads give it away."""
    from coalition.ledger.rfc6962 import leaf_hash

    with filled.session() as s:
        body = s.execute(text("select body from ledger_event where seq = 8")).scalar_one()
        forged = body.replace("DEU-S1", "DEU-S7")
        h = leaf_hash(forged.encode())
        s.execute(text("update ledger_event set body = :b, hash = :h where seq = 8"), {"b": forged, "h": h})
        s.execute(text("update ledger_event set prev_hash = :h where seq = 9"), {"h": h})
    serial, parallel, rep = _reports(filled)
    assert serial and parallel == serial
    assert rep.first_bad_seq() == 8  # type: ignore[attr-defined]


# PostgreSQL only: SQLite cannot share a snapshot between connections (see the rangecheck
# docstring; the SQLite workers' own guarantee is tested by the appends-meanwhile test below)
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_parallel_verify_reads_the_verifiers_snapshot_on_postgresql(filled: Ledger) -> None:
    """A change committed after the snapshot was taken is not seen by the workers (they import
    the verifier's exported snapshot)."""
    assert filled.url.startswith("postgresql")
    with snapshot_transaction(filled.factory) as s:
        assert verify_log(s, trust=filled.trust).ok  # the snapshot is taken
        _tamper(filled, "update ledger_event set body = replace(body, 'DEU-S3', 'DEU-S9') where seq = 10")
        assert verify_log(s, trust=filled.trust, workers=2).ok
    assert not filled.verify(workers=2).ok


# --- check_rows and the worker pool directly ----------------------------------------------------


def _rows(n: int, nations: tuple[str, ...] = ("GBR",)) -> list[FastRow]:
    """n events of alternating title nations in one chain, all in batch 7 by GBR."""
    rows: list[FastRow] = []
    prev = GENESIS
    heads: dict[str, tuple[int, bytes]] = {}
    for seq in range(1, n + 1):
        t = nations[seq % len(nations)]
        count, last = heads.get(t, (0, GENESIS))
        body = canonical_text(
            {
                "chain": {t: [count + 1, last.hex()]},
                "counterparty": None,
                "nation": "GBR",
                "payload": {"n": seq},
                "person": "ana",
                "prev": prev.hex(),
                "seq": seq,
                "time": "2026-03-01T10:00:00Z",
                "type": "manifest",
            }
        )
        own = hashlib.sha256(b"\x00" + body.encode()).digest()
        heads[t] = (count + 1, own)
        rows.append((seq, body, own, prev, "2026-03-01T10:00:00Z", SEP.join(["GBR", "ana", "manifest"]), 7))
        prev = own
    return rows


def test_a_chunk_checked_alone_names_the_heads_it_assumed() -> None:
    rows = _rows(40, ("GBR", "DEU", "FRA"))
    runs = Runs([1], [40], [None], [7], ["GBR"])
    task = ChunkTask(21, 40, runs, (30,), ((7, ((21, 20),)),))
    done = check_rows(rows[20:], task, {})
    assert done.clean
    assert done.prev == rows[19][2]
    # the heads after event 20: each nation's last event in 1..20
    want = {}
    for seq, _b, own, *_ in rows[:20]:
        want[("GBR", "DEU", "FRA")[seq % 3]] = (len([s for s in range(1, seq + 1) if s % 3 == seq % 3]), own.hex())
    assert done.before == want
    assert done.owns == [r[2] for r in rows[20:]]
    assert done.roots == {7: merkle_root([r[2] for r in rows[20:]])}
    whole = Frontier(keep_height=4)
    whole.extend([r[2] for r in rows])
    part = Frontier(keep_height=4)
    part.extend([r[2] for r in rows[:20]])
    part.graft(done.pieces, done.kept)
    assert (part.stack, part.size, part.kept) == (whole.stack, whole.size, whole.kept)
    upto = Frontier()
    upto.extend([r[2] for r in rows[:20]])
    upto.graft(done.at[30])
    assert upto.root() == merkle_root([r[2] for r in rows[:30]])
    # rows that are not exactly the task's seqs are not clean
    assert not check_rows(rows[20:39], task, {}).clean
    assert not check_rows(rows[19:], task, {}).clean


def test_a_failed_worker_leaves_its_chunks_to_the_verifier(tmp_path) -> None:  # type: ignore[no-untyped-def]
    rows = _rows(12)
    runs = Runs([1], [12], [None], [7], ["GBR"])
    tasks = [ChunkTask(lo, lo + 3, runs, (), ()) for lo in (1, 5, 9)]
    pool = Workers(2, ("sqlite", str(tmp_path / "missing.db"), None))  # cannot open: both exit
    got = list(pool.results(tasks, lambda t: check_rows(rows[t.lo - 1 : t.hi], t, {})))
    assert [(d.clean, remote) for d, remote in got] == [(True, False)] * 3
    assert [h for d, _ in got for h in d.owns] == [r[2] for r in rows]
    assert all(p.poll() is not None for p in pool.procs)


def test_parallel_verify_while_appends_commit_finds_nothing(filled: Ledger) -> None:
    """Appends meanwhile never change the rows the workers read (seqs up to the verifier's
    last one): no false alarm on either database."""
    import threading

    from coalition.ledger import service

    from .ledger_helpers import manifest

    stop = threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        i = 0
        try:
            while not stop.is_set():
                with filled.session() as s:
                    evs = [manifest(f"W{i}-{j}", "GBR", 1, 0, prefix=f"GBR-W{i}-{j}-") for j in range(3)]
                    service.append_events(s, events=evs, signer=filled.signer, trust=filled.trust)
                i += 1
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    t = threading.Thread(target=writer)
    t.start()
    try:
        results = []
        for _ in range(6):
            with snapshot_transaction(filled.factory) as s:
                rep = verify_log(s, trust=filled.trust, workers=2)
            results.append((rep.ok, rep.events, rep.worker_chunks, [str(f) for f in rep.findings[:2]]))
    finally:
        stop.set()
        t.join(timeout=60)
    assert not errors, errors
    assert all(ok and chunks > 0 for ok, _n, chunks, _f in results), results
    assert len({n for _ok, n, _c, _f in results}) > 1  # the writer really was appending meanwhile


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_on_postgresql_each_checking_process_counts_two_cores(filled: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    """Its server backend reads beside it: on 2 cores one process, on 4 cores one worker more;
    the verdict is the same either way."""
    monkeypatch.setattr(verify, "PG_CORES_PER_PROCESS", 2)
    with snapshot_transaction(filled.factory) as s:
        two = verify_log(s, trust=filled.trust, workers=2)
        four = verify_log(s, trust=filled.trust, workers=4)
    assert two.ok and four.ok
    assert two.workers == 0 and four.workers == 1
    assert four.worker_chunks > 0
