"""``coalition ledger ...``: the custody ledger from the command line.

Thin: every command opens ONE transaction (``coalition.store.db.transaction``), calls the ledger
and inventory services, and renders with Rich. ``--database-url`` defaults to Settings
(``COALITION_DATABASE_URL``, else SQLite under the data dir).
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session, sessionmaker

from coalition.errors import InputError, IntegrityError, Problem
from coalition.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from coalition.inventory.projector import SafetyCheck
    from coalition.ledger.batches import BatchSigner, Chain
    from coalition.ledger.keys import KeyRing
    from coalition.ledger.notes import Verifier
    from coalition.ledger.reports import DonorReport
    from coalition.ledger.schemas import Submitted
    from coalition.ledger.trust import Trust

ledger_app = typer.Typer(
    name="ledger",
    help="Custody ledger: append-only signed Merkle log of serials and lots, reports, proofs.",
    no_args_is_help=True,
)
# a report read from a pipe or file keeps its columns instead of folding to 80 characters
out = Console(highlight=False, width=None if sys.stdout.isatty() else 160)

DbOpt = Annotated[
    str | None,
    typer.Option(
        "--database-url", help="SQLAlchemy URL (default: Settings / COALITION_DATABASE_URL)", show_default=False
    ),
]
SigsOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--signatures", help="signatures made by the parties with 'coalition sign' (repeatable)", show_default=False
    ),
]
DemoCsOpt = Annotated[
    bool, typer.Option("--demo-countersign", help="DEMO ONLY: sign counterparty roles with the demo key store's keys")
]
DataOpt = Annotated[
    Path | None,
    typer.Option(
        "--data-dir", help="folder of the keys and the default SQLite file (default: .coalition)", show_default=False
    ),
]


@dataclass
class Ctx:
    settings: Settings
    factory: sessionmaker[Session]

    @property
    def keys_dir(self) -> Path:
        return self.settings.demo_keystore

    def keyring(self) -> KeyRing:
        from coalition.ledger.keys import KeyRing

        return KeyRing.load(self.keys_dir, self.settings.demo_passphrase)

    def trust(self, path: Path | None = None) -> Trust:
        """The pinned trust file: ``--trust``, else the one named in settings."""
        from coalition.ledger.trust import TrustError, load_trust

        where = path or self.settings.trust_path
        try:
            return load_trust(where)
        except TrustError as exc:
            raise InputError(
                [
                    Problem(
                        str(exc),
                        file=str(where),
                        hint="write it with 'coalition ledger init' or "
                        "'coalition ledger trust export FILE'"
                        " on the root key holder's machine",
                    )
                ]
            ) from None


def _ctx(database_url: str | None, data_dir: Path | None) -> Ctx:
    from coalition.store.db import make_engine, session_factory
    from coalition.store.migrate import upgrade

    overrides: dict[str, object] = {}
    if data_dir is not None:
        overrides["data_dir"] = data_dir  # also the default database's folder (Settings.from_env)
    if database_url:
        overrides["database_url"] = database_url
    settings = Settings.from_env(**overrides)
    engine = make_engine(settings.database_url)
    _upgrade_serialised(engine, upgrade)
    return Ctx(settings, session_factory(engine))


def _upgrade_serialised(engine: Engine, upgrade: Callable[[Engine], None]) -> None:
    """Run the migrations one process at a time (two first `init`s at once would otherwise both
    create the tables and one would fail): a file lock beside a SQLite database, an advisory
    lock on PostgreSQL."""
    if engine.dialect.name == "sqlite":
        import fcntl

        db = engine.url.database
        if not db or db == ":memory:":
            upgrade(engine)
            return
        lock = Path(db).with_name(Path(db).name + ".migrate-lock")
        lock.parent.mkdir(parents=True, exist_ok=True)
        with lock.open("a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                upgrade(engine)
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
        return
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT pg_advisory_lock(73011601)")
        try:
            upgrade(engine)
        finally:
            conn.exec_driver_sql("SELECT pg_advisory_unlock(73011601)")


def _safety(ctx: Ctx, session: Session) -> SafetyCheck:
    from coalition.inventory.safety import depot_safety
    from coalition.ledger.sample import ledger_network
    from coalition.scenario.service import load_scenario

    scenario = load_scenario(ctx.settings.scenario)
    return depot_safety(session, ledger_network(scenario.depots))


def _money(v: float) -> str:
    return f"${v:,.0f}"


# ------------------------------------------------------------------------------------------
def _init(ctx: Ctx, *, sample: bool) -> None:
    from coalition.ledger import sample as smp
    from coalition.ledger import service
    from coalition.ledger.keys import KeyRing
    from coalition.scenario.service import load_scenario

    nations = set(smp.SAMPLE_NATIONS)
    with contextlib.suppress(InputError):  # keys for the sample nations are enough to start
        nations |= {n.code for n in load_scenario(ctx.settings.scenario).nations}
    from coalition.ledger.keyevents import key_log, trust_from_keyring
    from coalition.store.db import transaction

    with transaction(ctx.factory) as s:
        service.lock_head(s)  # one init at a time: a concurrent first init waits here, then sees the keys
        keyring = KeyRing.generate(ctx.keys_dir, sorted(nations), ctx.settings.demo_passphrase)
        trust = trust_from_keyring(
            keyring, origin=_origin(ctx), witnesses=_witness_keys(ctx), witness_quorum=ctx.settings.witness_quorum
        )
        log = key_log(s, trust)
        if log.problems:
            raise IntegrityError(
                f"this database's key log was not made with the key store {ctx.keys_dir} "
                f"({log.problems[0][1]}); point COALITION_DATA_DIR (or --data-dir) at the data folder "
                "used when the ledger was created"
            )
        added = service.register_keys(s, keyring=keyring, trust=trust)
        _write_trust(ctx, trust)
        size, _ = service.head(s)
        out.print(
            f"keys: {added} nation key(s) registered by root-countersigned key events; DEMO key store"
            f" {ctx.keys_dir} (ILLUSTRATIVE: every key encrypted under the demo passphrase)"
        )
        out.print(f"trust file: {ctx.settings.trust_path}")
        if size:
            out.print(f"ledger already holds {size} events; nothing imported")
            return
        if sample:
            res = smp.load_sample(s, keyring=keyring, safety=_safety(ctx, s), trust=trust)
            out.print(
                f"loaded the ILLUSTRATIVE sample custody history: events 1..{res.last_seq}, "
                f"{len(res.batches)} signed batches (both parties of each handover signing with their"
                " own demo keys), checkpointed"
            )


def _origin(ctx: Ctx) -> str:
    from coalition.ledger.keyevents import DEFAULT_ORIGIN

    return DEFAULT_ORIGIN


def _witness_keys(ctx: Ctx) -> tuple[Verifier, ...]:
    from coalition.ledger.notes import NoteError, parse_vkey

    keys = []
    for entry in ctx.settings.witnesses:
        try:
            keys.append(parse_vkey(entry.split()[0]))
        except (NoteError, IndexError) as exc:
            raise InputError(
                [
                    Problem(
                        f"witness entry {entry!r}: {exc}",
                        field="COALITION_WITNESSES",
                        hint="'VKEY URL' per witness, comma-separated",
                    )
                ]
            ) from None
    return tuple(keys)


def _write_trust(ctx: Ctx, trust: Trust) -> None:
    """Write the trust file beside the demo keys (never overwrite a different one silently)."""
    path = ctx.settings.trust_path
    text = trust.to_json()
    if path.exists() and path.read_text("utf-8") != text:
        from coalition.ledger.trust import TrustError, parse_trust

        try:
            old = parse_trust(path.read_text("utf-8"), source=str(path))
        except TrustError:
            old = None
        if old is not None and (old.roots, old.log_key) != (trust.roots, trust.log_key):
            raise IntegrityError(
                f"{path} pins other root or log keys than the key store {ctx.keys_dir}; "
                "refusing to replace a trust file (delete it deliberately if intended)"
            )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, "utf-8")
    tmp.replace(path)


def _ensure_history(ctx: Ctx) -> None:
    """Read commands on a fresh machine: an empty ledger gets the illustrative sample first,
    so `ledger report`, `inventory` and `export` show something real without a separate init."""
    from coalition.ledger import service
    from coalition.store.db import transaction

    with transaction(ctx.factory) as s:
        empty = service.head(s)[0] == 0
    if empty:
        out.print("[yellow]ledger is empty: initialising with the ILLUSTRATIVE sample history[/]", style=None)
        _init(ctx, sample=True)


@ledger_app.command("init")
def init_cmd(
    database_url: DbOpt = None,
    data_dir: DataOpt = None,
    sample: Annotated[bool, typer.Option("--sample/--no-sample", help="load the illustrative sample history")] = True,
) -> None:
    """Create the database and the demo keys; load the sample custody history into an empty log."""
    ctx = _ctx(database_url, data_dir)
    _init(ctx, sample=sample)
    out.print(f"database: {ctx.settings.database_url}")


def _signer(ctx: Ctx, signatures: list[Path] | None, demo_countersign: bool) -> Chain:
    """Pre-signed signatures first (each party's 'coalition sign' output), then the local keys for
    the acting nation; counterparties only with --demo-countersign on the demo key store."""
    from coalition.ledger.batches import Chain, LocalSigner, PreSigned

    keyring = ctx.keyring()
    if demo_countersign and not keyring.demo:
        raise InputError([Problem("--demo-countersign only works with the demo key store", field="--demo-countersign")])
    chain: list[BatchSigner] = [PreSigned(_read_signatures(p)) for p in signatures or []]
    chain.append(LocalSigner(keyring, countersign=demo_countersign))
    return Chain(chain)


def _read_signatures(path: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(path.read_text("utf-8"))
        sigs: list[dict[str, Any]] = data["signatures"]
        for i, s in enumerate(sigs):
            for k in ("statement_sha256", "role", "key_id", "signature"):
                if not isinstance(s.get(k), str):
                    raise InputError([Problem(f"signatures[{i}].{k} missing or not text", file=str(path))])
            bytes.fromhex(s["signature"])
        return sigs
    except FileNotFoundError:
        raise InputError([Problem("file not found", file=str(path))]) from None
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError) as exc:
        raise InputError(
            [
                Problem(
                    f"not a signatures file ({type(exc).__name__}: {exc})",
                    file=str(path),
                    hint="the output of 'coalition sign'",
                )
            ]
        ) from None


def _append(
    ctx: Ctx,
    events: Sequence[Submitted],
    *,
    commit_every: int | None,
    signer: BatchSigner | None = None,
    start: int = 0,
) -> None:
    from coalition.ledger import service
    from coalition.store.db import transaction

    signer = signer or _signer(ctx, None, False)
    trust = ctx.trust()
    step = commit_every or len(events)
    done = start
    for i in range(start, len(events), step):
        chunk = events[i : i + step]
        with transaction(ctx.factory) as s:
            res = service.append_events(
                s,
                events=chunk,
                signer=signer,
                trust=trust,
                safety=_safety(ctx, s),
                timing=service.AppendTiming(backdate_tolerance_s=ctx.settings.backdate_tolerance_s),
            )
        done += len(chunk)
        # printed only after COMMIT returned: every event up to here is durable
        print(f"acknowledged: events {res.first_seq}..{res.last_seq} ({done}/{len(events)})", flush=True)


@ledger_app.command("import")
def import_cmd(
    events_file: Annotated[Path, typer.Argument(help="EVENTS.jsonl: one event object per line")],
    database_url: DbOpt = None,
    data_dir: DataOpt = None,
    commit_every: Annotated[
        int | None,
        typer.Option("--commit-every", min=1, help="commit (and acknowledge) every N events; default: all or nothing"),
    ] = None,
    skip: Annotated[
        int,
        typer.Option("--skip", min=0, help="resume a killed import: skip the first N events (checked against the log)"),
    ] = 0,
    resume: Annotated[
        bool, typer.Option("--resume", help="resume a killed import: skip the events of the file already in the log")
    ] = False,
    signatures: SigsOpt = None,
    demo_countersign: DemoCsOpt = False,
) -> None:
    """Append every event of a JSONL file. The whole file is validated first (nothing is written
    if any line is bad); by default all events commit together."""
    from coalition.ledger.schemas import parse_jsonl

    events = parse_jsonl(read_text_file(events_file), file=str(events_file))
    ctx = _ctx(database_url, data_dir)
    if skip > len(events):
        raise InputError(
            [
                Problem(
                    f"--skip {skip} is more than the {len(events)} events in the file",
                    file=str(events_file),
                    field="--skip",
                )
            ]
        )
    if resume:
        skip = _committed_prefix(ctx, events)
        print(f"resuming: the first {skip} of {len(events)} events are already in the log", flush=True)
        if skip == len(events):
            return
    elif skip:
        _check_resume(ctx, events, skip, events_file)
    _append(ctx, events, commit_every=commit_every, signer=_signer(ctx, signatures, demo_countersign), start=skip)


def read_text_file(path: Path) -> str:
    """A UTF-8 text file, or an InputError naming the line of the first byte that is not UTF-8."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError([Problem("file not found", file=str(path))]) from None
    except OSError as exc:
        raise InputError([Problem(f"cannot read ({exc.strerror})", file=str(path))]) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            [
                Problem(
                    f"not UTF-8 (byte 0x{data[exc.start]:02x})", file=str(path), row=line, hint="save the file as UTF-8"
                )
            ]
        ) from None


def _in_log(session: Session, sub: Submitted) -> bool:
    """Is this submitted event already in the log (same nation, type, person, time and payload)?"""
    from sqlalchemy import select

    from coalition.ledger.canonical import canonical_text
    from coalition.ledger.models import LedgerEvent

    text = '"payload":' + canonical_text(sub.payload.model_dump(mode="json")) + ',"person":'
    like = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    q = select(LedgerEvent.seq).where(
        LedgerEvent.nation == sub.nation,
        LedgerEvent.type == sub.type,
        LedgerEvent.person == sub.person,
        LedgerEvent.body.like(f"%{like}%", escape="\\"),
    )
    if sub.time is not None:
        q = q.where(LedgerEvent.time == sub.time)
    return session.execute(q.limit(1)).first() is not None


def _committed_prefix(ctx: Ctx, events: Sequence[Submitted]) -> int:
    """How many leading events of the file are already in the log (an import commits in order)."""
    from coalition.store.db import transaction

    lo, hi = 0, len(events)  # invariant: events[:lo] are in the log; events[hi:] are not
    with transaction(ctx.factory) as s:
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if _in_log(s, events[mid - 1]):
                lo = mid
            else:
                hi = mid - 1
    return lo


def _check_resume(ctx: Ctx, events: Sequence[Submitted], skip: int, path: Path) -> None:
    """Skipping must neither drop nor repeat events: the first ``skip`` are in the log, the next is not."""
    from coalition.store.db import transaction

    with transaction(ctx.factory) as s:
        before_ok = _in_log(s, events[skip - 1])
        after_in = skip < len(events) and _in_log(s, events[skip])
    if not before_ok:
        raise InputError(
            [
                Problem(
                    f"event {skip} of the file is not in the log, so --skip {skip} would drop events",
                    file=str(path),
                    row=events[skip - 1].row,
                    field="--skip",
                    hint="use --resume to find where the killed import stopped",
                )
            ]
        )
    if after_in:
        raise InputError(
            [
                Problem(
                    f"event {skip + 1} of the file is already in the log: --skip {skip} would repeat"
                    " events (a chunk committed after the last acknowledgement was printed)",
                    file=str(path),
                    row=events[skip].row,
                    field="--skip",
                    hint="use --resume",
                )
            ]
        )


@ledger_app.command("prepare")
def prepare_cmd(
    events_file: Annotated[Path, typer.Argument(help="EVENTS.jsonl to be signed by the parties")],
    out_file: Annotated[Path, typer.Option("--out", help="write the statements to sign here")],
    database_url: DbOpt = None,
    data_dir: DataOpt = None,
) -> None:
    """Compute the batch statements each party must sign (nothing is written to the log). Each
    nation signs its own with 'coalition sign'; then 'ledger import --signatures ...'."""
    from coalition.ledger import service
    from coalition.ledger.batches import Collecting, SignaturesNeeded
    from coalition.ledger.schemas import parse_jsonl

    events = parse_jsonl(read_text_file(events_file), file=str(events_file))
    ctx = _ctx(database_url, data_dir)
    trust = ctx.trust()
    session = ctx.factory()
    try:
        service.append_events(session, events=events, signer=Collecting(), trust=trust, safety=_safety(ctx, session))
    except SignaturesNeeded as exc:
        needed = exc.needed
    else:  # pragma: no cover - a batch always needs a signature
        needed = []
    finally:
        session.rollback()
        session.close()
    out_file.write_text(json.dumps({"statements": [n.as_dict() for n in needed]}, indent=1) + "\n", "utf-8")
    who = sorted({f"{n.nation} ({n.key_id})" for n in needed})
    out.print(
        f"wrote {len(needed)} statement(s) to {out_file}; to be signed by {', '.join(who)}. They hold only"
        " while the log does not move on."
    )


@ledger_app.command("append")
def append_cmd(
    type: Annotated[str, typer.Option("--type", help="event type, e.g. issue")],
    nation: Annotated[str, typer.Option("--nation", help="acting nation (ISO alpha-3)")],
    person: Annotated[str, typer.Option("--person", help="the person acting")],
    payload: Annotated[str, typer.Option("--payload", help="payload as JSON (see docs/ledger.md)")],
    time: Annotated[str | None, typer.Option("--time", help="UTC time, default now")] = None,
    database_url: DbOpt = None,
    data_dir: DataOpt = None,
    signatures: SigsOpt = None,
    demo_countersign: DemoCsOpt = False,
) -> None:
    """Append one custody event, signed with the acting nation's key on this machine."""
    from coalition.ledger.schemas import parse_event

    try:
        body = json.loads(payload)
    except ValueError as exc:
        raise InputError([Problem(f"not valid JSON ({exc})", field="--payload")]) from None
    raw = {"type": type, "nation": nation, "person": person, "payload": body}
    if time:
        raw["time"] = time
    ev = parse_event(raw, file="--payload")
    ctx = _ctx(database_url, data_dir)
    _append(ctx, [ev], commit_every=None, signer=_signer(ctx, signatures, demo_countersign))


TrustOpt = Annotated[
    Path | None,
    typer.Option(
        "--trust",
        help="pinned trust file (default: the one named in settings, <data dir>/trust.json)",
        show_default=False,
    ),
]


@ledger_app.command("verify")
def verify_cmd(
    database_url: DbOpt = None,
    data_dir: DataOpt = None,
    trust: TrustOpt = None,
    projection: Annotated[
        bool,
        typer.Option(
            "--projection",
            help="also replay the log and compare the stored projection with it, naming every differing row",
        ),
    ] = False,
    rules: Annotated[bool, typer.Option("--rules/--no-rules", help="replay the log to check who may sign what")] = True,
) -> None:
    """Check every hash, link, key event, signature, checkpoint and stored tree node against the
    pinned trust file, and (by default) the signing duties by replay; name the first bad seq.
    Reads one consistent snapshot while appends go on."""
    from coalition.ledger.verify import snapshot_transaction, verify_log

    ctx = _ctx(database_url, data_dir)
    pinned = ctx.trust(trust)
    with snapshot_transaction(ctx.factory) as s:
        rep = verify_log(s, trust=pinned, rules=rules, projection=projection)
    out.print(
        f"events {rep.events}, batches {rep.batches}, signatures {rep.signatures}, "
        f"checkpoints {rep.checkpoints}, cosignatures {rep.cosignatures}"
    )
    if rep.ok:
        out.print("[green]OK[/]: every hash, signature, checkpoint and stored node verifies")
        return
    bad = rep.first_bad_seq()
    for f in rep.findings[:30]:
        out.print(f"  - {f}", markup=False)
    if len(rep.findings) > 30:
        out.print(f"  ... and {len(rep.findings) - 30} more")
    raise IntegrityError(
        f"verification FAILED ({len(rep.findings)} problem(s))" + (f"; first bad sequence number: {bad}" if bad else "")
    )


@ledger_app.command("checkpoint")
def checkpoint_cmd(
    database_url: DbOpt = None,
    data_dir: DataOpt = None,
) -> None:
    """Sign a C2SP checkpoint of the current log with the operator key, then ask every configured
    witness (COALITION_WITNESSES, C2SP tlog-witness) to cosign it."""
    from coalition.ledger import checkpoints
    from coalition.store.db import transaction

    ctx = _ctx(database_url, data_dir)
    keyring = ctx.keyring()
    pinned = ctx.trust()
    with transaction(ctx.factory) as s:
        cp = checkpoints.make_checkpoint(s, keyring=keyring, origin=pinned.origin)
    _collect_cosignatures(ctx, pinned, cp.checkpoint_id)
    with transaction(ctx.factory) as s:
        cp = checkpoints.get_checkpoint(s, checkpoint_id=cp.checkpoint_id)
    out.print(
        f"checkpoint {cp.checkpoint_id}: size {cp.size}, root {cp.root.hex()}, time {cp.time}, "
        f"signed by {cp.key_id}; cosigned by {', '.join(cp.cosigners) or 'nobody yet'}"
    )


@ledger_app.command("proof")
def proof_cmd(
    seq: Annotated[int, typer.Argument(help="sequence number of the event")],
    checkpoint: Annotated[
        int | None, typer.Option("--checkpoint", help="checkpoint id (default: latest containing SEQ)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the proof as JSON")] = False,
    database_url: DbOpt = None,
    data_dir: DataOpt = None,
) -> None:
    """Inclusion proof of one event: into its signed batch and into the checkpoint tree."""
    from coalition.ledger import checkpoints
    from coalition.ledger.rfc6962 import verify_inclusion
    from coalition.store.db import transaction

    ctx = _ctx(database_url, data_dir)
    with transaction(ctx.factory) as s:
        p = checkpoints.inclusion_proof(s, seq=seq, checkpoint_id=checkpoint)
    ok = verify_inclusion(p.leaf_hash, seq - 1, p.tree_size, p.path, p.root) and verify_inclusion(
        p.leaf_hash, p.batch_index, p.batch_size, p.batch_path, p.batch_root
    )
    if as_json:
        print(json.dumps(p.as_dict(), indent=1))
        return
    where = f"checkpoint {p.checkpoint_id}" if p.checkpoint_id else "current head (no checkpoint yet)"
    out.print(f"event {seq}: leaf {p.leaf_hash.hex()}")
    out.print(f"  in {where}: tree size {p.tree_size}, root {p.root.hex()}, {len(p.path)} hashes")
    out.print(f"  in batch {p.batch_id}: index {p.batch_index} of {p.batch_size}, root {p.batch_root.hex()}")
    out.print("  proof checks: " + ("[green]valid[/]" if ok else "[red]INVALID[/]"))


@ledger_app.command("inventory")
def inventory_cmd(
    by: Annotated[
        str,
        typer.Option("--by", help="grouping: any of hub,depot,storehouse,title_nation,custodian,status,item_type"),
    ] = "hub,depot,storehouse,title_nation,status",
    nation: Annotated[str | None, typer.Option("--nation", help="only items donated by this nation")] = None,
    database_url: DbOpt = None,
    data_dir: DataOpt = None,
) -> None:
    """Current inventory (the projection) grouped by place, nation and status, with value."""
    from coalition.inventory.service import inventory_summary
    from coalition.store.db import transaction

    ctx = _ctx(database_url, data_dir)
    cols = [c.strip() for c in by.split(",") if c.strip()]
    _ensure_history(ctx)
    with transaction(ctx.factory) as s:
        rows = inventory_summary(s, by=cols, title_nation=nation)
    t = Table(title="Inventory (ledger projection)", header_style="bold")
    for c in [*cols, "kind", "items", "quantity", "value"]:
        t.add_column(c, justify="right" if c in ("items", "quantity", "value") else "left")
    for r in rows:
        value = r["value"]
        assert isinstance(value, float)  # inventory_summary sums values as floats
        t.add_row(
            *[str(r[c]) or "-" for c in cols], str(r["kind"]), str(r["items"]), f"{r['quantity']:,}", _money(value)
        )
    out.print(t)


@ledger_app.command("reconcile")
def reconcile_cmd(
    counts: Annotated[Path | None, typer.Argument(help="COUNTS.csv: location,serial,lot,quantity")] = None,
    stocktake: Annotated[
        int | None,
        typer.Option(
            "--stocktake",
            help="instead of a CSV: the seq of a recorded count (all its nations' parts combined)",
        ),
    ] = None,
    database_url: DbOpt = None,
    data_dir: DataOpt = None,
) -> None:
    """Stocktake reconciliation: counted vs ledger, by serial and by lot (writes nothing)."""
    from coalition.ledger.custody import stocktake_counts
    from coalition.ledger.reports import read_counts, reconcile_counts
    from coalition.store.db import transaction

    if (counts is None) == (stocktake is None):
        raise InputError([Problem("give either COUNTS.csv or --stocktake SEQ (one of them)", field="--stocktake")])
    rows = read_counts(counts) if counts is not None else []
    ctx = _ctx(database_url, data_dir)
    with transaction(ctx.factory) as s:
        if stocktake is not None:
            parts, rows = stocktake_counts(s, stocktake)
            if not parts:
                raise InputError([Problem(f"event {stocktake} is not a recorded count", field="--stocktake")])
        lines = reconcile_counts(s, counts=rows)
    name = (
        counts.name
        if counts is not None
        else (f"stocktake {parts[0].seq} (count events {', '.join(str(p.seq) for p in parts)})")
    )
    t = Table(title=f"Reconciliation of {name}", header_style="bold")
    for c in ("location", "kind", "serial / lot", "ledger", "counted", "finding", "note"):
        t.add_column(c)
    colour = {"ok": "green", "missing": "red", "unexpected": "yellow", "short": "red", "over": "yellow"}
    for ln in lines:
        t.add_row(
            ln.location,
            ln.kind,
            ln.ref,
            f"{ln.ledger:,}",
            f"{ln.counted:,}",
            f"[{colour[ln.finding]}]{ln.finding}[/]",
            ln.note,
        )
    out.print(t)
    bad = sum(1 for ln in lines if ln.finding != "ok")
    out.print(f"{len(lines) - bad} agree, {bad} differ")


@ledger_app.command("report")
def report_cmd(
    donor: Annotated[str, typer.Option("--donor", help="donor (title) nation, ISO alpha-3, e.g. GBR")],
    as_of: Annotated[str | None, typer.Option("--as-of", help="date for delinquency (default today, UTC)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
    database_url: DbOpt = None,
    data_dir: DataOpt = None,
) -> None:
    """Per-donor accountability: where every serial and lot is, delivered, issued, lost; delinquency.
    An empty ledger is initialised with the sample history first."""
    from coalition.ledger.reports import donor_report
    from coalition.store.db import transaction

    try:
        day = date.fromisoformat(as_of) if as_of else datetime.now(UTC).date()
    except ValueError:
        raise InputError([Problem(f"'{as_of}' is not a date", field="--as-of", hint="YYYY-MM-DD")]) from None
    ctx = _ctx(database_url, data_dir)
    _ensure_history(ctx)
    with transaction(ctx.factory) as s:
        rep = donor_report(s, donor=donor.upper(), as_of=day)
    if not rep.lines:
        from coalition.errors import NotFoundError

        raise NotFoundError(f"no items donated by {donor.upper()} are in the ledger")
    if as_json:
        _report_json(rep)
        return
    _report_rich(rep)


def _report_json(rep: DonorReport) -> None:
    d = rep.delinquency
    print(
        json.dumps(
            {
                "donor": rep.donor,
                "as_of": rep.as_of.isoformat(),
                "items": [vars(x) for x in rep.lines],
                "totals": {k: {"count": b.count, "value": b.value} for k, b in rep.totals.items()},
                "delivered": {"count": rep.delivered.count, "value": rep.delivered.value},
                "discrepancies": [vars(x) for x in rep.discrepancies],
                "delinquency": {
                    name: {"count": b.count, "value": b.value, "refs": b.refs}
                    for name, b in (
                        ("monitored", d.monitored),
                        ("initial_overdue", d.initial_overdue),
                        ("annual_overdue", d.annual_overdue),
                        ("late_loss_reports", d.late_loss_reports),
                    )
                },
            },
            indent=1,
            default=str,
        )
    )


def _report_rich(rep: DonorReport) -> None:
    out.print(
        f"[bold]Accountability report: items donated by {rep.donor}[/] (as of {rep.as_of}) "
        "[yellow]ILLUSTRATIVE sample data unless you imported your own[/]"
    )
    out.print("'Delivered' = a receipt signed by the receiving nation and countersigned by the dispatcher.")
    t = Table(title="Totals by status", header_style="bold")
    for c in ("status", "items / rounds", "value"):
        t.add_column(c, justify="left" if c == "status" else "right")
    for k in sorted(rep.totals):
        t.add_row(k, f"{rep.totals[k].count:,}", _money(rep.totals[k].value))
    t.add_row("[bold]delivered (signed receipt)[/]", f"{rep.delivered.count:,}", _money(rep.delivered.value))
    out.print(t)
    t = Table(title=f"Where every {rep.donor} serial and lot is", header_style="bold")
    for c in ("serial / lot", "item type", "qty", "status", "where", "custodian", "delivered"):
        t.add_column(c, overflow="fold")
    for ln in rep.lines:
        t.add_row(
            ln.ref, ln.item_type, f"{ln.quantity:,}", ln.status, ln.where, ln.custodian, "yes" if ln.delivered else "no"
        )
    out.print(t)
    if rep.discrepancies:
        t = Table(title="Discrepancies (receipt and stocktake)", header_style="bold")
        for c in ("seq", "serial / lot", "reason", "expected", "found", "manifest", "location", "status"):
            t.add_column(c)
        for x in rep.discrepancies:
            t.add_row(str(x.seq), x.ref, x.reason, str(x.expected), str(x.found), x.manifest, x.location, x.status)
        out.print(t)
    d = rep.delinquency
    t = Table(
        title=f"Delinquency (monitored = sensitive items; initial inventory within {d.rules.initial_days} d,"
        f" annual every {d.rules.annual_days} d, loss report within {d.rules.loss_report_days} d)",
        header_style="bold",
    )
    for c in ("", "count", "value", "items"):
        t.add_column(c, overflow="fold")
    for name, b in (
        ("monitored", d.monitored),
        ("initial inventory overdue", d.initial_overdue),
        ("annual inventory overdue", d.annual_overdue),
        ("loss reported late", d.late_loss_reports),
    ):
        t.add_row(name, f"{b.count:,}", _money(b.value), ", ".join(b.refs[:12]) + (" ..." if len(b.refs) > 12 else ""))
    out.print(t)
    out.print(f"overdue: {d.share('count'):.0%} of monitored items by count, {d.share('value'):.0%} by value")


@ledger_app.command("export")
def export_cmd(
    directory: Annotated[Path, typer.Argument(help="folder to write the bundle into")],
    donor: Annotated[str | None, typer.Option("--donor", help="only this donor's items' events, with proofs")] = None,
    database_url: DbOpt = None,
    data_dir: DataOpt = None,
) -> None:
    """Write a bundle (events, batches, checkpoints, proofs, public keys) for coalition-verify."""
    from coalition.ledger.export import export_bundle
    from coalition.store.db import transaction

    ctx = _ctx(database_url, data_dir)
    _ensure_history(ctx)
    pinned = ctx.trust()
    with transaction(ctx.factory) as s:
        meta = export_bundle(
            s, directory=directory, keyring=ctx.keyring(), donor=donor.upper() if donor else None, trust=pinned
        )
    out.print(
        f"wrote {meta['scope']} bundle of {meta['events']} events against checkpoint {meta['checkpoint']} "
        f"(tree size {meta['tree_size']}) to {directory}; check it with: "
        f"coalition-verify {directory} --trust {ctx.settings.trust_path}"
    )


@ledger_app.command("rebuild")
def rebuild_cmd(
    database_url: DbOpt = None,
    data_dir: DataOpt = None,
    report: Annotated[
        Path | None,
        typer.Option(
            "--report",
            help="where to write the diff before replacing anything (default: <data dir>/rebuild-<time>.json)",
        ),
    ] = None,
) -> None:
    """Rebuild the inventory projection from the log. The differences between the live projection
    and the replay are written to a report FIRST (the evidence survives the rebuild), then the
    projection is replaced; exit 1 if anything differed."""
    from coalition.ledger.checks import Report
    from coalition.ledger.replay import projection_diff, replay_log
    from coalition.ledger.service import rebuild_projection
    from coalition.store.db import transaction

    ctx = _ctx(database_url, data_dir)
    with transaction(ctx.factory) as s:
        rules = Report()
        diffs = projection_diff(s, replay_log(s, rules), limit=1_000_000)
        path = report or Path(ctx.settings.data_dir) / f"rebuild-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(
            json.dumps(
                {"differences": [vars(d) for d in diffs], "rule_findings": [str(f) for f in rules.findings]},
                indent=1,
                default=str,
            ),
            "utf-8",
        )
        tmp.replace(path)  # durable before the projection is touched
        n = rebuild_projection(s)
    for d in diffs[:30]:
        out.print(f"  - {d}", markup=False)
    out.print(
        f"replayed {n} events; the live projection "
        + ("equalled the log" if not diffs else f"DIFFERED in {len(diffs)} field(s)")
        + f"; report: {path}"
    )
    if diffs:
        sys.exit(1)


def _collect_cosignatures(ctx: Ctx, trust: Trust, checkpoint_id: int) -> None:
    """Witnesses configured in settings: submit the checkpoint, store verified cosignatures."""
    if not ctx.settings.witnesses:
        return
    from coalition.ledger.witness_client import request_cosignatures

    request_cosignatures(
        ctx.factory, trust=trust, checkpoint_id=checkpoint_id, witnesses=list(ctx.settings.witnesses), report=out.print
    )


trust_app = typer.Typer(
    name="trust", help="The pinned trust file (root keys, log key, witnesses).", no_args_is_help=True
)
ledger_app.add_typer(trust_app, name="trust")


@trust_app.command("export")
def trust_export_cmd(
    file: Annotated[Path, typer.Argument(help="where to write the trust file")],
    data_dir: DataOpt = None,
    database_url: DbOpt = None,
) -> None:
    """Write the trust file from THIS machine's key store (root and log keys) and the witnesses in
    settings. Hand it to inspectors out of band; they pin it with --trust."""
    from coalition.ledger.keyevents import trust_from_keyring

    ctx = _ctx(database_url, data_dir)
    trust = trust_from_keyring(
        ctx.keyring(), origin=_origin(ctx), witnesses=_witness_keys(ctx), witness_quorum=ctx.settings.witness_quorum
    )
    file.parent.mkdir(parents=True, exist_ok=True)
    tmp = file.with_name(file.name + ".tmp")
    tmp.write_text(trust.to_json(), "utf-8")
    tmp.replace(file)
    out.print(
        f"wrote trust file {file}: {len(trust.roots)} root key(s), log {trust.origin}, "
        f"{len(trust.witnesses)} witness(es), quorum {trust.witness_quorum}"
    )


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""
    app.add_typer(ledger_app, name="ledger")
