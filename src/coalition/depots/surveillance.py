"""Lot surveillance: which lots held in a depot are overdue for inspection or proof, expiring, or
suspended (pure; the ledger's suspensions are passed in).

A lot's suspension has one status wherever it is recorded: a lot suspended in the depot data
(``suspended: true`` on the lot) or by a ``suspension`` event in the custody ledger is reported
suspended, naming where each came from; clearing it in one place does not clear the other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from coalition.depots.schemas import Catalogue, Depot, StockLine


@dataclass(frozen=True)
class LotStatus:
    lot: str
    item: str
    storehouses: tuple[str, ...]
    units: int
    manufactured: date | None
    last_inspected: date | None
    next_due: date | None
    expires: date | None
    findings: tuple[str, ...]  # "overdue", "expired", "expiring", "suspended", "no-dates"
    reasons: tuple[str, ...] = ()

    @property
    def needs_action(self) -> bool:
        return any(f in ("overdue", "expired", "expiring", "suspended") for f in self.findings)

    def as_dict(self) -> dict[str, object]:
        return {
            "lot": self.lot,
            "item": self.item,
            "storehouses": list(self.storehouses),
            "units": self.units,
            "manufactured": self.manufactured and self.manufactured.isoformat(),
            "last_inspected": self.last_inspected and self.last_inspected.isoformat(),
            "next_due": self.next_due and self.next_due.isoformat(),
            "expires": self.expires and self.expires.isoformat(),
            "findings": list(self.findings),
            "reasons": list(self.reasons),
        }


@dataclass
class SurveillanceReport:
    today: date
    within_days: int
    lots: list[LotStatus] = field(default_factory=list)

    @property
    def action(self) -> list[LotStatus]:
        return [s for s in self.lots if s.needs_action]

    def as_dict(self) -> dict[str, object]:
        return {
            "today": self.today.isoformat(),
            "within_days": self.within_days,
            "needs_action": [s.as_dict() for s in self.action],
            "lots": [s.as_dict() for s in self.lots],
        }


def surveillance(
    depots: Sequence[Depot],
    stock: Sequence[StockLine],
    catalogue: Catalogue,
    *,
    today: date,
    within_days: int = 90,
    ledger_suspensions: Mapping[str, str] | None = None,
) -> SurveillanceReport:
    """Every lot held in ``depots`` with its surveillance state on ``today``.

    Overdue: the next inspection/proof date has passed. Expired: past shelf-life expiry. Expiring:
    expiry or the next inspection falls within ``within_days``. Missing dates are reported
    ("no-dates"), never taken as fine, but a depot officer is not told to act on a lot only for that."""
    ledger_suspensions = ledger_suspensions or {}
    ids = {s.id for d in depots for s in d.storehouses}
    held: dict[str, dict[str, int]] = {}
    for line in stock:
        if line.storehouse in ids:
            held.setdefault(line.lot, {}).setdefault(line.storehouse, 0)
            held[line.lot][line.storehouse] += line.quantity
    soon = today + timedelta(days=within_days)
    report = SurveillanceReport(today, within_days)
    for lot_id in sorted(set(held) | set(ledger_suspensions)):
        lot = catalogue.lot_by_id.get(lot_id)
        where = held.get(lot_id, {})
        if lot is None and not where:
            continue  # a ledger suspension of a lot this depot data does not hold
        findings: list[str] = []
        reasons: list[str] = []
        if lot is not None:
            if lot.next_due is not None and lot.next_due < today:
                findings.append("overdue")
                reasons.append(f"inspection/proof was due {lot.next_due.isoformat()}")
            elif lot.next_due is not None and lot.next_due <= soon:
                findings.append("expiring")
                reasons.append(f"inspection/proof due {lot.next_due.isoformat()}")
            if lot.expires is not None and lot.expires < today:
                findings.append("expired")
                reasons.append(f"shelf life expired {lot.expires.isoformat()}")
            elif lot.expires is not None and lot.expires <= soon and "expiring" not in findings:
                findings.append("expiring")
                reasons.append(f"shelf life expires {lot.expires.isoformat()}")
            elif lot.expires is not None and lot.expires <= soon:
                reasons.append(f"shelf life expires {lot.expires.isoformat()}")
            if lot.next_due is None and lot.expires is None:
                findings.append("no-dates")
                reasons.append("no next-due or expiry date recorded")
            if lot.suspended:
                findings.append("suspended")
                reasons.append(
                    "suspended in the depot data" + (f": {lot.suspension_reason}" if lot.suspension_reason else "")
                )
        if lot_id in ledger_suspensions:
            if "suspended" not in findings:
                findings.append("suspended")
            reasons.append(f"suspended in the custody ledger: {ledger_suspensions[lot_id]}")
        report.lots.append(
            LotStatus(
                lot=lot_id,
                item=lot.item if lot else "?",
                storehouses=tuple(sorted(where)),
                units=sum(where.values()),
                manufactured=lot.manufactured if lot else None,
                last_inspected=lot.last_inspected if lot else None,
                next_due=lot.next_due if lot else None,
                expires=lot.expires if lot else None,
                findings=tuple(findings),
                reasons=tuple(reasons),
            )
        )
    return report
