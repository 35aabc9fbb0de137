"""What a principal may see of the audit log (a query function: principal + session)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from coalition.auth import service
from coalition.auth.rules import Marking
from coalition.auth.schemas import HQ, AuditOut, Principal
from coalition.auth.scope import restrict


def audit_marking(entry: Any) -> Marking:
    # An entry belongs to the nation of the acting user; HQ auditors see every entry.
    return Marking(origin=entry.nation, releasable_to=(HQ,))


def visible_audit(session: Session, principal: Principal, *, offset: int, limit: int,
                  **filters: str | None) -> dict[str, Any]:
    """One page of audit entries, newest first: HQ sees every nation's, a nation's auditor its
    own nation's (applied in the query, then checked per row)."""
    scope = restrict(principal, "audit.view", audit_marking)
    nation = None if principal.is_hq else principal.nation
    rows, total = service.list_audit(session, offset=offset, limit=limit, nation=nation,
                                     **filters)
    items = [AuditOut.model_validate(r).model_dump(mode="json") for r in scope.filter(rows)]
    return {"items": items, "total": total, "offset": offset, "limit": limit}


__all__ = ["audit_marking", "visible_audit"]
