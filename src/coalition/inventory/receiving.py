"""Projector handlers for the arrival of stock: a manifest registers serials and lots and lists
what is sent, a dispatch hands it to the carrier, a receipt takes it into custody (against the
manifest, opening a discrepancy for what differs, through the depot safety check), and put-away
moves it into a storehouse bay."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from coalition.errors import ConflictError
from coalition.inventory import schemas as s
from coalition.inventory.schemas import Location, Reason, Status
from coalition.inventory.state import (
    Applied,
    Event,
    Lot,
    Manifest,
    Serial,
    State,
    Stock,
    _check_safety,
    _move_stock,
    _parts,
    _place,
    _require_custodian,
)


# ------------------------------------------------------------------------------------------
def _manifest(state: State, ev: Event, p: s.ManifestPayload) -> Applied:
    if state.manifests.get(p.manifest) is not None:
        raise ConflictError(f"manifest {p.manifest} already registered")
    refs = {f"M:{p.manifest}", f"T:{ev.nation}"}
    origin = _parts(p.origin)[0]
    lines: dict[str, int] = {}
    for line in p.serials:
        old = state.serials.get(line.serial)
        if old is not None:
            raise ConflictError(
                f"serial {line.serial} already exists (registered by {old.title_nation} on manifest"
                f" {old.manifest or '?'}): a serial exists once"
            )
        row = Serial(
            line.serial,
            line.item_type,
            ev.nation,
            line.unit_value,
            line.sensitive,
            Status.MANIFESTED,
            "",
            ev.nation,
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            p.manifest,
            None,
            None,
            None,
            None,
            ev.seq,
        )
        _place(row, origin)
        state.serials[line.serial] = row
        state.touch_serial(row, ev.seq)
        lines[f"S:{line.serial}"] = 1
        refs.add(f"S:{line.serial}")
    for lline in p.lots:
        if state.lots.get(lline.lot) is not None:
            raise ConflictError(f"lot {lline.lot} already exists: a lot is registered once")
        lot = Lot(
            lline.lot,
            lline.item_type,
            ev.nation,
            lline.unit_value,
            lline.neq_kg,
            lline.hazard,
            lline.sensitive,
            False,
            "",
            p.manifest,
            lline.quantity,
            None,
            None,
            ev.seq,
        )
        state.lots[lline.lot] = lot
        state.touch_lot(lot, ev.seq)
        st = state.stock(lline.lot, origin, Status.MANIFESTED, ev.nation)
        st.quantity += lline.quantity
        st.manifest = p.manifest
        state.touch_stock(st, ev.seq)
        lines[f"L:{lline.lot}"] = lline.quantity
        refs.add(f"L:{lline.lot}")
    state.manifests[p.manifest] = Manifest(
        p.manifest, ev.nation, origin, _parts(p.destination)[0], "registered", ev.seq, None, None, p.receiver
    )
    state.dirty_manifests.add(p.manifest)
    state.lines[p.manifest] = lines
    state.new_lines.extend((p.manifest, ref, qty) for ref, qty in lines.items())
    return Applied(None, refs)


def _get_manifest(state: State, ref: str) -> Manifest:
    m = state.manifests.get(ref)
    if m is None:
        raise ConflictError(f"manifest {ref} is not registered")
    return m


def _dispatch(state: State, ev: Event, p: s.DispatchPayload) -> Applied:
    m = _get_manifest(state, p.manifest)
    if m.status != "registered":
        raise ConflictError(f"manifest {p.manifest} is already {m.status}")
    refs = {f"M:{m.manifest}", f"T:{m.donor}"}
    for ref in state.lines[m.manifest]:
        kind, name = ref.split(":", 1)
        if kind == "S":
            row = state.serial(name)
            if row.status != Status.MANIFESTED:
                continue  # e.g. reported lost before dispatch
            _require_custodian(row, ev.nation, "dispatch")
            row.status = Status.IN_TRANSIT
            state.touch_serial(row, ev.seq)
        else:
            for st in state.stocks_of(name):
                if st.status == Status.MANIFESTED and st.quantity:
                    if st.custodian != ev.nation:
                        raise ConflictError(
                            f"lot {name} is in the custody of {st.custodian}; only the custodian can dispatch it"
                        )
                    _move_stock(
                        state,
                        ev,
                        st,
                        st.quantity,
                        status=Status.IN_TRANSIT,
                        custodian=st.custodian,
                        location=st.location,
                    )
        refs.add(ref)
    m.status, m.dispatched_seq = "dispatched", ev.seq
    state.dirty_manifests.add(m.manifest)
    return Applied(None, refs)


@dataclass
class _Receiving:
    """One receipt being applied: what it touched, who dispatched it, what is still in transit."""

    state: State
    ev: Event
    p: s.ReceiptPayload
    m: Manifest
    location: str
    refs: set[str]
    dispatchers: set[str] = field(default_factory=set)
    left_in_transit: bool = False
    arriving: list[tuple[Lot, int]] = field(default_factory=list)
    by_house: dict[str, list[tuple[Lot, int]]] = field(default_factory=dict)


def _receive_serials(r: _Receiving, lines: Iterable[str]) -> None:
    state, ev, p, m, location = r.state, r.ev, r.p, r.m, r.location
    received = set(p.serials)
    quarantine = set(p.quarantine)
    for ref in lines:
        kind, name = ref.split(":", 1)
        if kind != "S":
            continue
        row = state.serial(name)
        if row.status != Status.IN_TRANSIT:
            received.discard(name)
            continue
        r.dispatchers.add(row.custodian)
        r.refs.add(ref)
        if name in received:
            row.status = Status.QUARANTINED if name in quarantine else Status.SERVICEABLE
            row.reason = Reason.DAMAGED_IN_TRANSIT if name in quarantine else ""
            row.custodian = ev.nation
            _place(row, location)
            row.arrived_on = row.arrived_on or ev.day
            state.touch_serial(row, ev.seq)
            received.discard(name)
        else:
            r.left_in_transit = True
            state.open_discrepancy(
                ev,
                ref,
                p.reasons.get(name, Reason.SHORT_SHIPPED),
                1,
                0,
                manifest=m.manifest,
                location=location,
                title=row.title_nation,
            )
    for name in sorted(received):
        state.open_discrepancy(
            ev,
            f"S:{name}",
            p.reasons.get(name, Reason.NOT_ON_MANIFEST),
            0,
            1,
            manifest=m.manifest,
            location=location,
            title=m.donor,
        )


def _receive_lot(
    r: _Receiving, ref: str, lot: Lot, src: Stock, found: int, put_away: dict[str, list[tuple[str, int]]] | None
) -> None:
    """Move what was found of one lot in transit into custody (by the placement when given) and
    open a discrepancy for a short or over shipment."""
    state, ev, p, m, location = r.state, r.ev, r.p, r.m, r.location
    name = ref.split(":", 1)[1]
    before = src.quantity
    take = min(found, before)
    if take and put_away is not None:
        if found > before:
            raise ConflictError(
                f"lot {name}: {found} received but {before} in transit; an "
                "over-shipped lot cannot be put away by a placement"
            )
        for house, qty in put_away.get(name, []):
            dst = _move_stock(
                state, ev, src, qty, status=Status.SERVICEABLE, custodian=ev.nation, location=f"{location}/{house}"
            )
            dst.manifest = m.manifest
            r.by_house.setdefault(house, []).append((lot, qty))
        lot.arrived_on = lot.arrived_on or ev.day
        state.touch_lot(lot, ev.seq)
    elif take:
        dst = _move_stock(state, ev, src, take, status=Status.SERVICEABLE, custodian=ev.nation, location=location)
        dst.manifest = m.manifest
        r.arriving.append((lot, take))
        lot.arrived_on = lot.arrived_on or ev.day
        state.touch_lot(lot, ev.seq)
    if found < before:
        r.left_in_transit = True
        state.open_discrepancy(
            ev,
            ref,
            p.reasons.get(name, Reason.SHORT_SHIPPED),
            before,
            found,
            manifest=m.manifest,
            location=location,
            title=lot.title_nation,
        )
    elif found > before:
        state.open_discrepancy(
            ev,
            ref,
            p.reasons.get(name, Reason.OVER_SHIPPED),
            before,
            found,
            manifest=m.manifest,
            location=location,
            title=lot.title_nation,
        )


def _receive_lots(r: _Receiving, lines: Iterable[str], put_away: dict[str, list[tuple[str, int]]] | None) -> None:
    state = r.state
    got = {q.lot: q.quantity for q in r.p.lots}
    for ref in lines:
        kind, name = ref.split(":", 1)
        if kind != "L":
            continue
        lot = state.lot(name)
        transit = [st for st in state.stocks_of(name) if st.status == Status.IN_TRANSIT and st.quantity]
        if not transit:
            got.pop(name, None)
            continue
        src = transit[0]
        r.dispatchers.add(src.custodian)
        r.refs.add(ref)
        _receive_lot(r, ref, lot, src, got.pop(name, 0), put_away)
    for name, found in sorted(got.items()):
        state.open_discrepancy(
            r.ev,
            f"L:{name}",
            r.p.reasons.get(name, Reason.NOT_ON_MANIFEST),
            0,
            found,
            manifest=r.m.manifest,
            location=r.location,
            title=r.m.donor,
        )


def _receipt(state: State, ev: Event, p: s.ReceiptPayload) -> Applied:
    m = _get_manifest(state, p.manifest)
    if m.status not in ("dispatched", "partially_received"):
        raise ConflictError(f"manifest {p.manifest} is {m.status}: only a dispatched manifest can be receipted")
    if ev.nation != m.receiver:
        raise ConflictError(
            f"manifest {p.manifest} is consigned to {m.receiver or 'nobody'}: only the receiving"
            f" nation signs its receipt, not {ev.nation}"
        )
    location = _parts(p.location)[0]
    r = _Receiving(state, ev, p, m, location, refs={f"M:{m.manifest}", f"T:{m.donor}"})
    lines = state.lines[m.manifest]
    _receive_serials(r, lines)
    put_away = _put_away(p, location)
    _receive_lots(r, lines, put_away)
    if not r.dispatchers:
        raise ConflictError(f"manifest {p.manifest}: nothing is in transit to receipt")
    if len(r.dispatchers) > 1:
        raise ConflictError(f"manifest {p.manifest} is in the custody of several nations")
    if put_away is not None:
        unknown = sorted(set(put_away) - {x.split(":", 1)[1] for x in r.refs if x.startswith("L:")})
        if unknown:
            raise ConflictError(
                f"placement names lot(s) not received from manifest {p.manifest}: " + ", ".join(unknown)
            )
        for house, got_here in sorted(r.by_house.items()):
            _check_safety(state, f"{location}/{house}", got_here)
    else:
        _check_safety(state, location, r.arriving)
    m.status = "partially_received" if r.left_in_transit else "received"
    m.received_seq = ev.seq
    state.dirty_manifests.add(m.manifest)
    return Applied(r.dispatchers.pop(), r.refs)


def _put_away(p: s.ReceiptPayload, location: str) -> dict[str, list[tuple[str, int]]] | None:
    """The receipt's placement per lot (storehouse, quantity), or None without one. A placement
    receives into a depot (``hub/depot``), each lot into the storehouses it names."""
    if not p.placement:
        return None
    loc = Location.parse(location)
    if not loc.depot or loc.storehouse:
        raise ConflictError(
            f"a receipt with a placement is received at a depot (hub/depot), not at "
            f"'{location}': the placement names the storehouses"
        )
    out: dict[str, list[tuple[str, int]]] = {}
    for x in p.placement:
        out.setdefault(x.lot, []).append((x.storehouse, x.quantity))
    return out
