"""Inventory persistence: load the state a batch of events touches, write back what changed,
rebuild the projection from the log, and answer inventory queries.

Services receive a ``Session`` and never commit; the caller (CLI command, API request) owns the
transaction, so a custody event and the projection change it causes commit together.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import compress
from operator import attrgetter, ne
from typing import Any, TypeVar

from sqlalchemy import Boolean, ColumnElement, and_, delete, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from coalition.inventory import schemas as s
from coalition.inventory.models import (
    InvDiscrepancy,
    InvLot,
    InvLotStock,
    InvManifest,
    InvManifestLine,
    InvSerial,
)
from coalition.inventory.schemas import Location
from coalition.inventory.state import (
    Discrepancy,
    Event,
    Lot,
    Manifest,
    SafetyCheck,
    Serial,
    State,
    Stock,
    row_fields,
)
from coalition.store.bulk import insert_tuples, raw_cursor, update_tuples
from coalition.store.db import Base, table_of

Row = TypeVar("Row")  # one of the projector's row dataclasses (Serial, Lot, Stock, ...)

CHUNK = 900  # ids per IN (...) query, under every back end's bind-parameter limit

PROJECTION_TABLES = (InvSerial, InvLot, InvLotStock, InvManifest, InvManifestLine, InvDiscrepancy)


def _chunks(values: Sequence[str]) -> Iterable[Sequence[str]]:
    for i in range(0, len(values), CHUNK):
        yield values[i : i + CHUNK]


def _select_in(session: Session, columns: str, table: str, column: str, keys: Iterable[str]) -> list[tuple[Any, ...]]:
    """``SELECT columns FROM table WHERE column IN keys`` in chunks, straight to the driver
    (the append path runs it for every batch; names come from the ORM tables, never input)."""
    conn = session.connection()
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    cur = raw_cursor(session)
    out: list[tuple[Any, ...]] = []
    try:
        if conn.dialect.name == "postgresql":
            # one array parameter, joined so that each key is an index lookup: "col = ANY(array)"
            # gets a generic plan once prepared that scans the table per key (seen: 0.2 ms/event
            # at 30,000 manifests, growing with the table)
            cols = ", ".join(f"t.{c.strip()}" for c in columns.split(","))
            cur.execute(
                f"SELECT {cols} FROM unnest(%s::text[]) AS k(key) JOIN {table} AS t ON t.{column} = k.key",
                (sorted(set(keys)),),
                prepare=False,
            )
            return list(cur.fetchall())
        for chunk in _chunks(sorted(set(keys))):
            cur.execute(
                f"SELECT {columns} FROM {table} WHERE {column} IN ({', '.join([mark] * len(chunk))})", tuple(chunk)
            )
            out.extend(cur.fetchall())
    finally:
        cur.close()
    return out


def _rows(
    session: Session, model: type[Base], cls: type[Row], column: InstrumentedAttribute[str], keys: Iterable[str]
) -> list[Row]:
    """Rows of ``model`` whose ``column`` is in ``keys``, as ``cls`` dataclasses.

    Straight to the driver cursor: on the append path this runs for every batch, and the ORM's
    per-row result processing cost more than the query (benchmarks/bench_ledger.py)."""
    names = row_fields(cls)
    table = table_of(model)
    out = [cls(*r) for r in _select_in(session, ", ".join(names), table.name, column.key, keys)]
    if session.connection().dialect.name == "sqlite":  # SQLite returns 0/1 for booleans
        bools = [n for n in names if isinstance(table.c[n].type, Boolean)]
        for row in out:
            for n in bools:
                setattr(row, n, bool(getattr(row, n)))
    return out


def _prefix(column: InstrumentedAttribute[str], loc: Location) -> ColumnElement[bool]:
    path = loc.path
    return or_(column == path, column.like(path.replace("%", r"\%").replace("_", r"\_") + "/%", escape="\\"))


def _named_by(events: Sequence[Event]) -> tuple[set[str], set[str], set[str], list[Location]]:
    """The serials, lots and manifests the events name, and the places they count."""
    serials: set[str] = set()
    lots: set[str] = set()
    manifests: set[str] = set()
    count_places: list[Location] = []
    for ev in events:
        p = ev.payload
        if type(p) is s.DispatchPayload:  # the common types first, by exact type (no isinstance chain)
            manifests.add(p.manifest)
            continue
        if type(p) is s.ReceiptPayload:
            manifests.add(p.manifest)
            serials.update(p.serials)
            if p.lots:
                lots.update([x.lot for x in p.lots])
            continue
        if isinstance(p, s.ManifestPayload):
            serials.update([x.serial for x in p.serials])
            if p.lots:
                lots.update([x.lot for x in p.lots])
            manifests.add(p.manifest)
        elif isinstance(p, (s.DispatchPayload, s.ReceiptPayload)):
            manifests.add(p.manifest)
            if isinstance(p, s.ReceiptPayload):
                serials.update(p.serials)
                lots.update(x.lot for x in p.lots)
        elif isinstance(p, s.CountPayload):
            count_places.append(Location.parse(p.location))
            serials.update(p.serials)
            lots.update(x.lot for x in p.lots)
        elif isinstance(p, s.SuspensionPayload):
            lots.add(p.lot)
        elif isinstance(p, s._Items):
            serials.update(p.serials)
            lots.update(x.lot for x in p.lots)
    return serials, lots, manifests, count_places


def load_state(session: Session, events: Sequence[Event], *, safety: SafetyCheck | None = None) -> State:
    """Load every projection row the events can touch (one query per kind, not per event)."""
    serials, lots, manifests, count_places = _named_by(events)
    state = State(safety=safety)
    for m in _rows(session, InvManifest, Manifest, InvManifest.manifest, manifests):
        state.manifests[m.manifest] = m
        state.lines[m.manifest] = {}
    for man, ref, qty in _select_in(
        session, "manifest, ref, quantity", table_of(InvManifestLine).name, "manifest", state.lines
    ):
        state.lines[man][ref] = qty
        (serials if ref.startswith("S:") else lots).add(ref[2:])
    for name in manifests - set(state.manifests):
        state.manifests[name] = None
    held = [str(x) for x in s.HELD]
    for loc in count_places:
        serials.update(
            session.scalars(
                select(InvSerial.serial).where(_prefix(InvSerial.location, loc), InvSerial.status.in_(held))
            )
        )
        lots.update(session.scalars(select(InvLotStock.lot).where(_prefix(InvLotStock.location, loc)).distinct()))
    for row in _rows(session, InvSerial, Serial, InvSerial.serial, serials):
        state.serials[row.serial] = row
    for name in serials - set(state.serials):
        state.serials[name] = None
    for lot_row in _rows(session, InvLot, Lot, InvLot.lot, lots):
        state.lots[lot_row.lot] = lot_row
    for name in lots - set(state.lots):
        state.lots[name] = None
    for st in _rows(session, InvLotStock, Stock, InvLotStock.lot, [k for k, v in state.lots.items() if v]):
        state.stocks[st.stock_key] = st
    # the rows as stored, so that a flush inserts new rows and updates only changed columns
    state.stored = {
        kind: {k: get(v) for k, v in rows.items() if v is not None}
        for kind, rows, get in (
            ("serials", state.serials, _GET[Serial]),
            ("lots", state.lots, _GET[Lot]),
            ("stocks", state.stocks, _GET[Stock]),
            ("manifests", state.manifests, _GET[Manifest]),
        )
    }
    return state


_GET: dict[type, attrgetter[tuple[Any, ...]]] = {
    cls: attrgetter(*row_fields(cls)) for cls in (Serial, Lot, Stock, Manifest, Discrepancy)
}


def _write(
    session: Session, model: type[Base], cls: type, pk: str, objs: Iterable[object], stored: dict[str, tuple[Any, ...]]
) -> None:
    """INSERT the rows not in the database; UPDATE only the columns that changed in the others
    (an UPDATE of a column rewrites every index on it, so unchanged columns are left alone)."""
    table = table_of(model)
    names = row_fields(cls)
    get = _GET[cls]
    k = names.index(pk)
    idx = range(len(names))
    new: list[tuple[Any, ...]] = []
    changed: dict[tuple[int, ...], list[tuple[Any, ...]]] = {}
    for obj in objs:
        row = get(obj)
        key = row[k]
        old = stored.get(key)
        if old is None:
            new.append(row)
        elif old != row:
            diff = tuple(compress(idx, map(ne, row, old)))  # C-level: ~5x a per-column generator
            changed.setdefault(diff, []).append(tuple([row[i] for i in diff]) + (key,))
        stored[key] = row
    insert_tuples(session, table, names, new)
    for diff, rows in changed.items():
        update_tuples(session, table, pk, [names[i] for i in diff], rows)


def flush_state(session: Session, state: State) -> None:
    """Write every row the projector changed (bulk INSERT for new rows, UPDATE by key for others)."""
    stored = state.stored
    _write(
        session, InvSerial, Serial, "serial", [state.serials[k] for k in sorted(state.dirty_serials)], stored["serials"]
    )
    _write(session, InvLot, Lot, "lot", [state.lots[k] for k in sorted(state.dirty_lots)], stored["lots"])
    _write(
        session,
        InvLotStock,
        Stock,
        "stock_key",
        [state.stocks[k] for k in sorted(state.dirty_stocks)],
        stored["stocks"],
    )
    _write(
        session,
        InvManifest,
        Manifest,
        "manifest",
        [state.manifests[k] for k in sorted(state.dirty_manifests)],
        stored["manifests"],
    )
    insert_tuples(session, table_of(InvManifestLine), ("manifest", "ref", "quantity"), state.new_lines)
    get = _GET[Discrepancy]
    insert_tuples(session, table_of(InvDiscrepancy), row_fields(Discrepancy), [get(d) for d in state.discrepancies])
    for name in ("dirty_serials", "dirty_lots", "dirty_stocks", "dirty_manifests"):
        getattr(state, name).clear()
    state.new_lines.clear()
    state.discrepancies.clear()


def clear_projection(session: Session) -> None:
    """Empty the projection tables (they are derived data; the log is never touched)."""
    for model in PROJECTION_TABLES:
        session.execute(delete(table_of(model)))


def storehouse_stock(session: Session, state: State, where: Location) -> dict[str, tuple[Lot, int]]:
    """Current held quantity per lot in a storehouse: database rows overlaid by in-memory changes."""
    held = {str(x) for x in s.HELD}
    stocks: dict[str, Stock] = {
        st.stock_key: st for st in _rows_where(session, InvLotStock, Stock, _prefix(InvLotStock.location, where))
    }
    for key, st in state.stocks.items():
        if st.location and Location.parse(st.location).within(where):
            stocks[key] = st
        elif key in stocks:
            stocks[key] = st  # moved out in memory
    qty: dict[str, int] = {}
    for st in stocks.values():
        if st.status in held and st.location and Location.parse(st.location).within(where):
            qty[st.lot] = qty.get(st.lot, 0) + st.quantity
    lots = {lot.lot: lot for lot in _rows(session, InvLot, Lot, InvLot.lot, [k for k in qty if k not in state.lots])}
    lots.update({k: v for k, v in state.lots.items() if v is not None})
    return {name: (lots[name], n) for name, n in qty.items() if n and name in lots}


def _rows_where(session: Session, model: type[Base], cls: type[Row], cond: ColumnElement[bool]) -> list[Row]:
    table = table_of(model)
    cols = [table.c[n] for n in row_fields(cls)]
    return [cls(*r) for r in session.execute(select(*cols).where(cond))]


# ------------------------------------------------------------------------------------------
# Queries
# ------------------------------------------------------------------------------------------
GROUPS = ("hub", "depot", "storehouse", "title_nation", "custodian", "status", "item_type")


def inventory_summary(
    session: Session,
    *,
    by: Sequence[str] = ("hub", "depot", "storehouse", "title_nation", "status"),
    title_nation: str | None = None,
) -> list[dict[str, object]]:
    """Serialised units and lot quantities grouped by place / nation / status, with value."""
    bad = [g for g in by if g not in GROUPS]
    if bad:
        from coalition.errors import InputError, Problem, closest

        raise InputError(
            [
                Problem(
                    f"cannot group by '{g}'",
                    field="by",
                    hint=f"did you mean '{closest(g, GROUPS)}'? valid: {', '.join(GROUPS)}",
                )
                for g in bad
            ]
        )
    out: list[dict[str, object]] = []
    cols = [getattr(InvSerial, g) for g in by]
    q = select(*cols, func.count(), func.coalesce(func.sum(InvSerial.unit_value), 0.0)).group_by(*cols)
    if title_nation:
        q = q.where(InvSerial.title_nation == title_nation)
    for row in session.execute(q.order_by(*cols)):
        d = dict(zip(by, row[: len(by)], strict=True))
        d.update(kind="serial", items=int(row[-2]), quantity=int(row[-2]), value=float(row[-1]))
        out.append(d)
    lcols = [getattr(InvLot, g) if g in ("title_nation", "item_type") else getattr(InvLotStock, g) for g in by]
    lq = (
        select(
            *lcols,
            func.count(),
            func.sum(InvLotStock.quantity),
            func.coalesce(func.sum(InvLotStock.quantity * InvLot.unit_value), 0.0),
        )
        .join(InvLot, InvLot.lot == InvLotStock.lot)
        .where(InvLotStock.quantity > 0)
        .group_by(*lcols)
    )
    if title_nation:
        lq = lq.where(InvLot.title_nation == title_nation)
    for row in session.execute(lq.order_by(*lcols)):
        d = dict(zip(by, row[: len(by)], strict=True))
        d.update(kind="lot", items=int(row[-3]), quantity=int(row[-2]), value=float(row[-1]))
        out.append(d)
    return out


def discrepancies(session: Session, *, title_nation: str | None = None) -> list[Discrepancy]:
    cond = InvDiscrepancy.title_nation == title_nation if title_nation else and_(True)
    rows = _rows_where(session, InvDiscrepancy, Discrepancy, cond)
    return sorted(rows, key=lambda d: (d.seq, d.ref))


def serials_of(session: Session, *, title_nation: str) -> list[Serial]:
    rows = _rows_where(session, InvSerial, Serial, InvSerial.title_nation == title_nation)
    return sorted(rows, key=lambda r: r.serial)


def lots_of(session: Session, *, title_nation: str) -> tuple[list[Lot], list[Stock]]:
    lots = sorted(_rows_where(session, InvLot, Lot, InvLot.title_nation == title_nation), key=lambda r: r.lot)
    stocks = _rows(session, InvLotStock, Stock, InvLotStock.lot, [lot.lot for lot in lots])
    return lots, sorted((st for st in stocks if st.quantity), key=lambda r: r.stock_key)


def held_at(session: Session, *, location: str) -> tuple[list[Serial], list[tuple[Stock, Lot]]]:
    """What the ledger says is held at a location (for stocktake reconciliation)."""
    loc = Location.parse(location)
    held = [str(x) for x in s.HELD]
    serials = _rows_where(
        session, InvSerial, Serial, and_(_prefix(InvSerial.location, loc), InvSerial.status.in_(held))
    )
    stocks = _rows_where(
        session,
        InvLotStock,
        Stock,
        and_(_prefix(InvLotStock.location, loc), InvLotStock.status.in_(held), InvLotStock.quantity > 0),
    )
    lots = {lot.lot: lot for lot in _rows(session, InvLot, Lot, InvLot.lot, [st.lot for st in stocks])}
    return sorted(serials, key=lambda r: r.serial), [(st, lots[st.lot]) for st in stocks]


def snapshot(session: Session) -> dict[str, list[tuple[Any, ...]]]:
    """Every projection row, sorted: used to prove a rebuild equals the live projection."""
    out = {}
    for model in PROJECTION_TABLES:
        table = table_of(model)
        rows = session.execute(select(table)).all()
        out[table.name] = sorted(tuple(r) for r in rows)
    return out
