"""Custody actions of a signed-in principal: append events, transfers with two-person approval,
blind counts, and the receipt of an accepted placement. Shared by the API and the dashboard.

The acting nation and person come from the principal, never from the submission. Separation of
duties (:mod:`coalition.auth.rules`): the requester of a transfer cannot approve it, and a nation
holding custody of stock at a location cannot count it. HQ accounts cannot append: events are
signed with a nation's key. Everything goes through :func:`coalition.ledger.service.append_events`
(the projector's rules, the depot safety gate, the signatures); the caller owns the transaction
and writes the audit entries.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from coalition.auth.rules import Marking, require_not_custodian, require_not_requester
from coalition.auth.schemas import HQ, Principal
from coalition.auth.scope import restrict
from coalition.errors import ConflictError, InputError
from coalition.inventory.schemas import CountPayload
from coalition.ledger.requests import TransferRequest
from coalition.ledger.schemas import AppendResult, Submitted


@dataclass(frozen=True)
class Signing:
    """What an append needs besides the events: the batch signer (None: the acting nation's key
    from ``keyring``), the pinned trust and the depot safety check."""

    keyring: Any
    trust: Any
    safety: Any
    signer: Any = None


def require_appender(principal: Principal, kinds: set[str]) -> None:
    """The role may append these kinds (a count alone needs ``custody.count``), and the principal
    is a nation's (403 / 409 otherwise)."""
    from coalition.ledger.queries import event_marking

    restrict(principal, "custody.count" if kinds == {"count"} else "custody.add", event_marking)
    if principal.is_hq:
        raise ConflictError(
            "custody events are signed by a nation's key; HQ accounts cannot "
            "append them (use an account of the acting nation)"
        )


def custodians_at(session: Session, location: str) -> set[str]:
    """Nations holding custody of any serial or lot stock at or below ``location``."""
    from coalition.inventory.models import InvLotStock, InvSerial

    like = f"{location}%"
    nations = set(session.scalars(select(InvSerial.custodian).where(InvSerial.location.like(like))))
    nations |= set(
        session.scalars(select(InvLotStock.custodian).where(InvLotStock.location.like(like), InvLotStock.quantity > 0))
    )
    return nations


def parse_as(
    principal: Principal, events: Sequence[Mapping[str, Any]], *, person: str | None = None
) -> list[Submitted]:
    """Validate ``events`` ({type, time?, payload}) as the principal's; every problem at once."""
    from coalition.ledger.schemas import parse_event

    subs, problems = [], []
    for i, e in enumerate(events):
        try:
            subs.append(
                parse_event(
                    {
                        "type": e.get("type"),
                        "nation": principal.nation,
                        "person": person or principal.name,
                        "time": e.get("time"),
                        "payload": e.get("payload"),
                    },
                    row=i + 1,
                )
            )
        except InputError as exc:
            problems += exc.problems
    if problems:
        raise InputError(problems)
    return subs


def append_as(
    session: Session,
    principal: Principal,
    events: Sequence[Mapping[str, Any]],
    signing: Signing,
    *,
    person: str | None = None,
    approved_transfer: bool = False,
) -> tuple[AppendResult, list[Submitted]]:
    """Parse, check the duties, append (all or none). A transfer is appended only as the
    approval of a request (``approved_transfer``); a count only by a nation without custody at
    the counted location."""
    from coalition.ledger import service

    subs = parse_as(principal, events, person=person)
    for sub in subs:
        if sub.type == "transfer" and not approved_transfer:
            raise ConflictError("transfers need a second officer's approval: request one, another officer approves it")
        if isinstance(sub.payload, CountPayload):  # the payload model of every "count" event
            require_not_custodian(principal, custodians_at(session, str(sub.payload.location)))
    signer = signing.signer
    if signer is None:
        from coalition.ledger.batches import NationSigner

        signer = NationSigner(signing.keyring, principal.nation)  # the acting nation's key only
    result = service.append_events(session, events=subs, signer=signer, trust=signing.trust, safety=signing.safety)
    return result, subs


# ---------------------------------------------------------------------------------------------
# Transfers: a request, then the approval by another officer of the same nation
# ---------------------------------------------------------------------------------------------


def transfer_marking(t: TransferRequest) -> Marking:
    return Marking(origin=t.nation, releasable_to=(HQ,))


def transfer_out(t: TransferRequest) -> dict[str, Any]:
    return {
        "id": t.id,
        "nation": t.nation,
        "requested_by": t.requested_by,
        "status": t.status,
        "payload": t.payload,
        "note": t.note,
        "approved_by": t.approved_by,
        "seq": t.seq,
        "created_at": t.created_at.isoformat() if t.created_at else None,
    }


def request_transfer(
    session: Session, principal: Principal, payload: dict[str, Any], note: str = ""
) -> TransferRequest:
    """Record a transfer request (validated now: bad input is an InputError here)."""
    from coalition.auth.tokens import now

    scope = restrict(principal, "custody.add", transfer_marking)
    parse_as(principal, [{"type": "transfer", "payload": payload}])
    t = TransferRequest(
        nation=principal.nation,
        requested_by=principal.name,
        status="requested",
        payload=payload,
        note=note,
        created_at=now(),
    )
    session.add(t)
    session.flush()
    scope.verify_written(t, str(t.id))
    return t


def visible_transfers(session: Session, principal: Principal) -> list[TransferRequest]:
    """Transfer requests of the principal's nation (HQ: all), oldest first."""
    scope = restrict(principal, "custody.view", transfer_marking)
    return scope.filter(session.scalars(select(TransferRequest).order_by(TransferRequest.id)))


def may_approve(principal: Principal, t: TransferRequest) -> bool:
    """Whether the approve action is offered: the role, the nation, not the requester, pending."""
    from coalition.auth.rules import can_change, has_permission

    return (
        has_permission(principal, "custody.approve")
        and not principal.is_hq
        and can_change(principal, transfer_marking(t))
        and t.requested_by != principal.name
        and t.status == "requested"
    )


def approve_transfer(
    session: Session, principal: Principal, transfer_id: int, signing: Signing
) -> tuple[TransferRequest, dict[str, Any], AppendResult]:
    """Approve a transfer someone else requested: appends the signed transfer event with the
    approver as the acting person. Returns the request, its state before, the append."""
    scope = restrict(principal, "custody.approve", transfer_marking)
    t = scope.check(session.get(TransferRequest, transfer_id), str(transfer_id))
    require_not_requester(principal, t.requested_by)
    if t.status != "requested":
        raise ConflictError(f"transfer {transfer_id} is {t.status}; only a requested transfer can be approved")
    before = transfer_out(t)
    result, _subs = append_as(
        session,
        principal,
        [{"type": "transfer", "payload": t.payload}],
        signing,
        person=principal.name,
        approved_transfer=True,
    )
    t.status, t.approved_by, t.seq = "approved", principal.name, result.first_seq
    session.flush()
    scope.verify_written(t, str(t.id))
    return t, before, result


# ---------------------------------------------------------------------------------------------
# An accepted placement: the consignment received into the depot's storehouses
# ---------------------------------------------------------------------------------------------


def placement_events(
    *, depot: Any, catalogue: Any, lines: Sequence[Any], manifest: str, origin: str, nation: str
) -> list[dict[str, Any]]:
    """The events that record an accepted placement of the nation's own consignment: its
    manifest (lots with the catalogue's item, hazard code and NEQ per unit; no declared value),
    its dispatch, and its receipt at the depot with the placement's put-away per storehouse.
    ``lines``: the placement order's stock lines (storehouse, lot, quantity)."""
    where = f"{depot.hub}/{depot.id}"
    totals: dict[str, int] = {}
    for x in lines:
        totals[x.lot] = totals.get(x.lot, 0) + int(x.quantity)
    lots = []
    for lot_id, qty in sorted(totals.items()):
        lot = catalogue.lot_by_id[lot_id]
        item = catalogue.item_by_id[lot.item]
        lots.append(
            {
                "lot": lot_id,
                "item_type": item.id,
                "quantity": qty,
                "neq_kg": float(lot.neq_kg or item.neq_kg),
                "hazard": item.code,
            }
        )
    return [
        {
            "type": "manifest",
            "payload": {"manifest": manifest, "origin": origin, "destination": where, "receiver": nation, "lots": lots},
        },
        {"type": "dispatch", "payload": {"manifest": manifest, "carrier": ""}},
        {
            "type": "receipt",
            "payload": {
                "manifest": manifest,
                "location": where,
                "lots": [{"lot": k, "quantity": v} for k, v in sorted(totals.items())],
                "placement": [{"lot": x.lot, "quantity": int(x.quantity), "storehouse": x.storehouse} for x in lines],
            },
        },
    ]


def manifest_events(session: Session, manifest: str) -> list[int]:
    """Sequence numbers of the events that name ``manifest`` (empty when it is not in the log)."""
    from coalition.ledger.models import LedgerEventRef

    return sorted(
        int(s) for s in session.scalars(select(LedgerEventRef.seq).where(LedgerEventRef.ref == f"M:{manifest}"))
    )


def receive_placement(
    session: Session,
    principal: Principal,
    *,
    depot: Any,
    catalogue: Any,
    lines: Sequence[Any],
    manifest: str,
    origin: str,
    signing: Signing,
) -> tuple[AppendResult, list[Submitted]]:
    """Append the placement's events (all or none). A manifest already in the log is refused
    (a second submission of the same acceptance appends nothing)."""
    require_appender(principal, {"manifest", "dispatch", "receipt"})
    if manifest_events(session, manifest):
        raise ConflictError(f"manifest {manifest} is already in the custody ledger")
    events = placement_events(
        depot=depot, catalogue=catalogue, lines=lines, manifest=manifest, origin=origin, nation=principal.nation
    )
    return append_as(session, principal, events, signing)


# ---------------------------------------------------------------------------------------------
# Stocktakes: a recorded count against the ledger, as far as the reader may see it
# ---------------------------------------------------------------------------------------------


def count_lines(payload: Mapping[str, Any]) -> list[Any]:
    """The counts of a ``count`` event's payload (location, serials, lot quantities)."""
    from coalition.inventory.schemas import Location
    from coalition.ledger.reports import Count

    where = Location.parse(str(payload["location"])).path
    return [Count(where, serial=str(x)) for x in payload.get("serials", [])] + [
        Count(where, lot=str(x["lot"]), quantity=int(x["quantity"])) for x in payload.get("lots", [])
    ]


MAX_PARTS = 1000  # a stocktake has at most one part per title nation, plus the unrecorded one


def stocktake_counts(session: Session, seq: int) -> tuple[list[Any], list[Any]]:
    """The count events of the stocktake that the count at ``seq`` is part of (a split count's
    parts are contiguous and share ``stocktake``, the first part's seq; an older, unsplit count
    is its own stocktake) and their counts combined. Empty when ``seq`` is not a count."""
    from coalition.ledger.models import LedgerEvent

    event = session.get(LedgerEvent, seq)
    if event is None or event.type != "count":
        return [], []
    first = int(json.loads(event.body)["payload"].get("stocktake") or 0)
    if not first:
        return [event], count_lines(json.loads(event.body)["payload"])
    rows = session.scalars(
        select(LedgerEvent)
        .where(LedgerEvent.seq >= first, LedgerEvent.seq < first + MAX_PARTS)
        .order_by(LedgerEvent.seq)
    )
    parts, counts = [], []
    for row in rows:
        payload = json.loads(row.body)["payload"]
        if row.type != "count" or int(payload.get("stocktake") or 0) != first:
            break
        parts.append(row)
        counts += count_lines(payload)
    return parts, counts


@dataclass(frozen=True)
class Reconciliation:
    lines: list[Any]  # ReconLine, each about an item of a nation the reader may see
    withheld: list[str]  # what the reader counted about items not released to it (refs only)


def visible_reconciliation(
    session: Session, principal: Principal, counts: list[Any], *, counter: str
) -> Reconciliation:
    """Stocktake against the ledger by serial and by lot (:func:`coalition.ledger.reports.
    reconcile_counts`, as ``coalition ledger reconcile``), cut to what the reader may see: HQ
    sees every line; a nation only lines about items whose title it holds. Of the others, only
    the refs are named, and only to the nation that counted them (``counter``), without the
    ledger's figures or notes (a line saying 'not in the ledger' would tell another nation's
    holding from no holding)."""
    from coalition.inventory.models import InvLot, InvSerial
    from coalition.ledger.reports import reconcile_counts

    lines = reconcile_counts(session, counts=counts)
    if principal.is_hq:
        return Reconciliation(lines, [])
    serials = {ln.ref for ln in lines if ln.kind == "serial"}
    lots = {ln.ref for ln in lines if ln.kind == "lot"}
    mine = set(
        session.scalars(
            select(InvSerial.serial).where(
                InvSerial.serial.in_(sorted(serials)), InvSerial.title_nation == principal.nation
            )
        )
    )
    mine |= set(
        session.scalars(select(InvLot.lot).where(InvLot.lot.in_(sorted(lots)), InvLot.title_nation == principal.nation))
    )
    shown = [ln for ln in lines if ln.ref in mine]
    withheld = sorted(
        {ln.ref for ln in lines if ln.ref not in mine and ln.counted > 0} if principal.nation == counter else ()
    )
    return Reconciliation(shown, withheld)


__all__ = [
    "Reconciliation",
    "Signing",
    "append_as",
    "approve_transfer",
    "count_lines",
    "custodians_at",
    "manifest_events",
    "may_approve",
    "parse_as",
    "placement_events",
    "receive_placement",
    "request_transfer",
    "require_appender",
    "stocktake_counts",
    "transfer_marking",
    "transfer_out",
    "visible_reconciliation",
    "visible_transfers",
]
