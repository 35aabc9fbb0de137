"""Projector handlers for custody changes of held stock: a transfer between custodians or
locations, an issue to an end user and a return from one (only the custodian moves an item; a
suspended lot is never issued), and the end of custody: loss, disposal and suspension."""

from __future__ import annotations

from collections.abc import Collection

from coalition.errors import ConflictError
from coalition.inventory import schemas as s
from coalition.inventory.schemas import HELD, Status
from coalition.inventory.state import (
    Applied,
    Event,
    Serial,
    State,
    _check_safety,
    _held_stock,
    _issued_stock,
    _move_stock,
    _parts,
    _place,
    _require_custodian,
)


def _serials_held_by_actor(
    state: State, ev: Event, names: list[str], action: str, statuses: Collection[Status] = HELD
) -> list[Serial]:
    rows = []
    for name in names:
        row = state.serial(name)
        _require_custodian(row, ev.nation, action)
        if row.status not in statuses:
            raise ConflictError(f"serial {name} is {row.status}; cannot {action} it")
        rows.append(row)
    return rows


def _transfer(state: State, ev: Event, p: s.TransferPayload) -> Applied:
    refs: set[str] = set()
    to = _parts(p.to)[0]
    for row in _serials_held_by_actor(state, ev, p.serials, "transfer"):
        _place(row, to)
        state.touch_serial(row, ev.seq)
        refs |= {f"S:{row.serial}", f"T:{row.title_nation}"}
    arriving = []
    for q in p.lots:
        lot = state.lot(q.lot)
        src = _held_stock(state, ev, q.lot, q.at, statuses=(Status.SERVICEABLE, Status.QUARANTINED))
        _move_stock(state, ev, src, q.quantity, status=src.status, custodian=ev.nation, location=to)
        arriving.append((lot, q.quantity))
        refs |= {f"L:{q.lot}", f"T:{lot.title_nation}"}
    _check_safety(state, to, arriving)
    return Applied(None, refs)


def _issue(state: State, ev: Event, p: s.IssuePayload) -> Applied:
    refs: set[str] = set()
    for row in _serials_held_by_actor(state, ev, p.serials, "issue", statuses={Status.SERVICEABLE}):
        row.status, row.custodian, row.issued_by = Status.ISSUED, p.to_nation, ev.nation
        row.end_user, row.end_user_ref = p.end_user, p.reference
        _place(row, "")
        state.touch_serial(row, ev.seq)
        refs |= {f"S:{row.serial}", f"T:{row.title_nation}"}
    for q in p.lots:
        lot = state.lot(q.lot)
        if lot.suspended:
            raise ConflictError(f"lot {q.lot} is suspended ({lot.suspension_reason}): a suspended lot cannot be issued")
        src = _held_stock(state, ev, q.lot, q.at)
        dst = _move_stock(
            state, ev, src, q.quantity, status=Status.ISSUED, custodian=p.to_nation, location="", end_user=p.end_user
        )
        if p.reference:
            dst.end_user_ref = p.reference
        refs |= {f"L:{q.lot}", f"T:{lot.title_nation}"}
    return Applied(p.to_nation, refs)


def _return(state: State, ev: Event, p: s.ReturnPayload) -> Applied:
    refs: set[str] = set()
    to = _parts(p.to)[0]
    arriving = []
    for name in p.serials:
        row = state.serial(name)
        if row.status != Status.ISSUED or row.custodian != p.from_nation:
            raise ConflictError(f"serial {name} is not issued to a {p.from_nation} unit (it is {row.status})")
        if ev.nation not in (row.issued_by, row.title_nation):
            raise ConflictError(
                f"serial {name} was issued by {row.issued_by or '?'} (title {row.title_nation}):"
                f" only they can take it back, not {ev.nation}"
            )
        row.status, row.custodian, row.end_user, row.end_user_ref = Status.SERVICEABLE, ev.nation, "", ""
        row.issued_by = ""
        _place(row, to)
        state.touch_serial(row, ev.seq)
        refs |= {f"S:{name}", f"T:{row.title_nation}"}
    for q in p.lots:
        lot = state.lot(q.lot)
        src = _issued_stock(state, q.lot, end_user=q.end_user, custodian=p.from_nation)
        if src is None:
            raise ConflictError(f"lot {q.lot}: nothing issued to end user '{q.end_user}' to return")
        _move_stock(state, ev, src, q.quantity, status=Status.SERVICEABLE, custodian=ev.nation, location=to)
        arriving.append((lot, q.quantity))
        refs |= {f"L:{q.lot}", f"T:{lot.title_nation}"}
    _check_safety(state, to, arriving)
    return Applied(p.from_nation, refs)


def _end(
    state: State, ev: Event, p: s.LossPayload | s.DisposalPayload, status: str, *, occurred_on: str | None
) -> Applied:
    refs: set[str] = set()
    allowed = {*HELD, Status.IN_TRANSIT, Status.ISSUED, Status.MANIFESTED}
    for row in _serials_held_by_actor(state, ev, p.serials, "report the loss or disposal of", statuses=allowed):
        row.status = status
        if occurred_on:
            row.loss_occurred_on, row.loss_reported_on = occurred_on, ev.recorded_day
        state.touch_serial(row, ev.seq)
        refs |= {f"S:{row.serial}", f"T:{row.title_nation}"}
    for q in p.lots:
        lot = state.lot(q.lot)
        if q.end_user:
            src = _issued_stock(state, q.lot, end_user=q.end_user, custodian=ev.nation)
            if src is None:
                raise ConflictError(f"lot {q.lot}: nothing issued to '{q.end_user}' in {ev.nation}'s custody")
        else:
            src = _held_stock(
                state, ev, q.lot, q.at, statuses=(Status.SERVICEABLE, Status.QUARANTINED, Status.IN_TRANSIT)
            )
        dst = _move_stock(
            state, ev, src, q.quantity, status=status, custodian=ev.nation, location=src.location, end_user=src.end_user
        )
        if occurred_on:
            dst.loss_occurred_on, dst.loss_reported_on = occurred_on, ev.recorded_day
        refs |= {f"L:{q.lot}", f"T:{lot.title_nation}"}
    return Applied(None, refs)


def _loss(state: State, ev: Event, p: s.LossPayload) -> Applied:
    return _end(state, ev, p, p.kind, occurred_on=p.occurred_on.isoformat())


def _disposal(state: State, ev: Event, p: s.DisposalPayload) -> Applied:
    return _end(state, ev, p, p.kind, occurred_on=None)


def _suspension(state: State, ev: Event, p: s.SuspensionPayload) -> Applied:
    lot = state.lot(p.lot)
    if ev.nation != lot.title_nation:
        raise ConflictError(
            f"lot {p.lot} is suspended and lifted by its title holder {lot.title_nation} only, not {ev.nation}"
        )
    lot.suspended, lot.suspension_reason = p.suspended, p.reason if p.suspended else ""
    state.touch_lot(lot, ev.seq)
    return Applied(None, {f"L:{p.lot}", f"T:{lot.title_nation}"})
