"""``coalition ledger init | import | prepare | append``: the commands that start the ledger and
append signed custody events to it (events from a JSONL file, resumable after an interruption;
one event; or prepared for offline signing)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from sqlalchemy.orm import Session

from coalition.cli.ledger_ctx import Ctx, DataOpt, DbOpt, _ctx, _init, _safety, out
from coalition.errors import InputError, Problem

if TYPE_CHECKING:
    from coalition.ledger.batches import BatchSigner, Chain
    from coalition.ledger.schemas import Submitted

SigsOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--signatures", help="signatures made by the parties with 'coalition sign' (repeatable)", show_default=False
    ),
]


DemoCsOpt = Annotated[
    bool, typer.Option("--demo-countersign", help="DEMO ONLY: sign counterparty roles with the demo key store's keys")
]


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


def register(ledger: typer.Typer) -> None:
    """Add this module's commands to the ``coalition ledger`` group (in help order)."""
    ledger.command("init")(init_cmd)
    ledger.command("import")(import_cmd)
    ledger.command("prepare")(prepare_cmd)
    ledger.command("append")(append_cmd)
