"""Custody events (append only), transfer requests with two-person approval, checkpoints,
proofs, inventory and accountability reports, and ledger health.

The ledger and inventory packages do the work (``append_events``, ``make_checkpoint``,
``inclusion_proof``, ``consistency_proof``, ``verify_log``, ``inventory_summary``,
``donor_report``), as ``coalition ledger ...`` does. This router adds what only a multi-user
service needs: who may see which event (the acting nation, the title-holding nations and HQ),
the acting nation and person taken from the signed-in user (never from the body), and the
separation of duties: the requester of a transfer cannot approve it, and the custodian of
stock cannot count it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field

from coalition.api.contract import check_service_nation
from coalition.api.deps import Context, Ctx, Paging
from coalition.api.responses import (
    AccountabilityOut,
    AppendOut,
    CheckpointOut,
    ConsistencyProof,
    EventOut,
    InclusionProof,
    InventoryOut,
    LedgerHealth,
    Page,
    PrepareOut,
    TransferOut,
)
from coalition.auth.rules import Marking
from coalition.auth.schemas import HQ
from coalition.auth.scope import OutOfScope, restrict
from coalition.errors import ConflictError, InputError, Problem
from coalition.ledger import queries as ledger_queries

router = APIRouter(prefix="/api", tags=["ledger"])

Seq = Annotated[int, Path(ge=1, le=2**62)]


# ---------------------------------------------------------------------------------------------
# Plumbing shared with the CLI's set-up: keys and the depot safety check
# ---------------------------------------------------------------------------------------------


def keyring(ctx: Ctx) -> Any:
    from coalition.ledger.keys import KeyRing

    keys = ctx.state.settings.demo_keystore
    if not keys.is_dir():
        raise ConflictError(
            "the custody ledger has no keys yet; run `coalition ledger init` (or `coalition serve --demo-users`) first"
        )
    return KeyRing.load(keys, ctx.state.settings.demo_passphrase)


def trust(ctx: Ctx) -> Any:
    """The pinned trust file named in settings; else the one the server's key store implies."""
    return ledger_queries.pinned_trust(ctx.state.settings)


def safety(ctx: Ctx) -> Any:
    from coalition.api.routers.common import current_scenario
    from coalition.inventory.safety import depot_safety
    from coalition.ledger.sample import ledger_network

    _sid, sc = current_scenario(ctx, None)
    return depot_safety(ctx.db, ledger_network(sc.depots))


# ---------------------------------------------------------------------------------------------
# Events
# ---------------------------------------------------------------------------------------------


_event_marking = ledger_queries.event_marking
_event_out = ledger_queries.event_out


def _titles(ctx: Ctx, seqs: list[int]) -> dict[int, set[str]]:
    return ledger_queries.titles(ctx.db, seqs)


@router.get(
    "/custody-events", response_model=Page[EventOut], summary="Custody events you may see (acting or title nation)"
)
def list_events(
    ctx: Context,
    paging: Paging,
    type: Annotated[str | None, Query(max_length=20)] = None,  # noqa: A002
    nation: Annotated[str | None, Query(pattern=r"^[A-Z]{3}$")] = None,
    ref: Annotated[str | None, Query(max_length=90, description="S:<serial>, L:<lot>, M:<manifest>")] = None,
) -> dict[str, Any]:
    check_service_nation(ctx, nation, field="nation", extra=())
    where = ledger_queries.EventFilter(type=type, nation=nation, ref=ref)
    body = ledger_queries.visible_events(ctx.db, ctx.principal, offset=paging.offset, limit=paging.limit, where=where)
    ctx.audit_read("custody-event", [e["seq"] for e in body["items"]])
    return body


@router.get(
    "/custody-events/{seq}", response_model=EventOut, summary="One custody event with its signed body (audited)"
)
def get_event(ctx: Context, seq: Seq) -> dict[str, Any]:
    from coalition.ledger.models import LedgerEvent

    scope = restrict(ctx.principal, "custody.view", _event_marking)
    event = ctx.db.get(LedgerEvent, seq)
    row = scope.check((event, _titles(ctx, [seq])[seq]) if event is not None else None, str(seq))
    ctx.audit("view", "custody-event", str(seq))
    return _event_out(row[0], row[1], body=True)


class EventBody(BaseModel):
    """A custody event as submitted: the acting nation and person come from your sign-in."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(
        max_length=20,
        description="manifest, dispatch, receipt, issue, return, "
        "count, loss, disposal, suspension, correction (transfers: POST /api/transfers)",
    )
    time: str | None = Field(default=None, max_length=32, description="UTC; default now")
    payload: dict[str, Any]


class EventBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    events: list[EventBody] = Field(min_length=1, max_length=1000)


def signing(ctx: Ctx, signer: Any = None) -> Any:
    """Keys, trust and the safety check for an append (:class:`coalition.ledger.custody.Signing`)."""
    from coalition.ledger.custody import Signing

    return Signing(
        keyring=keyring(ctx) if signer is None else None, trust=trust(ctx), safety=safety(ctx), signer=signer
    )


def append(ctx: Ctx, events: list[EventBody], *, person: str | None = None, signer: Any = None) -> Any:
    """Parse, check duties, append (all or none) through :mod:`coalition.ledger.custody`; audit
    each event."""
    from coalition.ledger.custody import append_as

    result, subs = append_as(
        ctx.db, ctx.principal, [e.model_dump() for e in events], signing(ctx, signer), person=person
    )
    for seq, sub in zip(range(result.first_seq, result.last_seq + 1), subs, strict=False):
        ctx.audit(
            "append",
            "custody-event",
            str(seq),
            after={"type": sub.type, "payload": sub.payload.model_dump(mode="json")},
        )
    return result


@router.post(
    "/custody-events",
    response_model=AppendOut,
    status_code=status.HTTP_201_CREATED,
    summary="Append custody events (all or none; signed with your nation's key)",
)
def append_events(ctx: Context, body: EventBatch) -> dict[str, Any]:
    from coalition.ledger.custody import require_appender

    require_appender(ctx.principal, {e.type for e in body.events})
    result = append(ctx, body.events)
    return {
        "first_seq": result.first_seq,
        "last_seq": result.last_seq,
        "batches": list(result.batches),
        "size": result.size,
    }


class SignatureIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    statement_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    role: str = Field(pattern=r"^(actor|counterparty)$")
    key_id: str = Field(max_length=40)
    signature: str = Field(pattern=r"^[0-9a-f]{128}$")
    time: str = Field(default="", max_length=32, description="the commit time returned by prepare")


class SignedBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    events: list[EventBody] = Field(min_length=1, max_length=1000)
    signatures: list[SignatureIn] = Field(default_factory=list, max_length=4000)


def _ensure_nation(ctx: Ctx, kinds: set[str]) -> None:
    from coalition.ledger.custody import require_appender

    require_appender(ctx.principal, kinds)


@router.post(
    "/custody-events/prepare",
    response_model=PrepareOut,
    summary="Statements each party must sign for these events (nothing is written; 409 lists them)",
)
def prepare_events(ctx: Context, body: EventBatch) -> dict[str, Any]:
    from coalition.ledger.batches import Collecting, SignaturesNeeded

    _ensure_nation(ctx, {e.type for e in body.events})
    try:
        append(ctx, body.events, signer=Collecting())
    except SignaturesNeeded as exc:
        ctx.db.rollback()
        return {
            "statements": [n.as_dict() for n in exc.needed],
            "note": "sign each statement with 'coalition sign' and POST them to /api/custody-events/signed"
            " before the log moves on",
        }
    raise ConflictError("prepare produced no statements")  # pragma: no cover - a batch always needs one


@router.post(
    "/custody-events/signed",
    response_model=AppendOut,
    status_code=status.HTTP_201_CREATED,
    summary="Append pre-signed custody events (each party signed on its own machine)",
)
def append_signed(ctx: Context, body: SignedBatch) -> dict[str, Any]:
    from coalition.ledger.batches import PreSigned

    _ensure_nation(ctx, {e.type for e in body.events})
    result = append(ctx, body.events, signer=PreSigned([s.model_dump() for s in body.signatures]))
    return {
        "first_seq": result.first_seq,
        "last_seq": result.last_seq,
        "batches": list(result.batches),
        "size": result.size,
    }


# ---------------------------------------------------------------------------------------------
# Transfers: request, then approval by another officer
# ---------------------------------------------------------------------------------------------


class TransferBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    payload: dict[str, Any] = Field(description="transfer payload: serials, lots, to")
    note: str = Field(default="", max_length=500)


@router.post(
    "/transfers",
    response_model=TransferOut,
    status_code=status.HTTP_201_CREATED,
    summary="Request a transfer (another officer of the nation approves it)",
)
def request_transfer(ctx: Context, body: TransferBody) -> dict[str, Any]:
    from coalition.ledger import custody

    t = custody.request_transfer(ctx.db, ctx.principal, body.payload, body.note)
    ctx.audit("request", "transfer", str(t.id), after=custody.transfer_out(t))
    return custody.transfer_out(t)


@router.get("/transfers", response_model=Page[TransferOut], summary="Transfer requests of your nation")
def list_transfers(ctx: Context, paging: Paging) -> dict[str, Any]:
    from coalition.ledger import custody

    items = [custody.transfer_out(t) for t in custody.visible_transfers(ctx.db, ctx.principal)]
    return {
        "items": items[paging.offset : paging.offset + paging.limit],
        "total": len(items),
        "offset": paging.offset,
        "limit": paging.limit,
    }


@router.post(
    "/transfers/{transfer_id}/approve",
    response_model=TransferOut,
    summary="Approve a transfer requested by someone else; appends the signed event",
)
def approve_transfer(ctx: Context, transfer_id: Annotated[int, Path(ge=1, le=2**31 - 1)]) -> dict[str, Any]:
    from coalition.ledger import custody

    t, before, result = custody.approve_transfer(ctx.db, ctx.principal, transfer_id, signing(ctx))
    ctx.audit("append", "custody-event", str(result.first_seq), after={"type": "transfer", "payload": t.payload})
    ctx.audit("approve", "transfer", str(t.id), before=before, after=custody.transfer_out(t))
    return custody.transfer_out(t)


# ---------------------------------------------------------------------------------------------
# Checkpoints, proofs, verification
# ---------------------------------------------------------------------------------------------


def _public(_r: Any) -> Marking:
    # Checkpoints and proofs are hashes and signatures: every coalition member may check them.
    return Marking(origin=HQ, releasable_to=("ALL",))


def _cp_out(cp: Any) -> dict[str, Any]:
    # ``heads``: the note's nation-heads extension line, part of what ``signature`` signs
    # (origin, size, root, then this line: docs/ledger.md, completeness); null on older checkpoints
    return {
        "id": cp.checkpoint_id,
        "size": cp.size,
        "root": cp.root.hex(),
        "time": cp.time,
        "key_id": cp.key_id,
        "signature": cp.signature.hex(),
        "cosigners": list(cp.cosigners),
        "heads": cp.heads,
    }


@router.get(
    "/ledger/checkpoints", response_model=Page[CheckpointOut], summary="Signed checkpoints (tree size, root, time)"
)
def list_checkpoints(ctx: Context, paging: Paging) -> dict[str, Any]:
    from coalition.ledger import checkpoints

    restrict(ctx.principal, "checkpoint.view", _public)
    cps = [_cp_out(c) for c in checkpoints.checkpoints(ctx.db)]
    return {
        "items": cps[paging.offset : paging.offset + paging.limit],
        "total": len(cps),
        "offset": paging.offset,
        "limit": paging.limit,
    }


@router.get("/ledger/checkpoints/{checkpoint_id}", response_model=CheckpointOut, summary="One checkpoint")
def get_checkpoint(ctx: Context, checkpoint_id: Annotated[int, Path(ge=1, le=2**31 - 1)]) -> dict[str, Any]:
    from coalition.ledger import checkpoints

    restrict(ctx.principal, "checkpoint.view", _public)
    return _cp_out(checkpoints.get_checkpoint(ctx.db, checkpoint_id=checkpoint_id))


@router.post(
    "/ledger/checkpoints",
    response_model=CheckpointOut,
    status_code=status.HTTP_201_CREATED,
    summary="Sign a checkpoint of the current log",
)
def create_checkpoint(ctx: Context) -> dict[str, Any]:
    from coalition.ledger import checkpoints

    restrict(ctx.principal, "checkpoint.add", _public)
    cp = checkpoints.make_checkpoint(ctx.db, keyring=keyring(ctx), origin=trust(ctx).origin)
    out = _cp_out(cp)
    ctx.audit("create", "checkpoint", str(cp.checkpoint_id), after=out)
    return out


@router.get("/ledger/proofs/inclusion/{seq}", response_model=InclusionProof, summary="Inclusion proof of one event")
def inclusion(
    ctx: Context, seq: Seq, checkpoint: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None
) -> dict[str, Any]:
    from coalition.ledger import checkpoints
    from coalition.ledger.models import LedgerEvent

    scope = restrict(ctx.principal, "custody.view", _event_marking)
    event = ctx.db.get(LedgerEvent, seq)
    scope.check((event, _titles(ctx, [seq])[seq]) if event is not None else None, str(seq))
    return checkpoints.inclusion_proof(ctx.db, seq=seq, checkpoint_id=checkpoint).as_dict()


@router.get(
    "/ledger/proofs/consistency", response_model=ConsistencyProof, summary="Consistency proof between two tree sizes"
)
def consistency(
    ctx: Context, first: Annotated[int, Query(ge=1, le=2**62)], second: Annotated[int, Query(ge=1, le=2**62)]
) -> dict[str, Any]:
    from coalition.ledger import checkpoints

    restrict(ctx.principal, "checkpoint.view", _public)
    if first > second:
        raise InputError([Problem("first must not exceed second", field="first")])
    path = checkpoints.consistency_proof(ctx.db, first=first, second=second)
    return {"first": first, "second": second, "path": [h.hex() for h in path]}


def ledger_health(ctx: Ctx) -> dict[str, Any]:
    """Last checkpoint and a full verification of the log (:mod:`coalition.ledger.queries`)."""
    return ledger_queries.ledger_health(ctx.db, trust(ctx))


@router.get(
    "/ledger/health", response_model=LedgerHealth, summary="Ledger health: last checkpoint and full verification"
)
def health(ctx: Context) -> dict[str, Any]:
    restrict(ctx.principal, "checkpoint.view", _public)
    return ledger_health(ctx)


# ---------------------------------------------------------------------------------------------
# Inventory and accountability
# ---------------------------------------------------------------------------------------------


@router.get(
    "/inventory",
    response_model=InventoryOut,
    summary="Inventory grouped by place, nation and status (your nation's items; HQ sees all)",
)
def inventory(
    ctx: Context,
    by: Annotated[list[str], Query(max_length=6)] = ["hub", "depot", "title_nation", "status"],  # noqa: B006
    title_nation: Annotated[str | None, Query(pattern=r"^[A-Z]{3}$")] = None,
) -> dict[str, Any]:
    from coalition.inventory.service import inventory_summary

    restrict(ctx.principal, "inventory.view", _public)
    check_service_nation(ctx, title_nation, field="title_nation", extra=())
    if not ctx.principal.is_hq:
        if title_nation not in (None, ctx.principal.nation):
            raise OutOfScope("inventory", title_nation, message=f"no inventory of {title_nation} is released to you")
        title_nation = ctx.principal.nation
    rows = inventory_summary(ctx.db, by=tuple(by), title_nation=title_nation)
    return {"items": rows, "total": len(rows), "title_nation": title_nation}


@router.get(
    "/reports/accountability", response_model=AccountabilityOut, summary="Per-donor accountability report (audited)"
)
def accountability(
    ctx: Context, donor: Annotated[str, Query(pattern=r"^[A-Z]{3}$")], as_of: date | None = None
) -> dict[str, Any]:
    from coalition.ledger.reports import donor_report

    restrict(ctx.principal, "report.view", _public)
    check_service_nation(ctx, donor, field="donor", extra=())
    if not ctx.principal.is_hq and donor != ctx.principal.nation:
        raise OutOfScope(
            "accountability-report", donor, message=f"no accountability report of {donor} is released to you"
        )
    day = as_of or datetime.now(UTC).date()
    rep = donor_report(ctx.db, donor=donor, as_of=day)
    d = rep.delinquency
    ctx.audit("view", "accountability-report", donor)
    return {
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
    }
