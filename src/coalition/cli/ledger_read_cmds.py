"""``coalition ledger verify | checkpoint | proof | inventory | reconcile | report | export |
rebuild``: the commands that check, prove, report and rebuild from the custody log."""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from coalition.cli.ledger_ctx import Ctx, DataOpt, DbOpt, TrustOpt, _ctx, _ensure_history, _money, out
from coalition.errors import InputError, IntegrityError, Problem

if TYPE_CHECKING:
    from coalition.ledger.reports import DonorReport
    from coalition.ledger.trust import Trust


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
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=0,
            help="processes that check chunks of a long log (0: one per usable core; 1: this process only)",
        ),
    ] = 0,
) -> None:
    """Check every hash, link, key event, signature, checkpoint and stored tree node against the
    pinned trust file, and (by default) the signing duties by replay; name the first bad seq.
    Reads one consistent snapshot while appends go on."""
    import os

    from coalition.ledger.verify import snapshot_transaction, verify_log

    ctx = _ctx(database_url, data_dir)
    pinned = ctx.trust(trust)
    usable = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else range(os.cpu_count() or 1)
    n = workers or len(usable)
    with snapshot_transaction(ctx.factory) as s:
        rep = verify_log(s, trust=pinned, rules=rules, projection=projection, workers=n)
    out.print(
        f"events {rep.events}, batches {rep.batches}, signatures {rep.signatures}, "
        f"checkpoints {rep.checkpoints}, cosignatures {rep.cosignatures}"
        + (f" ({rep.worker_chunks} chunks checked by {rep.workers} worker processes)" if rep.workers else "")
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


def register(ledger: typer.Typer) -> None:
    """Add this module's commands to the ``coalition ledger`` group (in help order)."""
    ledger.command("verify")(verify_cmd)
    ledger.command("checkpoint")(checkpoint_cmd)
    ledger.command("proof")(proof_cmd)
    ledger.command("inventory")(inventory_cmd)
    ledger.command("reconcile")(reconcile_cmd)
    ledger.command("report")(report_cmd)
    ledger.command("export")(export_cmd)
    ledger.command("rebuild")(rebuild_cmd)
