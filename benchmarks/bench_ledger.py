"""Custody-ledger benchmark: append, verify, inventory query, inclusion proofs — each next to the
raw limit of the machine measured in the same run (SHA-256, Ed25519, raw SQLite inserts).

Run with ``make bench`` (or ``python -m benchmarks bench_ledger``). ``COALITION_BENCH_QUICK=1``
shrinks every size tenfold for a smoke run. PostgreSQL figures need the local server
(``COALITION_TEST_PG_URL``, default postgresql://postgres@127.0.0.1:5432/test); they are skipped
with a note when it is unreachable. Results: ``benchmarks/results/ledger.json``
(``COALITION_BENCH_OUT`` writes elsewhere). ``COALITION_BENCH_SKIP=proofs,inventory,postgresql``
skips parts (their figures are kept from the previous results file, marked ``kept_from``).

On a shared machine the wall-clock rates depend on the load (recorded at the start and end of the
run); each append and verify also reports its **process CPU** rate (events per CPU second of this
process: on SQLite that includes the database engine, on PostgreSQL only the client side), which
depends much less on how many other jobs share the cores. Verify runs twice over the same log:
in this process only, then with one worker process per usable core (``verify_workers``); its CPU
rate counts the worker processes too (their share: ``verify_worker_cpu_share``).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import random
import sqlite3
import tempfile
import time
import uuid
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

QUICK = os.environ.get("COALITION_BENCH_QUICK") == "1"
SCALE = 10 if QUICK else 1
PG_URL = os.environ.get("COALITION_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
RESULTS = Path(os.environ.get("COALITION_BENCH_OUT") or Path(__file__).with_name("results") / "ledger.json")
SKIP = {x.strip() for x in os.environ.get("COALITION_BENCH_SKIP", "").split(",") if x.strip()}


def _rate(n: int, seconds: float) -> float:
    return n / seconds if seconds > 0 else float("inf")


# ------------------------------------------------------------------------------------------
# Raw limits
# ------------------------------------------------------------------------------------------
def raw_sha256(n: int = 1_000_000) -> float:
    data = [os.urandom(300) for _ in range(1000)]
    sha = hashlib.sha256
    t = time.perf_counter()
    for i in range(n // 1000):
        for d in data:
            sha(d).digest()
    return _rate(n, time.perf_counter() - t)


def raw_ed25519(n: int = 20_000) -> tuple[float, float]:
    key = Ed25519PrivateKey.generate()
    pub = key.public_key()
    msg = os.urandom(200)
    t = time.perf_counter()
    sigs = [key.sign(msg) for _ in range(n)]
    sign = _rate(n, time.perf_counter() - t)
    t = time.perf_counter()
    for s in sigs:
        pub.verify(s, msg)
    return sign, _rate(n, time.perf_counter() - t)


def raw_sqlite_inserts(n: int = 500_000) -> float:
    with tempfile.TemporaryDirectory() as d:
        db = sqlite3.connect(Path(d) / "raw.db", isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("create table t (id integer primary key, body text, h blob)")
        body = "x" * 300
        t = time.perf_counter()
        for b in range(n // 1000):
            db.execute("BEGIN")
            db.executemany("insert into t values (?, ?, ?)",
                           [(b * 1000 + i, body, b"\0" * 32) for i in range(1000)])
            db.execute("COMMIT")
        rate = _rate(n, time.perf_counter() - t)
        db.close()
    return rate


def raw_pg_copy(url: str, n: int = 200_000) -> float:
    """Rows/s of COPY into a one-index table, 1,000 rows per committed transaction (the same
    shape of write as an append batch), on the PostgreSQL server the ledger bench uses."""
    import psycopg

    body = "x" * 300
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE raw_copy (id bigint PRIMARY KEY, body text, h bytea)")
        conn.commit()
        t = time.perf_counter()
        for b in range(n // 1000):
            with conn.cursor() as cur, cur.copy("COPY raw_copy (id, body, h) FROM STDIN") as copy:
                for i in range(1000):
                    copy.write_row((b * 1000 + i, body, b"\0" * 32))
            conn.commit()
        rate = _rate(n, time.perf_counter() - t)
        conn.execute("DROP TABLE raw_copy")
        conn.commit()
    return rate


# ------------------------------------------------------------------------------------------
# The ledger
# ------------------------------------------------------------------------------------------
def _ledger(url: str, keys: Path):  # type: ignore[no-untyped-def]
    from coalition.ledger import service
    from coalition.ledger.keys import KeyRing
    from coalition.store.db import make_engine, session_factory, transaction
    from coalition.store.migrate import upgrade

    engine = make_engine(url)
    upgrade(engine)
    factory = session_factory(engine)
    from coalition.ledger.batches import LocalSigner
    from coalition.ledger.keyevents import trust_from_keyring

    keyring = KeyRing.generate(keys, ["GBR", "FRA", "UKR", "DEU"])
    trust = trust_from_keyring(keyring)
    with transaction(factory) as s:
        service.register_keys(s, keyring=keyring, trust=trust)
    # the demo key store signs for both parties of a handover, each with its own key
    return engine, factory, LocalSigner(keyring, countersign=True), trust


def _manifests(start: int, n: int, nations: tuple[str, ...] = ("GBR",)):  # type: ignore[no-untyped-def]
    from coalition.inventory.schemas import ManifestPayload
    from coalition.ledger.schemas import Submitted

    return [Submitted("manifest", nations[i % len(nations)], "bench", "2026-03-01T10:00:00Z",
                      ManifestPayload.model_validate({
        "manifest": f"M{start + i}", "origin": "GBR-HOME", "destination": "UA-LVIV/LV-D1", "receiver": "FRA",
        "serials": [{"serial": f"GBR-R-{start + i:08d}", "item_type": "RIFLE", "unit_value": 900}]}))
        for i in range(n)]


def _dispatches(start: int, n: int):  # type: ignore[no-untyped-def]
    from coalition.inventory.schemas import DispatchPayload
    from coalition.ledger.schemas import Submitted

    return [Submitted("dispatch", "GBR", "bench", "2026-03-02T10:00:00Z",
                      DispatchPayload.model_validate({"manifest": f"M{start + i}"})) for i in range(n)]


def _receipts(start: int, n: int):  # type: ignore[no-untyped-def]
    from coalition.inventory.schemas import ReceiptPayload
    from coalition.ledger.schemas import Submitted

    return [Submitted("receipt", "FRA", "bench", "2026-03-05T10:00:00Z", ReceiptPayload.model_validate({
        "manifest": f"M{start + i}", "location": "UA-LVIV/LV-D1", "serials": [f"GBR-R-{start + i:08d}"]}))
        for i in range(n)]


KINDS = {"manifest": _manifests, "dispatch": _dispatches, "receipt": _receipts}


WRITTEN_TABLES = ("ledger_event", "ledger_event_ref", "ledger_batch", "ledger_signature", "ledger_node",
                  "inv_serial", "inv_lot", "inv_lot_stock", "inv_manifest", "inv_manifest_line", "inv_discrepancy")


class SameRowsCeiling:
    """The same-run write ceiling of an append on SQLite: the very rows an append phase wrote
    (inserted and updated, every ledger and projection table, same schema and indexes), written
    again into a twin database that held the same state before, in the same number of committed
    transactions, with no ledger logic at all (no reads, encoding, hashing, signing, projector).
    Measured right after each append phase, so both see the same load."""

    def __init__(self, path: Path, twin: Path) -> None:
        self.path, self.twin = path, twin
        src = sqlite3.connect(path)
        dst = sqlite3.connect(twin)
        src.backup(dst)
        src.close()
        dst.close()

    def _state(self) -> dict[str, tuple[int, dict[int, tuple]]]:  # type: ignore[type-arg]
        db = sqlite3.connect(self.path)
        out = {}
        for t in WRITTEN_TABLES:
            top = db.execute(f"SELECT coalesce(max(rowid), 0) FROM {t}").fetchone()[0]
            rows = {r[0]: r[1:] for r in db.execute(f"SELECT rowid, * FROM {t}")} if t.startswith("inv_") else {}
            out[t] = (top, rows)
        db.close()
        return out

    def before(self) -> None:
        self.snap = self._state()

    def measure(self, events: int, batch: int) -> float:
        """Events/s of writing the rows written since :meth:`before` (then the twin is level)."""
        db = sqlite3.connect(self.path)
        work = []  # (sql, rows) per statement kind
        for t, (top, old) in self.snap.items():
            cols = [c[1] for c in db.execute(f"PRAGMA table_info({t})")]
            new = db.execute(f"SELECT {', '.join(cols)} FROM {t} WHERE rowid > ? ORDER BY rowid", (top,)).fetchall()
            work.append((f"INSERT INTO {t} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", new))
            changed: dict[tuple[int, ...], list[tuple]] = {}  # type: ignore[type-arg]
            for rowid, *row in (db.execute(f"SELECT rowid, * FROM {t} WHERE rowid <= ?", (top,)) if old else ()):
                was = old.get(rowid)
                if was is not None and tuple(row) != was:
                    diff = tuple(i for i, (a, b) in enumerate(zip(row, was, strict=True)) if a != b)
                    changed.setdefault(diff, []).append(tuple(row[i] for i in diff) + (rowid,))
            for diff, rows in changed.items():
                sets = ", ".join(f"{cols[i]} = ?" for i in diff)
                work.append((f"UPDATE {t} SET {sets} WHERE rowid = ?", rows))
        db.close()
        twin = sqlite3.connect(self.twin, isolation_level=None)
        twin.execute("PRAGMA journal_mode=WAL")
        twin.execute("PRAGMA synchronous=FULL")
        parts = max(1, -(-events // batch))
        t = time.perf_counter()
        for j in range(parts):
            twin.execute("BEGIN")
            for sql, rows in work:
                k = len(rows)
                twin.executemany(sql, rows[j * k // parts:(j + 1) * k // parts])
            twin.execute("COMMIT")
        rate = _rate(events, time.perf_counter() - t)
        twin.close()
        return rate


def _row_count(factory) -> int:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    from coalition.store.db import transaction

    with transaction(factory) as s:
        return sum(int(s.scalar(text(f"SELECT count(*) FROM {t}"))) for t in WRITTEN_TABLES)


def bench_append(url: str, n: int, batch: int = 1000) -> dict[str, float]:
    """Append in committed batches (durable when acknowledged); two kinds of event."""
    from coalition.ledger import service
    from coalition.store.db import transaction

    with tempfile.TemporaryDirectory() as d:
        engine, factory, signer, trust = _ledger(url, Path(d) / "keys")
        out = {}
        before = _row_count(factory)
        same = SameRowsCeiling(Path(url.removeprefix("sqlite:///")), Path(d) / "twin.db") \
            if url.startswith("sqlite:///") else None
        for kind, make in KINDS.items():
            evs = make(0, n)
            if same:
                same.before()
            t, c = time.perf_counter(), time.process_time()
            for i in range(0, n, batch):
                with transaction(factory) as s:
                    service.append_events(s, events=evs[i:i + batch], signer=signer, trust=trust)
            out[f"append_{kind}_per_s"] = _rate(n, time.perf_counter() - t)
            out[f"append_{kind}_per_cpu_s"] = _rate(n, time.process_time() - c)
            if same:
                out[f"same_rows_{kind}_per_s"] = same.measure(n, batch)
            after = _row_count(factory)
            # rows written per event: inserted rows (table growth) plus projection rows updated
            # (a dispatch/receipt updates its serial and its manifest)
            out[f"{kind}_rows_per_event"] = (after - before) / n + (0 if kind == "manifest" else 2)
            before = after
        # alternating nations: every event its own batch (its own statement and signature)
        alt = _manifests(n, n // 4, ("GBR", "DEU"))
        t, c = time.perf_counter(), time.process_time()
        for i in range(0, len(alt), batch):
            with transaction(factory) as s:
                service.append_events(s, events=alt[i:i + batch], signer=signer, trust=trust)
        out["append_alternating_per_s"] = _rate(len(alt), time.perf_counter() - t)
        out["append_alternating_per_cpu_s"] = _rate(len(alt), time.process_time() - c)
        with transaction(factory) as s:
            from sqlalchemy import func, select

            from coalition.ledger.models import LedgerEvent

            out["mean_event_bytes"] = float(s.scalar(select(func.avg(func.length(LedgerEvent.body)))))
        # verify in this process only and with one worker process per usable core, alternately,
        # twice over the same log (the first verify after the appends also warms the caches):
        # the faster run of each is reported, every run is kept in verify_runs
        cores, runs = len(os.sched_getaffinity(0)), []
        for _ in range(2):
            for workers, name in ((1, "verify_serial"), (cores, "verify")):
                runs.append((name, _verify(factory, trust, workers, name)))
        for name in ("verify_serial", "verify"):
            out.update(max((r for n, r in runs if n == name), key=lambda r: r[f"{name}_per_s"]))  # noqa: B023
        out["verify_runs"] = [{"run": n, "per_s": r[f"{n}_per_s"], "per_cpu_s": r[f"{n}_per_cpu_s"],
                               "load": r[f"{n}_load"]} for n, r in runs]
        engine.dispose()
    return out


def _verify(factory, trust, workers: int, name: str) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """One full verify_log of the log (one snapshot) with ``workers`` processes: wall rate, and
    CPU rate counting this process and its worker processes (their CPU is reported once they
    have been waited for, which verify does before it returns)."""
    import resource

    from coalition.ledger.verify import snapshot_transaction, verify_log

    def children() -> float:
        r = resource.getrusage(resource.RUSAGE_CHILDREN)
        return r.ru_utime + r.ru_stime

    load = os.getloadavg()[0]
    t, c, k = time.perf_counter(), time.process_time(), children()
    with snapshot_transaction(factory) as s:
        rep = verify_log(s, trust=trust, workers=workers)
    wall, cpu, kids = time.perf_counter() - t, time.process_time() - c, children() - k
    assert rep.ok, rep.findings[:3]
    return {f"{name}_per_s": _rate(rep.events, wall), f"{name}_per_cpu_s": _rate(rep.events, cpu + kids),
            f"{name}_worker_cpu_share": kids / (cpu + kids) if cpu + kids else 0.0,
            f"{name}_workers": rep.workers, f"{name}_worker_chunks": rep.worker_chunks, f"{name}_load": load,
            "events": rep.events, "verify_signatures": rep.signatures,  # Ed25519 checks (one per batch and party)
            "verify_batches": rep.batches}


def bench_inventory_query(url: str, n: int) -> dict[str, float]:
    """Fill the serial projection with n items (bulk insert, not via events) and time the query."""
    from coalition.inventory.models import InvSerial
    from coalition.store.bulk import insert_rows
    from coalition.inventory.service import inventory_summary
    from coalition.store.db import make_engine, session_factory, transaction
    from coalition.store.migrate import upgrade

    engine = make_engine(url)
    upgrade(engine)
    factory = session_factory(engine)
    rng = random.Random(7)
    hubs = ["UA-LVIV", "UA-KYIV", "UA-ODESA", "UA-RIVNE", "UA-VINNYTSIA"]
    nations = ["GBR", "FRA", "DEU", "POL", "NLD", "SWE", "DNK", "NOR", "CAN", "ITA"]
    statuses = ["serviceable"] * 6 + ["issued"] * 3 + ["in_transit", "quarantined", "lost"]
    t = time.perf_counter()
    chunk = 50_000
    for start in range(0, n, chunk):
        rows = []
        for i in range(start, min(n, start + chunk)):
            hub, dep, sh = rng.choice(hubs), f"D{rng.randint(1, 3)}", f"SH-{rng.randint(1, 8)}"
            rows.append({"serial": f"S{i:09d}", "item_type": "RIFLE", "title_nation": rng.choice(nations),
                         "unit_value": 900.0, "sensitive": False, "status": rng.choice(statuses), "reason": "",
                         "custodian": "FRA", "location": f"{hub}/{dep}/{sh}", "hub": hub, "depot": dep,
                         "storehouse": sh, "bay": "", "end_user": "", "end_user_ref": "", "manifest": "M",
                         "arrived_on": "2026-03-01", "last_counted_on": None, "loss_occurred_on": None,
                         "loss_reported_on": None, "last_seq": i + 1})
        with transaction(factory) as s:
            insert_rows(s, InvSerial.__table__, rows)
    fill = time.perf_counter() - t
    times = []
    for _ in range(3):
        t = time.perf_counter()
        with transaction(factory) as s:
            rows = inventory_summary(s)
        times.append(time.perf_counter() - t)
    engine.dispose()
    return {"items": n, "fill_s": fill, "query_s": min(times), "groups": len(rows)}


def bench_proofs(url: str, n: int, samples: int = 200) -> dict[str, float]:
    """A log of n synthetic events stored through the real tree storage (extend_tree); time
    inclusion proofs for random events and check each against the root."""
    from sqlalchemy import update

    from coalition.ledger.models import LedgerEvent, LedgerHead
    from coalition.store.bulk import insert_rows
    from coalition.ledger.merkle import Tree
    from coalition.ledger.service import extend_tree, tree
    from coalition.ledger.rfc6962 import leaf_hash, verify_inclusion
    from coalition.store.db import make_engine, session_factory, transaction
    from coalition.store.migrate import upgrade

    engine = make_engine(url)
    upgrade(engine)
    factory = session_factory(engine)
    t = time.perf_counter()
    chunk = 100_000
    for start in range(0, n, chunk):
        k = min(chunk, n - start)
        leaves = [leaf_hash(b"%d" % (start + i)) for i in range(k)]
        with transaction(factory) as s:
            insert_rows(s, LedgerEvent.__table__, [
                {"seq": start + i + 1, "batch_id": 0, "time": "", "nation": "XXX", "person": "", "type": "synthetic",
                 "body": "", "prev_hash": b"", "hash": h} for i, h in enumerate(leaves)])
            extend_tree(s, start, leaves)
            s.execute(update(LedgerHead).where(LedgerHead.id == 1).values(size=start + k))
    build = time.perf_counter() - t
    rng = random.Random(3)
    with transaction(factory) as s:
        tr = tree(s, n)
        t = time.perf_counter()
        root = tr.root()
        root_s = time.perf_counter() - t
        lat, walk, cpu = [], [], []
        walker = Tree(_OneAtATime(tr.reader), n)  # baseline: the same walk, one query per stored range
        for _ in range(samples):
            seq = rng.randint(1, n)
            t, c = time.perf_counter(), time.process_time()
            path = tr.inclusion_path(seq - 1)
            lat.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)  # this process's own work: the wall p99 minus waiting for a core
            t = time.perf_counter()
            assert walker.inclusion_path(seq - 1) == path
            walk.append(time.perf_counter() - t)
            assert verify_inclusion(leaf_hash(b"%d" % (seq - 1)), seq - 1, n, path, root)
    engine.dispose()
    lat.sort()
    walk.sort()
    cpu.sort()
    p99 = int(len(lat) * 0.99) - 1
    return {"events": n, "build_s": build, "root_s": root_s, "proof_ms_median": lat[len(lat) // 2] * 1000,
            "proof_ms_p99": lat[p99] * 1000, "proof_ms_max": lat[-1] * 1000,
            "walk_ms_median": walk[len(walk) // 2] * 1000, "walk_ms_p99": walk[p99] * 1000,
            "proof_cpu_ms_median": cpu[len(cpu) // 2] * 1000, "proof_cpu_ms_p99": cpu[p99] * 1000,
            "load_after": os.getloadavg()}


class _OneAtATime:
    """The stored tree read one range per query (hides ``level_ranges``): the proof baseline."""

    def __init__(self, reader) -> None:  # type: ignore[no-untyped-def]
        self.level_range = reader.level_range


def _pg_schema() -> tuple[str, object] | None:
    try:
        import psycopg

        schema = f"bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(PG_URL, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
    except Exception as exc:  # noqa: BLE001 - any failure means "no PostgreSQL here"
        print(f"PostgreSQL unreachable ({exc}); PG figures skipped")
        return None
    sep = "&" if "?" in PG_URL else "?"

    def drop() -> None:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')

    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}", drop


# ------------------------------------------------------------------------------------------
def run() -> dict[str, object]:
    res: dict[str, object] = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}",
                              "quick": QUICK, "load_start": os.getloadavg()}
    try:
        previous = json.loads(RESULTS.read_text())
    except (OSError, ValueError):
        previous = {}
    print("raw limits ...", flush=True)
    sha = raw_sha256(1_000_000 // SCALE)
    sign, verify = raw_ed25519(20_000 // SCALE)
    sqlite_rows = raw_sqlite_inserts(500_000 // SCALE)
    res["raw"] = {"sha256_300B_per_s": sha, "ed25519_sign_per_s": sign, "ed25519_verify_per_s": verify,
                  "sqlite_rows_per_s_batch1000": sqlite_rows}
    with tempfile.TemporaryDirectory() as d:
        print("append + verify on SQLite ...", flush=True)
        res["sqlite"] = bench_append(f"sqlite:///{Path(d) / 'a.db'}", 100_000 // SCALE)
        for part, label, fn, size, db in (
                ("inventory", "inventory query over 1,000,000 items", bench_inventory_query, 1_000_000, "inv.db"),
                ("proofs", "inclusion proofs on a 10,000,000-event log", bench_proofs, 10_000_000, "proof.db")):
            if part in SKIP:
                if part in previous:
                    res[part] = {**previous[part], "kept_from": previous[part].get("kept_from")
                                 or previous.get("kept_from_run", "an earlier run")}
                continue
            print(f"{label} ...", flush=True)
            res[part] = fn(f"sqlite:///{Path(d) / db}", size // SCALE)
    pg = None if "postgresql" in SKIP else _pg_schema()
    if pg:
        url, drop = pg
        try:
            print("append + verify on PostgreSQL ...", flush=True)
            res["raw"]["pg_copy_rows_per_s_batch1000"] = raw_pg_copy(url, 200_000 // SCALE)  # type: ignore[index]
            res["postgresql"] = bench_append(url, 30_000 // SCALE)
        finally:
            drop()  # type: ignore[operator]
    res["load_end"] = os.getloadavg()
    res["kept_from_run"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    _table(res)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(res, indent=1) + "\n")
    return res


def _table(res: dict) -> None:  # type: ignore[type-arg]
    raw = res["raw"]
    rows_s = raw["sqlite_rows_per_s_batch1000"]
    rows = []
    for db, target in (("sqlite", 20_000), ("postgresql", 15_000)):
        if db not in res:
            continue
        r = res[db]
        raw_rows = rows_s if db == "sqlite" else raw.get("pg_copy_rows_per_s_batch1000", rows_s)
        for kind in KINDS:
            per = r[f"{kind}_rows_per_event"]
            rows.append((f"append {kind} events/s, {db}", r[f"append_{kind}_per_s"], target, raw_rows / per,
                         f"raw {'SQLite insert' if db == 'sqlite' else 'PG COPY'} rows/s / {per:.1f} rows per event"))
            if f"same_rows_{kind}_per_s" in r:
                rows.append(("  (same rows, no ledger logic)", r[f"append_{kind}_per_s"], target,
                             r[f"same_rows_{kind}_per_s"], "the same rows written again, right after"))
        rows.append((f"append alternating nations/s, {db}", r["append_alternating_per_s"],
                     int(r["append_manifest_per_s"] / 2), r["append_manifest_per_s"], "same-run single-nation manifests"))
        target = 250_000 if db == "sqlite" else 200_000
        w = r.get("verify_workers", 0)
        how = f"+{w} worker process{'es' if w > 1 else ''}" if w else "no workers"
        rows.append((f"verify events/s, {db} log, {how}", r["verify_per_s"], target,
                     raw["sha256_300B_per_s"], "SHA-256 of 300 B/s"))
        if "verify_serial_per_s" in r:
            rows.append(("  (verify in one process)", r["verify_serial_per_s"], target,
                         raw["sha256_300B_per_s"], "SHA-256 of 300 B/s"))
        if r.get("verify_signatures"):
            # what the signature checks alone allow: this log's events / (its signatures / raw verify rate)
            cap = r["events"] / (r["verify_signatures"] / raw["ed25519_verify_per_s"])
            rows.append((f"  (signature-check cap, {r['verify_signatures']:,} sigs)", r["verify_per_s"],
                         250_000 if db == "sqlite" else 200_000, cap, "events/s if only Ed25519 checks ran"))
    print(f"\nload average {res.get('load_start')} at the start, {res.get('load_end')} at the end")
    print(f"\n{'measure':40} {'value':>10} {'target':>9} {'limit':>11}  ratio to limit")
    for name, v, target, limit, what in rows:
        print(f"{name:40} {v:10,.0f} {target:9,} {limit:11,.0f}  {v / limit:6.1%} of {what}")
    for db in ("sqlite", "postgresql"):
        if db in res:
            r = res[db]
            print(f"process CPU rates, {db}: " + ", ".join(
                f"{k.removesuffix('_per_cpu_s')} {v:,.0f}/s" for k, v in r.items() if k.endswith("_per_cpu_s"))
                + " (verify: this process and its worker processes)")
            if r.get("verify_workers"):
                print(f"verify, {db}: {r['verify_workers']} worker processes checked"
                      f" {r['verify_worker_chunks']} chunks,"
                      f" {r['verify_worker_cpu_share']:.0%} of the CPU; load {r['verify_load']:.1f} at its start"
                      f" ({r['verify_serial_load']:.1f} for the one-process verify)")
    if "inventory" not in res or "proofs" not in res:
        return
    inv, pr = res["inventory"], res["proofs"]
    print(f"{'inventory query, ' + format(inv['items'], ',') + ' items (s)':40} {inv['query_s']:10.3f} {'<= 1 s':>9}")
    print(f"{'inclusion proof, ' + format(pr['events'], ',') + ' events (ms, p99)':40} {pr['proof_ms_p99']:10.2f} {'<= 10 ms':>9}"
          f"  (one query per range, same run: p99 {pr['walk_ms_p99']:.2f} ms)")
    if "proof_cpu_ms_p99" in pr:
        print(f"{'  its CPU time per proof (ms, p99)':40} {pr['proof_cpu_ms_p99']:10.2f}"
              f"  (median {pr['proof_cpu_ms_median']:.2f} ms; wall median {pr['proof_ms_median']:.2f} ms)")
    print(f"Ed25519 raw: sign {raw['ed25519_sign_per_s']:,.0f}/s, verify {raw['ed25519_verify_per_s']:,.0f}/s "
          "(one signature per batch of 1,000 events: negligible per event)")


if __name__ == "__main__":
    run()
