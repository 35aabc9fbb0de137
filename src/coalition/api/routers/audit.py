"""The audit log, read-only. There is no endpoint that changes or deletes an entry."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from coalition.api.deps import Context, Paging
from coalition.auth import service
from coalition.auth.models import AuditEntry
from coalition.auth.rules import Marking
from coalition.auth.schemas import HQ, AuditOut, AuditPage
from coalition.auth.scope import restrict

router = APIRouter(prefix="/api/audit", tags=["audit"])


def _audit_marking(entry: Any) -> Marking:
    # An entry belongs to the nation of the acting user; HQ auditors see every entry.
    return Marking(origin=entry.nation, releasable_to=(HQ,))


Text = Annotated[str | None, Query(max_length=200)]


@router.get("", summary="Audit entries, newest first (inspector, admin)")
def list_audit(
    ctx: Context,
    paging: Paging,
    object_type: Text = None,
    object_id: Text = None,
    user_name: Text = None,
    action: Text = None,
    request_id: Text = None,
    nation: Annotated[str | None, Query(pattern=r"^([A-Z]{3}|HQ|-)$",
                                        description="acting user's nation")] = None,
    since: Annotated[datetime | None, Query(description="from (inclusive), ISO 8601 with zone")] = None,
    until: Annotated[datetime | None, Query(description="to (exclusive), ISO 8601 with zone")] = None,
) -> AuditPage:
    scope = restrict(ctx.principal, "audit.view", _audit_marking)
    # HQ sees every nation's entries; a nation's auditor sees its own nation's entries.
    if not ctx.principal.is_hq:
        nation = ctx.principal.nation if nation in (None, ctx.principal.nation) else "-none-"
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            from coalition.errors import InputError, Problem

            raise InputError([Problem("a time needs its zone (e.g. 2026-12-01T09:00:00Z)",
                                      field=name)])
    rows, total = service.list_audit(
        ctx.db, offset=paging.offset, limit=paging.limit, nation=nation,
        object_type=object_type, object_id=object_id, user_name=user_name, action=action,
        request_id=request_id, since=since, until=until,
    )
    items = [AuditOut.model_validate(r) for r in scope.filter(rows)]
    return AuditPage(items=items, total=total, offset=paging.offset, limit=paging.limit)


@router.get("/{entry_id}", summary="One audit entry")
def get_audit(ctx: Context, entry_id: int = Path(ge=1, le=2**62)) -> AuditOut:
    scope = restrict(ctx.principal, "audit.view", _audit_marking)
    entry = ctx.db.get(AuditEntry, entry_id)
    return AuditOut.model_validate(scope.check(entry, str(entry_id)))
