"""``coalition ledger ...``: the custody ledger from the command line.

Thin: every command opens ONE transaction (``coalition.store.db.transaction``), calls the ledger
and inventory services, and renders with Rich. ``--database-url`` defaults to Settings
(``COALITION_DATABASE_URL``, else SQLite under the data dir).

This module is the ``ledger`` group: its commands live per family in
:mod:`coalition.cli.ledger_write_cmds` (init, import, prepare, append) and
:mod:`coalition.cli.ledger_read_cmds` (verify, checkpoint, proof, inventory, reconcile, report,
export, rebuild), over what they share in :mod:`coalition.cli.ledger_ctx`; ``trust export`` is
here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from coalition.cli import ledger_read_cmds, ledger_write_cmds
from coalition.cli.ledger_ctx import DataOpt, DbOpt, _ctx, _origin, _witness_keys, out

ledger_app = typer.Typer(
    name="ledger",
    help="Custody ledger: append-only signed Merkle log of serials and lots, reports, proofs.",
    no_args_is_help=True,
)
ledger_write_cmds.register(ledger_app)
ledger_read_cmds.register(ledger_app)


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
