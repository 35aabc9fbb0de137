"""Accountability reports: per-donor disposition, delinquency, stocktake reconciliation.

The pure functions (:func:`delinquency`, :func:`reconcile`, :func:`disposition`) take projection
rows and return typed results; :func:`donor_report` loads the rows and calls them.

"Delivered" (the definition the report uses everywhere): an item is delivered when, and only
when, a ``receipt`` event for it is in the log, signed by the receiving nation AND countersigned
by the dispatching nation (a two-party handover). Leaving the donor (dispatch), an e-mail, or a
manifest are not delivery; such items show as "in transit" (still in the dispatcher's custody).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from coalition.errors import InputError, Problem
from coalition.inventory import service as inv
from coalition.inventory.schemas import GONE, HELD, Location, Status
from coalition.inventory.state import Discrepancy, Lot, Serial, Stock


@dataclass(frozen=True)
class DelinquencyRules:
    """EEUM-style monitoring rules (custody-concepts.md): days allowed for each obligation."""

    initial_days: int = 90  # initial serial inventory after arrival
    annual_days: int = 365  # later inventories
    loss_report_days: int = 30  # loss/theft report after the loss occurred
    sensitive_only: bool = True  # only items designated for enhanced end-use monitoring


@dataclass
class Bucket:
    count: int = 0
    value: float = 0.0
    refs: list[str] = field(default_factory=list)

    def add(self, ref: str, count: int, value: float) -> None:
        self.count += count
        self.value += value
        self.refs.append(ref)


@dataclass
class Delinquency:
    as_of: date
    rules: DelinquencyRules
    monitored: Bucket = field(default_factory=Bucket)  # items subject to inventories
    initial_overdue: Bucket = field(default_factory=Bucket)
    annual_overdue: Bucket = field(default_factory=Bucket)
    late_loss_reports: Bucket = field(default_factory=Bucket)

    @property
    def overdue_count(self) -> int:
        return self.initial_overdue.count + self.annual_overdue.count

    @property
    def overdue_value(self) -> float:
        return self.initial_overdue.value + self.annual_overdue.value

    def share(self, by: str = "value") -> float:
        total = self.monitored.value if by == "value" else self.monitored.count
        part = self.overdue_value if by == "value" else self.overdue_count
        return part / total if total else 0.0


def _d(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def delinquency(
    serials: list[Serial],
    lots: list[Lot],
    stocks: list[Stock],
    *,
    as_of: date,
    rules: DelinquencyRules = DelinquencyRules(),
) -> Delinquency:
    """Which monitored items are overdue for inventory, and which losses were reported late."""
    out = Delinquency(as_of, rules)
    accountable = {*HELD, Status.ISSUED}

    def judge(ref: str, arrived: date | None, counted: date | None, n: int, value: float) -> None:
        if arrived is None:
            return  # not delivered yet: no inventory obligation
        out.monitored.add(ref, n, value)
        if counted is None or counted < arrived:
            if (as_of - arrived).days > rules.initial_days:
                out.initial_overdue.add(ref, n, value)
        elif (as_of - counted).days > rules.annual_days:
            out.annual_overdue.add(ref, n, value)

    for s in serials:
        if rules.sensitive_only and not s.sensitive:
            continue
        if s.status in accountable:
            judge(s.serial, _d(s.arrived_on), _d(s.last_counted_on), 1, s.unit_value)
        occurred, reported = _d(s.loss_occurred_on), _d(s.loss_reported_on)
        if occurred and reported and (reported - occurred).days > rules.loss_report_days:
            out.late_loss_reports.add(s.serial, 1, s.unit_value)
    by_lot = {lot.lot: lot for lot in lots}
    held: dict[str, int] = {}
    for st in stocks:
        lot = by_lot.get(st.lot)
        if lot is None or (rules.sensitive_only and not lot.sensitive):
            continue
        if st.status in accountable:
            held[st.lot] = held.get(st.lot, 0) + st.quantity
        occurred, reported = _d(st.loss_occurred_on), _d(st.loss_reported_on)
        if occurred and reported and (reported - occurred).days > rules.loss_report_days:
            out.late_loss_reports.add(st.lot, st.quantity, st.quantity * lot.unit_value)
    for name, qty in sorted(held.items()):
        lot = by_lot[name]
        judge(name, _d(lot.arrived_on), _d(lot.last_counted_on), qty, qty * lot.unit_value)
    return out


@dataclass(frozen=True)
class Line:
    """Where one serial (or a quantity of a lot) is."""

    ref: str
    kind: str  # "serial" | "lot"
    item_type: str
    quantity: int
    value: float
    status: str
    where: str  # location, "in transit to X", "issued to <unit> (<ref>)", ...
    custodian: str
    delivered: bool


def _where(status: str, location: str, end_user: str, end_user_ref: str, destination: str) -> str:
    if status == Status.ISSUED:
        return f"issued to {end_user} ({end_user_ref})"
    if status == Status.IN_TRANSIT:
        return f"in transit from {location} to {destination}" if destination else f"in transit from {location}"
    if status == Status.MANIFESTED:
        return f"manifested at {location} (not yet dispatched)"
    if status in GONE:
        return f"{status} (last at {location or end_user or '?'})"
    return location


def disposition(
    serials: list[Serial], lots: list[Lot], stocks: list[Stock], destinations: dict[str, str]
) -> list[Line]:
    """One line per serial and per lot holding: where it is, in whose custody, delivered or not."""
    out = []
    for s in serials:
        out.append(
            Line(
                s.serial,
                "serial",
                s.item_type,
                1,
                s.unit_value,
                s.status,
                _where(s.status, s.location, s.end_user, s.end_user_ref, destinations.get(s.manifest, "")),
                s.custodian,
                s.arrived_on is not None,
            )
        )
    by_lot = {lot.lot: lot for lot in lots}
    for st in stocks:
        lot = by_lot[st.lot]
        out.append(
            Line(
                st.lot,
                "lot",
                lot.item_type,
                st.quantity,
                st.quantity * lot.unit_value,
                Status.SUSPENDED if lot.suspended and st.status in HELD else st.status,
                _where(st.status, st.location, st.end_user, st.end_user_ref, destinations.get(st.manifest, "")),
                st.custodian,
                lot.arrived_on is not None and st.status not in (Status.MANIFESTED, Status.IN_TRANSIT),
            )
        )
    return out


@dataclass
class DonorReport:
    donor: str
    as_of: date
    lines: list[Line]
    totals: dict[str, Bucket]  # by status
    delivered: Bucket
    discrepancies: list[Discrepancy]
    delinquency: Delinquency


def donor_report(
    session: Session, *, donor: str, as_of: date, rules: DelinquencyRules = DelinquencyRules()
) -> DonorReport:
    from sqlalchemy import select

    from coalition.inventory.models import InvManifest

    serials = inv.serials_of(session, title_nation=donor)
    lots, stocks = inv.lots_of(session, title_nation=donor)
    dest = dict(
        session.execute(select(InvManifest.manifest, InvManifest.destination).where(InvManifest.donor == donor)).all()
    )
    lines = disposition(serials, lots, stocks, dest)
    totals: dict[str, Bucket] = {}
    delivered = Bucket()
    for line in lines:
        totals.setdefault(line.status, Bucket()).add(line.ref, line.quantity, line.value)
        if line.delivered:
            delivered.add(line.ref, line.quantity, line.value)
    return DonorReport(
        donor,
        as_of,
        lines,
        totals,
        delivered,
        inv.discrepancies(session, title_nation=donor),
        delinquency(serials, lots, stocks, as_of=as_of, rules=rules),
    )


# ------------------------------------------------------------------------------------------
# Stocktake reconciliation
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Count:
    location: str
    serial: str = ""
    lot: str = ""
    quantity: int = 1


@dataclass(frozen=True)
class ReconLine:
    location: str
    ref: str
    kind: str
    ledger: int
    counted: int
    finding: str  # "ok" | "missing" | "unexpected" | "short" | "over"
    note: str = ""


def read_counts(path: Path) -> list[Count]:
    """COUNTS.csv: location, serial, lot, quantity (serial rows: quantity 1 or empty)."""
    file = str(path)
    try:
        text = path.read_text("utf-8-sig")
    except FileNotFoundError:
        raise InputError([Problem("file not found", file=file)]) from None
    reader = csv.DictReader(io.StringIO(text))
    need = {"location", "serial", "lot", "quantity"}
    if not reader.fieldnames or not need <= {f.strip() for f in reader.fieldnames}:
        raise InputError(
            [
                Problem(
                    f"header must have columns {', '.join(sorted(need))}",
                    file=file,
                    row=0,
                    hint="location,serial,lot,quantity",
                )
            ]
        )
    out, problems = [], []
    for n, raw in enumerate(reader, 1):
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items()}
        if not row["location"]:
            problems.append(
                Problem(
                    "location is empty",
                    file=file,
                    row=n,
                    field="location",
                    hint="hub/depot/storehouse/bay, e.g. UA-LVIV/LV-D1/SH-1",
                )
            )
            continue
        if bool(row["serial"]) == bool(row["lot"]):
            problems.append(Problem("give exactly one of serial or lot", file=file, row=n, field="serial"))
            continue
        q = row["quantity"] or ("1" if row["serial"] else "")
        try:
            qty = int(q)
            if qty < 0 or (row["serial"] and qty != 1):
                raise ValueError
        except ValueError:
            problems.append(
                Problem(
                    f"quantity '{q}' is not valid",
                    file=file,
                    row=n,
                    field="quantity",
                    hint="a whole number >= 0; 1 (or empty) for a serial",
                )
            )
            continue
        out.append(Count(Location.parse(row["location"]).path, row["serial"], row["lot"], qty))
    if problems:
        raise InputError(problems)
    return out


def reconcile(
    counts: list[Count],
    ledger_serials: dict[str, Serial],
    ledger_lots: dict[str, dict[str, int]],
    elsewhere: dict[str, Serial],
) -> list[ReconLine]:
    """Counted vs ledger, by serial and by lot, for the counted locations.

    ``ledger_serials``: serials the ledger holds at the counted locations; ``ledger_lots``:
    location -> lot -> held quantity; ``elsewhere``: counted serials the ledger puts elsewhere.
    """
    out: list[ReconLine] = []
    counted_serials = {c.serial: c for c in counts if c.serial}
    for name, s in sorted(ledger_serials.items()):
        if name in counted_serials:
            out.append(ReconLine(s.location, name, "serial", 1, 1, "ok"))
        else:
            out.append(ReconLine(s.location, name, "serial", 1, 0, "missing", "ledger holds it here; not counted"))
    for name, c in sorted(counted_serials.items()):
        if name in ledger_serials:
            continue
        other = elsewhere.get(name)
        note = f"ledger: {other.status} at {other.location or other.end_user}" if other else "not in the ledger"
        out.append(ReconLine(c.location, name, "serial", 0, 1, "unexpected", note))
    counted_lots: dict[tuple[str, str], int] = {}
    for c in counts:
        if c.lot:
            counted_lots[(c.location, c.lot)] = counted_lots.get((c.location, c.lot), 0) + c.quantity
    keys = set(counted_lots) | {(loc, lot) for loc, d in ledger_lots.items() for lot in d}
    for loc, lot in sorted(keys):
        have, got = ledger_lots.get(loc, {}).get(lot, 0), counted_lots.get((loc, lot), 0)
        finding = "ok" if have == got else ("short" if got < have else "over")
        out.append(ReconLine(loc, lot, "lot", have, got, finding))
    return out


def reconcile_counts(session: Session, *, counts: list[Count]) -> list[ReconLine]:
    places = sorted({c.location for c in counts})
    ledger_serials: dict[str, Serial] = {}
    ledger_lots: dict[str, dict[str, int]] = {}
    for place in places:
        serials, stocks = inv.held_at(session, location=place)
        for s in serials:
            ledger_serials[s.serial] = s
        for st, _lot in stocks:
            d = ledger_lots.setdefault(place, {})
            d[st.lot] = d.get(st.lot, 0) + st.quantity
    wanted = [c.serial for c in counts if c.serial and c.serial not in ledger_serials]
    from coalition.inventory.models import InvSerial
    from coalition.inventory.service import _rows

    elsewhere = {s.serial: s for s in _rows(session, InvSerial, Serial, InvSerial.serial, wanted)}
    return reconcile(counts, ledger_serials, ledger_lots, elsewhere)
