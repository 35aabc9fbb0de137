"""The one access-control choke point (``restrict(principal, action, kind)``).

Every router obtains records only through a :class:`Scope`:

* ``restrict`` raises :class:`PermissionDeniedError` (HTTP 403) when no role grants the action;
* :meth:`Scope.filter` drops records whose marking the principal may not see;
* :meth:`Scope.get` raises :class:`NotFoundError` (HTTP 404) both for unknown ids and for records
  outside the principal's scope, so existence is not disclosed;
* :meth:`Scope.verify_written` re-reads a record after a write; if it has left the scope the
  caller's transaction rolls back (the exception propagates to the request boundary).

How a record's :class:`Marking` is found is given by the caller as a function, so the same scope
applies to scenario records (in memory) and to stored rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from coalition.auth.rules import Marking, can_change, can_see, has_permission
from coalition.auth.schemas import Principal
from coalition.errors import NotFoundError, PermissionDeniedError

T = TypeVar("T")


class OutOfScope(NotFoundError):
    """A real record outside the caller's scope: answered exactly like an unknown id (404), but
    the boundary records the denied attempt in the audit log."""

    def __init__(self, kind: str, ident: str, *, message: str | None = None) -> None:
        super().__init__(message or f"{kind} '{ident}' not found")
        self.kind = kind
        self.ident = ident


@dataclass(frozen=True)
class Scope(Generic[T]):
    principal: Principal
    action: str
    kind: str
    marking_of: Callable[[T], Marking]

    def permits(self, record: T) -> bool:
        """Reads need releasability; any other verb needs the originating nation (or HQ)."""
        marking = self.marking_of(record)
        if self.action.endswith(".view"):
            return can_see(self.principal, marking)
        return can_see(self.principal, marking) and can_change(self.principal, marking)

    def filter(self, records: Iterable[T]) -> list[T]:
        return [r for r in records if self.permits(r)]

    def get(self, records: Iterable[T], key: Callable[[T], str], ident: str) -> T:
        found = next((r for r in records if key(r) == ident), None)
        return self.check(found, ident)

    def check(self, record: T | None, ident: str) -> T:
        """A record fetched by id (or None) must exist and be in scope.

        A record the principal may read but not change is 403 (its existence is no secret to
        them); one they may not read is 404.
        """
        if record is None:
            raise NotFoundError(f"{self.kind} '{ident}' not found")
        if not can_see(self.principal, self.marking_of(record)):
            raise OutOfScope(self.kind, ident)
        if not self.permits(record):
            raise PermissionDeniedError(
                f"{self.kind} '{ident}' belongs to {self.marking_of(record).origin}; "
                "only that nation or HQ may change it"
            )
        return record

    def verify_written(self, record: T | None, ident: str) -> T:
        """Write-then-verify: the row must still be in scope after the write, else roll back."""
        if record is None or not self.permits(record):
            raise PermissionDeniedError(
                f"the change would move {self.kind} '{ident}' outside your scope; nothing was saved"
            )
        return record


def restrict(principal: Principal, action: str, marking_of: Callable[[T], Marking]) -> Scope[T]:
    """The choke point: check the role for ``action`` and return the nation/releasability scope."""
    if not has_permission(principal, action):
        roles = ", ".join(sorted(principal.roles)) or "none"
        raise PermissionDeniedError(f"your roles ({roles}) do not allow '{action}'")
    kind = action.partition(".")[0]
    return Scope(principal=principal, action=action, kind=kind, marking_of=marking_of)
