"""What every ``coalition ledger`` command shares: the console, the common options, the ledger
context (settings read once per invocation through :mod:`coalition.cli.context`, a migrated
database) and the set-up of a fresh ledger (key store, trust file, optional sample history)."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from sqlalchemy.orm import Session, sessionmaker

from coalition.cli import context
from coalition.errors import InputError, IntegrityError, Problem
from coalition.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from coalition.inventory.state import SafetyCheck
    from coalition.ledger.keys import KeyRing
    from coalition.ledger.notes import Verifier
    from coalition.ledger.trust import Trust

# a report read from a pipe or file keeps its columns instead of folding to 80 characters
out = Console(highlight=False, width=None if sys.stdout.isatty() else 160)


DbOpt = Annotated[
    str | None,
    typer.Option(
        "--database-url", help="SQLAlchemy URL (default: Settings / COALITION_DATABASE_URL)", show_default=False
    ),
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

    settings = context.settings_in(data_dir, database_url=database_url)  # once per invocation
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


TrustOpt = Annotated[
    Path | None,
    typer.Option(
        "--trust",
        help="pinned trust file (default: the one named in settings, <data dir>/trust.json)",
        show_default=False,
    ),
]
