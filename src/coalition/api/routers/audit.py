"""The audit log, read-only. There is no endpoint that changes or deletes an entry."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from coalition.api.contract import check_service_nation
from coalition.api.deps import Context, Paging
from coalition.audit.models import AuditEntry
from coalition.auth.queries import visible_audit
from coalition.auth.rules import Marking
from coalition.auth.schemas import HQ, AuditOut, AuditPage
from coalition.auth.scope import restrict

router = APIRouter(prefix="/api/audit", tags=["audit"])


def _audit_marking(entry: Any) -> Marking:
    # An entry belongs to the nation of the acting user; HQ auditors see every entry.
    return Marking(origin=entry.nation, releasable_to=(HQ,))


Text = Annotated[str | None, Query(max_length=200)]


@dataclass(frozen=True)
class AuditFilters:
    """The query filters of the audit list, as one dependency (the dashboard's audit page does
    the same), so the route keeps a short signature."""

    object_type: Text = None
    object_id: Text = None
    user_name: Text = None
    action: Text = None
    request_id: Text = None
    nation: Annotated[str | None, Query(pattern=r"^([A-Z]{3}|HQ|-)$", description="acting user's nation")] = None
    since: Annotated[datetime | None, Query(description="from (inclusive), ISO 8601 with zone")] = None
    until: Annotated[datetime | None, Query(description="to (exclusive), ISO 8601 with zone")] = None


@router.get("", summary="Audit entries, newest first (inspector, admin)")
def list_audit(ctx: Context, paging: Paging, filters: Annotated[AuditFilters, Depends()]) -> AuditPage:
    check_service_nation(ctx, filters.nation, field="nation", extra=("HQ", "-"))
    return AuditPage.model_validate(
        visible_audit(
            ctx.db,
            ctx.principal,
            offset=paging.offset,
            limit=paging.limit,
            **asdict(filters),
        )
    )


@router.get("/{entry_id}", summary="One audit entry")
def get_audit(ctx: Context, entry_id: int = Path(ge=1, le=2**62)) -> AuditOut:
    scope = restrict(ctx.principal, "audit.view", _audit_marking)
    entry = ctx.db.get(AuditEntry, entry_id)
    return AuditOut.model_validate(scope.check(entry, str(entry_id)))
