"""Custody pages: events with filters and paging, transfers (request, approval by another
officer), stocktakes (blind count entry, reconciliation against the ledger), checkpoints and
inclusion proofs.

Every read goes through the ledger's query functions and scopes (:mod:`coalition.ledger.queries`,
:mod:`coalition.ledger.custody`), every write through :mod:`coalition.ledger.custody`, as the API
does; only the actions the reader's role and nation may take are offered, and the services check
again. Forms come back with their input and the problems inline.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from coalition.auth.rules import PUBLIC, has_permission
from coalition.auth.scope import restrict
from coalition.dashboard.i18n import request_lang
from coalition.dashboard.page import Page, _state, render
from coalition.dashboard.security import check_csrf
from coalition.errors import ConflictError, InputError, PermissionDeniedError

router = APIRouter(include_in_schema=False)
PAGE = 20
Seq = Annotated[int, Query(ge=1, le=2**62)]


def _tabs(ctx: Any) -> dict[str, bool]:
    p = ctx.principal
    return {
        "transfer": has_permission(p, "custody.add") and not p.is_hq,
        "count": has_permission(p, "custody.count") and not p.is_hq,
        "checkpoint": has_permission(p, "checkpoint.add"),
    }


def _page(request: Request, ctx: Any, template: str, tab: str, status_code: int = 200, **data: Any) -> HTMLResponse:
    return render(request, ctx, template, "ledger", status_code=status_code, tab=tab, may=_tabs(ctx), **data)


def _signing(ctx: Any) -> Any:
    from coalition.dashboard.placements import signing

    return signing(ctx, _state(ctx)[1].scenario)


# ---------------------------------------------------------------------------------------------
# Events
# ---------------------------------------------------------------------------------------------


@router.get("/custody")
def events_page(  # noqa: PLR0913
    request: Request,
    ctx: Page,
    type: Annotated[str, Query(max_length=40)] = "",  # noqa: A002
    nation: Annotated[str, Query(max_length=3)] = "",
    location: Annotated[str, Query(max_length=250)] = "",
    since: Annotated[str, Query(max_length=10)] = "",
    until: Annotated[str, Query(max_length=10)] = "",
    ref: Annotated[str, Query(max_length=120)] = "",
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> HTMLResponse:
    """The custody events the reader may see, newest first, filtered; 20 a page."""
    from datetime import date

    from coalition.inventory.schemas import EVENT_TYPES
    from coalition.ledger.queries import EventFilter, visible_events

    tr = request_lang(request).gettext
    form = {
        "type": type,
        "nation": nation.upper(),
        "location": location.strip(),
        "since": since,
        "until": until,
        "ref": ref.strip(),
    }
    errors: dict[str, str] = {}
    if type and type not in EVENT_TYPES:
        errors["type"] = tr("Choose one of the event types.")
    for name in ("since", "until"):
        if form[name]:
            try:
                date.fromisoformat(form[name])
            except ValueError:
                errors[name] = tr("'%(value)s' is not a date (use YYYY-MM-DD).", value=form[name])
    items: list[dict[str, Any]] = []
    total = 0
    if not errors:
        where = EventFilter(
            type=type or None,
            nation=form["nation"] or None,
            ref=form["ref"] or None,
            location=form["location"] or None,
            since=since or None,
            until=until or None,
        )
        body = visible_events(
            ctx.db, ctx.principal, offset=(page - 1) * PAGE, limit=PAGE, where=where, newest_first=True
        )
        items, total = body["items"], body["total"]
        ctx.audit_read("custody-event", [e["seq"] for e in items])
    keep = {k: v for k, v in form.items() if v}
    pages = {
        "prev": f"/custody?{urlencode({**keep, 'page': page - 1})}" if page > 1 else None,
        "next": f"/custody?{urlencode({**keep, 'page': page + 1})}" if page * PAGE < total else None,
    }
    return _page(
        request,
        ctx,
        "custody_events.html",
        "events",
        422 if errors else 200,
        events=items,
        total=total,
        form=form,
        errors=errors,
        pages=pages,
        page=page,
        types=EVENT_TYPES,
    )


@router.get("/custody/events/{seq}")
def event_page(request: Request, ctx: Page, seq: int) -> HTMLResponse:
    """One event with its signed body (an audited read, scoped like the API)."""
    from coalition.ledger.models import LedgerEvent
    from coalition.ledger.queries import event_marking, event_out, titles

    scope = restrict(ctx.principal, "custody.view", event_marking)
    event = ctx.db.get(LedgerEvent, seq) if 1 <= seq <= 2**62 else None
    row = scope.check((event, titles(ctx.db, [seq])[seq]) if event is not None else None, str(seq))
    ctx.audit("view", "custody-event", str(seq), note="dashboard")
    return _page(request, ctx, "custody_event.html", "events", event=event_out(*row, body=True))


# ---------------------------------------------------------------------------------------------
# Transfers
# ---------------------------------------------------------------------------------------------


def _transfers_view(request: Request, ctx: Any, status_code: int = 200, **data: Any) -> HTMLResponse:
    from coalition.ledger import custody

    rows = custody.visible_transfers(ctx.db, ctx.principal)
    ctx.audit_read("transfer", [t.id for t in rows])
    items = [{**custody.transfer_out(t), "may_approve": custody.may_approve(ctx.principal, t)} for t in reversed(rows)]
    return _page(
        request,
        ctx,
        "transfers.html",
        "transfers",
        status_code,
        **{"transfers": items, "form": {}, "errors": {}, "problems": [], **data},
    )


@router.get("/custody/transfers")
def transfers_page(
    request: Request, ctx: Page, done: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None
) -> HTMLResponse:
    return _transfers_view(request, ctx, done=done)


_TRANSFER_FIELDS = ("serials", "lot", "quantity", "at", "to", "note")


def _transfer_payload(form: dict[str, str], tr: Any) -> tuple[dict[str, Any], dict[str, str]]:
    errors: dict[str, str] = {}
    payload: dict[str, Any] = {"to": form["to"]}
    serials = [s.strip() for s in form["serials"].replace(",", "\n").splitlines() if s.strip()]
    if serials:
        payload["serials"] = serials
    if form["lot"] or form["quantity"]:
        try:
            qty = int(form["quantity"])
        except ValueError:
            errors["quantity"] = tr("Give a whole number of units.")
            qty = 0
        payload["lots"] = [{"lot": form["lot"], "quantity": qty, "at": form["at"]}]
    if not serials and not form["lot"]:
        errors["serials"] = tr("Name at least one serial or a lot.")
    return payload, errors


def _field_of(location: str | None) -> str:
    """The form field a problem of the transfer payload belongs to."""
    parts = (location or "").split(".")
    for name in ("quantity", "at", "to", "serials"):
        if name in parts:
            return name
    return "lot" if "lots" in parts else ""


@router.post("/custody/transfers")
def request_transfer(  # noqa: PLR0913
    request: Request,
    ctx: Page,
    csrf: Annotated[str, Form(max_length=200)] = "",
    serials: Annotated[str, Form(max_length=20_000)] = "",
    lot: Annotated[str, Form(max_length=80)] = "",
    quantity: Annotated[str, Form(max_length=20)] = "",
    at: Annotated[str, Form(max_length=250)] = "",
    to: Annotated[str, Form(max_length=250)] = "",
    note: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Record a transfer request; another officer of the nation approves it."""
    from coalition.ledger import custody

    check_csrf(request, csrf)
    tr = request_lang(request).gettext
    form = {
        "serials": serials,
        "lot": lot.strip(),
        "quantity": quantity.strip(),
        "at": at.strip(),
        "to": to.strip(),
        "note": note,
    }
    payload, errors = _transfer_payload(form, tr)
    problems: list[str] = []
    if not errors:
        try:
            t = custody.request_transfer(ctx.db, ctx.principal, payload, note)
        except InputError as exc:
            for p in exc.problems:
                field = _field_of(p.field)
                if field and field not in errors:
                    errors[field] = p.message
                elif not field:
                    problems.append(p.message)
        else:
            ctx.audit("request", "transfer", str(t.id), after=custody.transfer_out(t), note="dashboard")
            return RedirectResponse(f"/custody/transfers?done={t.id}#t{t.id}", status_code=303)
    return _transfers_view(request, ctx, 422, form=form, errors=errors, problems=problems)


@router.post("/custody/transfers/{transfer_id}/approve")
def approve_transfer(
    request: Request, ctx: Page, transfer_id: int, csrf: Annotated[str, Form(max_length=200)] = ""
) -> Response:
    """Approve a transfer someone else requested: appends the signed transfer event."""
    from coalition.ledger import custody

    check_csrf(request, csrf)
    try:
        t, before, result = custody.approve_transfer(ctx.db, ctx.principal, transfer_id, _signing(ctx))
    except PermissionDeniedError as exc:
        return _transfers_view(request, ctx, 403, problems=[str(exc)])
    except (ConflictError, InputError) as exc:
        ctx.db.rollback()
        text = "; ".join(p.message for p in exc.problems) if isinstance(exc, InputError) else str(exc)
        return _transfers_view(request, ctx, 409, problems=[text])
    ctx.audit(
        "append",
        "custody-event",
        str(result.first_seq),
        note="dashboard",
        after={"type": "transfer", "payload": t.payload},
    )
    ctx.audit("approve", "transfer", str(t.id), before=before, after=custody.transfer_out(t), note="dashboard")
    return RedirectResponse(f"/custody/transfers?done={t.id}#t{t.id}", status_code=303)


# ---------------------------------------------------------------------------------------------
# Stocktakes
# ---------------------------------------------------------------------------------------------


def _counts_view(request: Request, ctx: Any, status_code: int = 200, **data: Any) -> HTMLResponse:
    from coalition.ledger.queries import EventFilter, visible_events

    recorded = visible_events(
        ctx.db, ctx.principal, offset=0, limit=50, where=EventFilter(type="count"), newest_first=True
    )
    ctx.audit_read("custody-event", [e["seq"] for e in recorded["items"]])
    return _page(
        request,
        ctx,
        "stocktake.html",
        "stocktakes",
        status_code,
        **{"counts": recorded["items"], "form": {}, "errors": {}, "problems": [], **data},
    )


@router.get("/custody/stocktakes")
def stocktakes_page(request: Request, ctx: Page) -> HTMLResponse:
    return _counts_view(request, ctx)


def _count_lots(text: str, tr: Any) -> tuple[list[dict[str, Any]], str]:
    out: list[dict[str, Any]] = []
    bad: list[str] = []
    for n, line in enumerate(text.splitlines(), start=1):
        cells = [c.strip() for c in line.replace(";", ",").replace("\t", ",").split(",")]
        if len(cells) == 1 and " " in cells[0].strip():
            cells = cells[0].split()
        cells = [c for c in cells if c]
        if not cells:
            continue
        try:
            if len(cells) != 2:
                raise ValueError
            out.append({"lot": cells[0], "quantity": int(cells[1])})
        except ValueError:
            bad.append(str(n))
    msg = (
        tr("Lines %(lines)s: write each lot as 'lot, quantity' (a whole number).", lines=", ".join(bad)) if bad else ""
    )
    return out, msg


@router.post("/custody/stocktakes")
def record_count(
    request: Request,
    ctx: Page,
    csrf: Annotated[str, Form(max_length=200)] = "",
    location: Annotated[str, Form(max_length=250)] = "",
    serials: Annotated[str, Form(max_length=200_000)] = "",
    lots: Annotated[str, Form(max_length=200_000)] = "",
) -> Response:
    """Record a blind count (a ``count`` event), then show its reconciliation."""
    from coalition.ledger import custody

    check_csrf(request, csrf)
    tr = request_lang(request).gettext
    form = {"location": location.strip(), "serials": serials, "lots": lots}
    errors: dict[str, str] = {}
    lot_rows, lot_error = _count_lots(lots, tr)
    if lot_error:
        errors["lots"] = lot_error
    if not form["location"]:
        errors["location"] = tr("Give the counted location (hub/depot/storehouse).")
    names = [s.strip() for s in serials.replace(",", "\n").splitlines() if s.strip()]
    if errors:
        return _counts_view(request, ctx, 422, form=form, errors=errors)
    event = {"type": "count", "payload": {"location": form["location"], "serials": names, "lots": lot_rows}}
    try:
        custody.require_appender(ctx.principal, {"count"})
        result, subs = custody.append_as(ctx.db, ctx.principal, [event], _signing(ctx))
    except InputError as exc:
        ctx.db.rollback()
        for p in exc.problems:
            field = next((f for f in ("location", "serials", "lots") if f in (p.field or "")), "")
            errors.setdefault(field or "location", p.message)
        return _counts_view(request, ctx, 422, form=form, errors=errors)
    except (ConflictError, PermissionDeniedError) as exc:
        ctx.db.rollback()
        return _counts_view(
            request, ctx, 403 if isinstance(exc, PermissionDeniedError) else 409, form=form, problems=[str(exc)]
        )
    ctx.audit(
        "append",
        "custody-event",
        str(result.first_seq),
        note="dashboard",
        after={"type": "count", "payload": subs[0].payload.model_dump(mode="json")},
    )
    return RedirectResponse(f"/custody/stocktakes/{result.first_seq}", status_code=303)


@router.get("/custody/stocktakes/{seq}")
def reconciliation_page(request: Request, ctx: Page, seq: int) -> HTMLResponse:
    """A recorded count against the ledger, by serial and by lot, as the reader may see it."""
    import json

    from coalition.errors import NotFoundError
    from coalition.ledger import custody
    from coalition.ledger.models import LedgerEvent
    from coalition.ledger.queries import event_marking, titles

    scope = restrict(ctx.principal, "custody.view", event_marking)
    event = ctx.db.get(LedgerEvent, seq) if 1 <= seq <= 2**62 else None
    if event is not None and event.type != "count":
        event = None
    if event is None:
        raise NotFoundError(f"stocktake '{seq}' not found")
    scope.check((event, titles(ctx.db, [seq])[seq]), str(seq))
    payload = json.loads(event.body)["payload"]
    _parts, counts = custody.stocktake_counts(ctx.db, seq)  # every nation's part, cut per reader
    recon = custody.visible_reconciliation(ctx.db, ctx.principal, counts, counter=event.nation)
    ctx.audit("view", "custody-event", str(seq), note="dashboard reconciliation")
    by_serial = [x for x in recon.lines if x.kind == "serial"]
    by_lot = [x for x in recon.lines if x.kind == "lot"]
    return _page(
        request,
        ctx,
        "reconciliation.html",
        "stocktakes",
        seq=seq,
        event=event,
        location=payload["location"],
        by_serial=by_serial,
        by_lot=by_lot,
        withheld=recon.withheld,
    )


# ---------------------------------------------------------------------------------------------
# Checkpoints and proofs
# ---------------------------------------------------------------------------------------------


@router.get("/custody/checkpoints")
def checkpoints_page(
    request: Request,
    ctx: Page,
    checkpoint: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    seq: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:
    """Signed checkpoints; one checkpoint's note; the inclusion proof of one event."""
    from coalition.ledger import checkpoints
    from coalition.ledger.models import LedgerEvent
    from coalition.ledger.queries import event_marking, titles
    from coalition.ledger.rfc6962 import verify_inclusion

    restrict(ctx.principal, "checkpoint.view", lambda _r: PUBLIC)
    tr = request_lang(request).gettext
    cps = list(reversed(checkpoints.checkpoints(ctx.db)))
    chosen = checkpoints.get_checkpoint(ctx.db, checkpoint_id=checkpoint) if checkpoint else None
    note = checkpoints.checkpoint_note(ctx.db, chosen) if chosen else ""
    proof = None
    errors: dict[str, str] = {}
    if seq.strip():
        try:
            number = int(seq)
            if not 1 <= number <= 2**62:
                raise ValueError
        except ValueError:
            errors["seq"] = tr("Give an event's sequence number (a whole number from 1).")
        else:
            scope = restrict(ctx.principal, "custody.view", event_marking)
            event = ctx.db.get(LedgerEvent, number)
            scope.check((event, titles(ctx.db, [number])[number]) if event is not None else None, str(number))
            try:
                p = checkpoints.inclusion_proof(ctx.db, seq=number, checkpoint_id=checkpoint)
            except InputError as exc:  # e.g. the event came after the chosen checkpoint
                errors["seq"] = "; ".join(x.message for x in exc.problems)
            else:
                proof = {
                    **p.as_dict(),
                    "checked": verify_inclusion(p.leaf_hash, number - 1, p.tree_size, p.path, p.root),
                }
                ctx.audit("view", "custody-proof", str(number), note="dashboard")
    return _page(
        request,
        ctx,
        "checkpoints.html",
        "checkpoints",
        422 if errors else 200,
        checkpoints=cps,
        chosen=chosen,
        note=note,
        proof=proof,
        errors=errors,
        form={"seq": seq, "checkpoint": checkpoint or ""},
    )


@router.post("/custody/checkpoints")
def sign_checkpoint(request: Request, ctx: Page, csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    """Sign a checkpoint of the current log (depot officers, inspectors)."""
    from coalition.ledger import checkpoints

    check_csrf(request, csrf)
    restrict(ctx.principal, "checkpoint.add", lambda _r: PUBLIC)
    signing = _signing(ctx)
    cp = checkpoints.make_checkpoint(ctx.db, keyring=signing.keyring, origin=signing.trust.origin)
    ctx.audit(
        "create", "checkpoint", str(cp.checkpoint_id), note="dashboard", after={"size": cp.size, "root": cp.root.hex()}
    )
    return RedirectResponse(f"/custody/checkpoints?checkpoint={cp.checkpoint_id}", status_code=303)
