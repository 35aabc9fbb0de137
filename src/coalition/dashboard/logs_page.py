"""Dashboard pages of the two logs a reader may search: custody ledger events and the audit log."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from coalition.auth.scope import restrict
from coalition.dashboard.i18n import request_lang
from coalition.dashboard.page import Page, render
from coalition.errors import InputError, Problem

router = APIRouter(include_in_schema=False)


@router.get("/ledger")
def ledger_page(
    request: Request,
    ctx: Page,
    type: Annotated[str, Query(max_length=40)] = "",  # noqa: A002
    nation: Annotated[str, Query(max_length=3)] = "",
    ref: Annotated[str, Query(max_length=120)] = "",
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> HTMLResponse:
    """Ledger health, then the custody events the reader may see, newest first, 15 a page,
    filtered by event type, acting nation and reference (e.g. ``T:GBR``, a serial or a lot)."""
    from urllib.parse import urlencode

    from coalition.auth.rules import PUBLIC
    from coalition.ledger.queries import EventFilter, ledger_health, pinned_trust, visible_events

    restrict(ctx.principal, "checkpoint.view", lambda _r: PUBLIC)
    size = 15

    def events(offset: int, limit: int) -> dict[str, Any]:
        where = EventFilter(type=type or None, nation=nation.upper() or None, ref=ref or None)
        return visible_events(ctx.db, ctx.principal, offset=offset, limit=limit, where=where)

    total = events(0, 1)["total"]
    end = max(0, total - (page - 1) * size)
    shown = events(max(0, end - size), min(size, end))["items"] if end else []
    ctx.audit_read("custody-event", [e["seq"] for e in shown])
    keep = {k: v for k, v in (("type", type), ("nation", nation.upper()), ("ref", ref)) if v}
    pages = {
        "newer": f"/ledger?{urlencode({**keep, 'page': page - 1})}" if page > 1 else None,
        "older": f"/ledger?{urlencode({**keep, 'page': page + 1})}" if end - size > 0 else None,
    }
    return render(
        request,
        ctx,
        "ledger.html",
        "ledger",
        health=ledger_health(ctx.db, pinned_trust(ctx.state.settings)),
        events=list(reversed(shown)),
        visible=total,
        filters={"type": type, "nation": nation.upper(), "ref": ref},
        pages=pages,
    )


@dataclass(frozen=True)
class AuditFilters:
    """The audit page's filters (query parameters), in the order its links repeat them."""

    actor: Annotated[str, Query(max_length=64)] = ""
    nation: Annotated[str, Query(max_length=3)] = ""
    action: Annotated[str, Query(max_length=64)] = ""
    object_type: Annotated[str, Query(max_length=64)] = ""
    object_id: Annotated[str, Query(max_length=200)] = ""
    since: Annotated[str, Query(max_length=40)] = ""
    until: Annotated[str, Query(max_length=40)] = ""


@router.get("/audit")
def audit_page(
    request: Request,
    ctx: Page,
    query: Annotated[AuditFilters, Depends()],
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> HTMLResponse:
    """Every entry, newest first, 50 a page; filters by actor, nation, action, object, time."""
    from datetime import UTC, datetime

    from coalition.auth.queries import visible_audit

    def when(text: str, name: str) -> datetime | None:
        if not text:
            return None
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise InputError(
                [
                    Problem(
                        request_lang(request).gettext("'%(value)s' is not a time (use 2026-12-01T09:00).", value=text),
                        field=name,
                    )
                ]
            ) from None
        return value if value.tzinfo else value.replace(tzinfo=UTC)  # the page speaks UTC

    filters = asdict(query)
    limit = 50
    body = visible_audit(
        ctx.db,
        ctx.principal,
        offset=offset,
        limit=limit,
        object_type=query.object_type or None,
        object_id=query.object_id or None,
        user_name=query.actor or None,
        action=query.action or None,
        nation=query.nation.upper() or None,
        since=when(query.since, "since"),
        until=when(query.until, "until"),
    )
    from urllib.parse import urlencode

    keep = {k: v for k, v in filters.items() if v}
    pages = {
        "prev": f"/audit?{urlencode({**keep, 'offset': max(0, offset - limit)})}" if offset > 0 else None,
        "next": f"/audit?{urlencode({**keep, 'offset': offset + limit})}" if offset + limit < body["total"] else None,
    }
    return render(
        request,
        ctx,
        "audit.html",
        "audit",
        entries=body["items"],
        total=body["total"],
        filters=filters,
        offset=offset,
        pages=pages,
    )
