"""Projector handlers for stock counts: a count compares what is found at a location with what
the projection holds there and opens a discrepancy for each difference; :func:`split_count` cuts
a large count into events of bounded size."""

from __future__ import annotations

from coalition.errors import ConflictError
from coalition.inventory import schemas as s
from coalition.inventory.schemas import HELD, Location, Reason
from coalition.inventory.state import Applied, Event, State


def split_count(state: State, p: s.CountPayload, *, stocktake: int) -> list[s.CountPayload]:
    """One blind stocktake as one count per title nation of the items concerned (held there, or
    counted there and known to the ledger), plus one ``unrecorded`` part for counted items the
    ledger does not know (or alone, when nothing at all is concerned). Each part is released, by
    the ordinary rules, only to its title nation (the unrecorded part: to none), HQ and the
    counter; applied in turn they project as one whole-location count did."""
    if p.title or p.stocktake:
        from coalition.errors import InputError, Problem

        raise InputError(
            [
                Problem(
                    "a count's title and stocktake are set by the ledger when it "
                    "splits the count per title nation; leave them out",
                    field="payload.title",
                )
            ]
        )
    held_serials, held_lots = _held_titles(state, Location.parse(p.location))
    serials: dict[str, list[str]] = {t: [] for t in held_serials.values()}
    lots: dict[str, list[s.LotQty]] = {t: [] for t in held_lots.values()}
    for name in p.serials:
        row = state.serials.get(name)
        serials.setdefault(row.title_nation if row else s.UNRECORDED, []).append(name)
    for q in p.lots:
        lot = state.lots.get(q.lot)
        lots.setdefault(lot.title_nation if lot else s.UNRECORDED, []).append(q)
    titles = sorted(set(serials) | set(lots), key=lambda t: (t == s.UNRECORDED, t)) or [s.UNRECORDED]
    return [
        s.CountPayload(
            location=p.location, serials=serials.get(t, []), lots=lots.get(t, []), title=t, stocktake=stocktake
        )
        for t in titles
    ]


def _count_part(state: State, ev: Event, p: s.CountPayload) -> Applied:
    """One title nation's part of a split count (or the part of items the ledger lacks)."""
    path = Location.parse(p.location).path
    held_serials, held_lots = _held_titles(state, Location.parse(p.location))
    for kind, names, known in (("serial", p.serials, state.serials), ("lot", [q.lot for q in p.lots], state.lots)):
        for name in names:
            row = known.get(name)
            title = row.title_nation if row else s.UNRECORDED
            if title != p.title:
                raise ConflictError(
                    f"{kind} {name} is {title}'s, not in the {p.title} part of the count"
                    " (a count part names only its own title nation's items)"
                )
    refs: set[str] = {f"T:{p.title}"} if p.title != s.UNRECORDED else set()
    counted = set(p.serials)
    for name in sorted(n for n, t in held_serials.items() if t == p.title):
        row = state.serials[name]
        assert row is not None
        refs.add(f"S:{name}")
        if name in counted:
            row.last_counted_on = ev.day
            state.touch_serial(row, ev.seq)
        else:
            state.open_discrepancy(
                ev, f"S:{name}", Reason.NOT_FOUND_AT_COUNT, 1, 0, location=row.location, title=row.title_nation
            )
    for name in sorted(counted - set(held_serials)):
        state.open_discrepancy(
            ev,
            f"S:{name}",
            Reason.FOUND_AT_COUNT,
            0,
            1,
            location=path,
            title="" if p.title == s.UNRECORDED else p.title,
        )
        refs.add(f"S:{name}")
    held: dict[str, int] = {}
    for st in state.stocks.values():
        if (
            held_lots.get(st.lot) == p.title
            and st.status in HELD
            and st.location
            and Location.parse(st.location).within(Location.parse(p.location))
        ):
            held[st.lot] = held.get(st.lot, 0) + st.quantity
    got = {q.lot: q.quantity for q in p.lots}
    for name in sorted(set(held) | set(got)):
        exp, found = held.get(name, 0), got.get(name, 0)
        if exp == 0 and found == 0:
            continue
        lot = state.lots.get(name)
        title = lot.title_nation if lot else ""
        refs.add(f"L:{name}")
        if lot is not None and found:
            lot.last_counted_on = ev.day
            state.touch_lot(lot, ev.seq)
        if found != exp:
            state.open_discrepancy(
                ev,
                f"L:{name}",
                Reason.COUNT_SHORT if found < exp else Reason.COUNT_OVER,
                exp,
                found,
                location=path,
                title=title,
            )
    return Applied(None, refs)


def _count(state: State, ev: Event, p: s.CountPayload) -> Applied:
    if p.title:
        return _count_part(state, ev, p)
    where = Location.parse(p.location)
    path = where.path
    refs: set[str] = set()
    counted = set(p.serials)
    expected = {
        r.serial: r
        for r in state.serials.values()
        if r is not None and r.status in HELD and r.location and Location.parse(r.location).within(where)
    }
    for name, row in expected.items():
        refs |= {f"S:{name}", f"T:{row.title_nation}"}
        if name in counted:
            row.last_counted_on = ev.day
            state.touch_serial(row, ev.seq)
        else:
            state.open_discrepancy(
                ev, f"S:{name}", Reason.NOT_FOUND_AT_COUNT, 1, 0, location=row.location, title=row.title_nation
            )
    for name in sorted(counted - set(expected)):
        extra = state.serials.get(name)
        state.open_discrepancy(
            ev, f"S:{name}", Reason.FOUND_AT_COUNT, 0, 1, location=path, title=extra.title_nation if extra else ""
        )
        refs.add(f"S:{name}")
        if row:
            refs.add(f"T:{row.title_nation}")
    held: dict[str, int] = {}
    for st in state.stocks.values():
        if st.status in HELD and st.location and Location.parse(st.location).within(where):
            held[st.lot] = held.get(st.lot, 0) + st.quantity
    got = {q.lot: q.quantity for q in p.lots}
    for name in sorted(set(held) | set(got)):
        exp, found = held.get(name, 0), got.get(name, 0)
        if exp == 0 and found == 0:
            continue
        lot = state.lots.get(name)
        title = lot.title_nation if lot else ""
        refs.add(f"L:{name}")
        if title:
            refs.add(f"T:{title}")
        if lot is not None and found:
            lot.last_counted_on = ev.day
            state.touch_lot(lot, ev.seq)
        if found < exp:
            state.open_discrepancy(ev, f"L:{name}", Reason.COUNT_SHORT, exp, found, location=path, title=title)
        elif found > exp:
            state.open_discrepancy(ev, f"L:{name}", Reason.COUNT_OVER, exp, found, location=path, title=title)
    return Applied(None, refs)


def _held_titles(state: State, where: Location) -> tuple[dict[str, str], dict[str, str]]:
    """Serials and lots held at or below ``where``, each with its title nation."""
    serials = {
        r.serial: r.title_nation
        for r in state.serials.values()
        if r is not None and r.status in HELD and r.location and Location.parse(r.location).within(where)
    }
    lots: dict[str, str] = {}
    for st in state.stocks.values():
        if st.status in HELD and st.quantity and st.location and Location.parse(st.location).within(where):
            lot = state.lots.get(st.lot)
            lots[st.lot] = lot.title_nation if lot else s.UNRECORDED
    return serials, lots
