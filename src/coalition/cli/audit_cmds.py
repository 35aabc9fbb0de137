"""``coalition audit verify|checkpoint``: check the hash-chained audit log, sign its root.

Both read ``COALITION_DATABASE_URL`` (and ``COALITION_DATA_DIR`` for the operator key, the
custody ledger's ``log-operator`` key, which signs audit checkpoints and pins their check).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from coalition.cli import context

if TYPE_CHECKING:
    from coalition.ledger.keys import KeyRing
    from coalition.settings import Settings

audit_app = typer.Typer(help="The audit log: verify the chain and its checkpoints.", no_args_is_help=True)


def _keyring(settings: Settings) -> KeyRing:
    from coalition.ledger.keys import KeyRing

    return KeyRing.load(Path(settings.data_dir) / "keys")


@audit_app.command("verify")
def verify() -> None:
    """Check every entry's hash link and every checkpoint; exit 1 naming the first bad entry."""
    from sqlalchemy import inspect

    from coalition.audit.verify import verify_log
    from coalition.store.db import make_engine, session_factory

    settings = context.settings()
    engine = make_engine(settings.database_url)
    try:
        if "audit_head" not in inspect(engine).get_table_names():
            typer.echo("error: no audit log in this database (run `coalition serve` or migrate first)", err=True)
            raise typer.Exit(2)
        keys = {k.key_id: k.public_key for k in _keyring(settings).public_keys()}
        with session_factory(engine)() as db:
            report = verify_log(db, public_keys=keys)
    finally:
        engine.dispose()
    for note in report.notes:
        typer.echo(f"note: {note}")
    if not report.ok:
        typer.echo(f"audit log does NOT verify: first bad entry: {report.first}", err=True)
        for problem in report.problems[1:5]:
            typer.echo(f"  also: {problem}", err=True)
        raise typer.Exit(1)
    typer.echo(
        f"audit log verifies: {report.entries} entries chained, "
        f"{report.checkpoints} checkpoint(s) ({report.signed_checkpoints} signature(s) "
        "checked)"
    )


@audit_app.command("checkpoint")
def checkpoint() -> None:
    """Record the Merkle root of the whole chain, signed with the operator key when present."""
    from coalition.audit import service
    from coalition.store.db import make_engine, session_factory, transaction
    from coalition.store.migrate import upgrade

    settings = context.settings()
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        with transaction(session_factory(engine)) as db:
            cp = service.make_checkpoint(db, keyring=_keyring(settings))
    finally:
        engine.dispose()
    typer.echo(
        f"audit checkpoint {cp.id}: {cp.size} entries, root {cp.root.hex()}"
        + (f", signed by {cp.key_id}" if cp.signature else ", unsigned (no operator key)")
    )


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
