"""What a principal may see of the audit log (a query function: principal + session)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from coalition.auth import service
from coalition.auth.rules import Marking
from coalition.auth.schemas import HQ, AuditOut, Principal
from coalition.auth.scope import restrict
from coalition.errors import InputError, Problem


def audit_marking(entry: Any) -> Marking:
    # An entry belongs to the nation of the acting user; HQ auditors see every entry.
    return Marking(origin=entry.nation, releasable_to=(HQ,))


def visible_audit(
    session: Session,
    principal: Principal,
    *,
    offset: int,
    limit: int,
    nation: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    **filters: str | None,
) -> dict[str, Any]:
    """One page of audit entries, newest first, filtered in SQL (acting user's nation, time
    from ``since`` inclusive to ``until`` exclusive, object, user, action, request): HQ sees
    every nation's, a nation's auditor its own nation's (applied in the query, then checked per
    row). Times must carry their zone (422 naming the field otherwise)."""
    scope = restrict(principal, "audit.view", audit_marking)
    problems = [
        Problem("a time needs its zone (e.g. 2026-12-01T09:00:00Z)", field=name)
        for name, value in (("since", since), ("until", until))
        if value is not None and value.tzinfo is None
    ]
    if problems:
        raise InputError(problems)
    if not principal.is_hq:  # another nation's filter matches nothing of a nation's auditor
        nation = principal.nation if nation in (None, principal.nation) else "-none-"
    from coalition.audit.service import AuditFilter

    where = AuditFilter(nation=nation, since=since, until=until, **filters)
    rows, total = service.list_audit(session, where, offset=offset, limit=limit)
    items = [AuditOut.model_validate(r).model_dump(mode="json") for r in scope.filter(rows)]
    return {"items": items, "total": total, "offset": offset, "limit": limit}


def user_nations(session: Session) -> set[str]:
    """Nations of the service's user accounts."""
    from sqlalchemy import select

    from coalition.auth.models import User

    return {str(n) for n in session.scalars(select(User.nation).distinct())}


__all__ = ["audit_marking", "user_nations", "visible_audit"]
