"""Replay the signed log in memory: the signing duties at verify time, and the projection check.

``verify --projection`` replays every event through the same pure projector the append path uses,
starting from nothing, and so checks again at verify time who may sign what (the consignee signs
the receipt, the custodian dispatches and issues, the title holder suspends and lifts, the
counterparty of each handover is the one the rules name), that each event's signed chain links
name exactly the title holders it affects, and finally that the stored projection equals the
replay — naming every differing row (table, key, field, stored value, replayed value).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from coalition.errors import ConflictError
from coalition.inventory import models as im
from coalition.inventory.projector import apply
from coalition.inventory.state import Discrepancy, Lot, Manifest, Serial, State, Stock, row_fields
from coalition.ledger.checks import Report
from coalition.ledger.models import LedgerBatch, LedgerEvent
from coalition.ledger.service import event_from_body

#: (table, ORM model, projector class, key fields)
TABLES = (
    ("inv_serial", im.InvSerial, Serial, ("serial",)),
    ("inv_lot", im.InvLot, Lot, ("lot",)),
    ("inv_lot_stock", im.InvLotStock, Stock, ("stock_key",)),
    ("inv_manifest", im.InvManifest, Manifest, ("manifest",)),
    ("inv_discrepancy", im.InvDiscrepancy, Discrepancy, ("seq", "ref")),
)


@dataclass(frozen=True)
class RowDiff:
    table: str
    key: str
    field: str
    stored: object
    replayed: object

    def __str__(self) -> str:
        return f"{self.table} {self.key}: {self.field} stored {self.stored!r}, replayed {self.replayed!r}"


def replay_log(session: Session, report: Report, *, chunk: int = 5000) -> State:
    """Apply the whole log to an empty in-memory state; rule violations become findings."""
    state = State()
    reversed_: set[int] = set()
    for body in session.scalars(select(LedgerEvent.body).where(LedgerEvent.type == "correction")):
        try:
            reversed_.add(int(json.loads(body)["payload"]["reverses"]))
        except (ValueError, KeyError, TypeError):
            report.add("rules", "a correction names no event it reverses")
    last = 0
    while True:
        rows = session.execute(
            select(LedgerEvent.seq, LedgerEvent.body, LedgerBatch.time)
            .join(LedgerBatch, LedgerBatch.batch_id == LedgerEvent.batch_id)
            .where(LedgerEvent.seq > last)
            .order_by(LedgerEvent.seq)
            .limit(chunk)
        ).all()
        if not rows:
            break
        last = rows[-1][0]
        for seq, body, recorded in rows:
            _one(state, report, int(seq), body, recorded, reversed_)
    return state


def _one(state: State, report: Report, seq: int, body: str, recorded: str, reversed_: set[int]) -> None:
    try:
        ev, counterparty = event_from_body(body, recorded)
        chain = json.loads(body).get("chain", {})
    except (ValueError, KeyError, TypeError) as exc:  # pydantic errors are ValueErrors
        report.add("rules", f"event body cannot be replayed ({type(exc).__name__})", seq)
        return
    if ev.type == "correction":
        return
    if seq in reversed_:
        return
    try:
        applied = apply(state, ev)
    except ConflictError as exc:
        report.add("rules", f"{ev.type} by {ev.nation} breaks the ledger's rules: {exc}", seq)
        return
    finally:
        state.dirty_serials.clear()
        state.dirty_lots.clear()
        state.dirty_stocks.clear()
        state.dirty_manifests.clear()
        state.new_lines.clear()
    if applied.counterparty != counterparty:
        report.add(
            "rules",
            f"{ev.type} by {ev.nation} names counterparty {counterparty}, but the rules make"
            f" {applied.counterparty} the other party who must sign",
            seq,
        )
    titles = {r[2:] for r in applied.refs if r.startswith("T:")}
    if isinstance(chain, dict) and set(chain) != titles:
        report.add(
            "chain",
            f"the event affects the items of {', '.join(sorted(titles)) or 'nobody'} but its"
            f" signed chain links name {', '.join(sorted(chain)) or 'nobody'}",
            seq,
        )


def projection_diff(session: Session, state: State, *, limit: int = 1000) -> list[RowDiff]:
    """Every difference between the stored projection and the replayed state."""
    out: list[RowDiff] = []
    for table, model, cls, keys in TABLES:
        names = row_fields(cls)
        stored = {tuple(getattr(r, k) for k in keys): r for r in session.scalars(select(model))}
        mine: dict[tuple[object, ...], object]  # key fields -> the replayed row
        if cls is Discrepancy:
            mine = {(d.seq, d.ref): d for d in state.discrepancies}
        else:
            sources: dict[type, Mapping[str, object]] = {
                Serial: state.serials,
                Lot: state.lots,
                Stock: state.stocks,
                Manifest: state.manifests,
            }
            mine = {tuple(getattr(v, k) for k in keys): v for v in sources[cls].values() if v is not None}
        for key in sorted(set(stored) | set(mine), key=str):
            label = "/".join(str(k) for k in key)
            a, b = stored.get(key), mine.get(key)
            if a is None:
                out.append(RowDiff(table, label, "(row)", "missing", "present"))
            elif b is None:
                out.append(RowDiff(table, label, "(row)", "present", "missing"))
            else:
                for name in names:
                    x, y = getattr(a, name), getattr(b, name)
                    if x != y and not (isinstance(x, float) and isinstance(y, (int, float)) and float(x) == float(y)):
                        out.append(RowDiff(table, label, name, x, y))
            if len(out) >= limit:
                return out
    lines_stored = {
        (m, r): q
        for m, r, q in session.execute(
            select(im.InvManifestLine.manifest, im.InvManifestLine.ref, im.InvManifestLine.quantity)
        )
    }
    lines_mine = {(m, r): q for m, refs in state.lines.items() for r, q in refs.items()}
    for key in sorted(set(lines_stored) | set(lines_mine)):
        if lines_stored.get(key) != lines_mine.get(key):
            out.append(
                RowDiff("inv_manifest_line", "/".join(key), "quantity", lines_stored.get(key), lines_mine.get(key))
            )
    return out[:limit]
