"""Pure report logic: delinquency by count and value, stocktake reconciliation, COUNTS.csv errors."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from coalition.errors import InputError
from coalition.inventory.state import Lot, Serial, Stock
from coalition.ledger.reports import Count, DelinquencyRules, delinquency, read_counts, reconcile


def serial(name: str, *, status: str = "serviceable", arrived: str | None = "2026-01-01",
           counted: str | None = None, value: float = 100.0, sensitive: bool = True,
           loss: tuple[str, str] | None = None, location: str = "UA-LVIV/LV-D1/SH-1") -> Serial:
    return Serial(name, "T", "GBR", value, sensitive, status, "", "FRA", location, "UA-LVIV", "LV-D1", "SH-1", "",
                  "", "", "M1", arrived, counted, loss[0] if loss else None, loss[1] if loss else None, 1)


def test_delinquency_initial_annual_and_late_loss_by_count_and_value() -> None:
    as_of = date(2026, 6, 1)  # 151 days after 2026-01-01
    rows = [
        serial("never-counted", value=1000),  # arrived > 90 days ago, never counted: initial overdue
        serial("counted-recently", counted="2026-03-01"),
        serial("recent-arrival", arrived="2026-05-01"),  # 31 days: not overdue yet
        serial("old-count", arrived="2024-01-01", counted="2025-05-01", value=50),  # > 365 days: annual
        serial("not-sensitive", sensitive=False),
        serial("in-transit", status="in_transit", arrived=None),
        serial("lost-late", status="lost", loss=("2026-02-01", "2026-03-15"), value=7),
        serial("lost-on-time", status="lost", loss=("2026-02-01", "2026-02-20")),
        serial("issued", status="issued", value=10),  # at the end user: still must be inventoried
    ]
    lots = [Lot("L1", "155", "GBR", 2.0, 10.0, "1.1D", True, False, "", "M1", 100, "2026-01-01", None, 1)]
    stocks = [Stock("k", "L1", "serviceable", "", "FRA", "X", "X", "", "", "", "", "", "M1", 40, None, None, 1)]
    d = delinquency(rows, lots, stocks, as_of=as_of)
    assert set(d.initial_overdue.refs) == {"never-counted", "issued", "L1"}
    assert d.initial_overdue.count == 1 + 1 + 40 and d.initial_overdue.value == 1000 + 10 + 80
    assert d.annual_overdue.refs == ["old-count"] and d.annual_overdue.value == 50
    assert d.late_loss_reports.refs == ["lost-late"]
    assert set(d.monitored.refs) == {"never-counted", "counted-recently", "recent-arrival", "old-count", "issued", "L1"}
    assert d.share("value") == pytest.approx((1000 + 10 + 80 + 50) / d.monitored.value)
    every = delinquency(rows, lots, stocks, as_of=as_of, rules=DelinquencyRules(sensitive_only=False))
    assert "not-sensitive" in every.initial_overdue.refs


def test_reconcile_by_serial_and_by_lot() -> None:
    here = "UA-LVIV/LV-D1/SH-1"
    ledger = {"A": serial("A"), "B": serial("B")}
    elsewhere = {"C": serial("C", status="issued", location="")}
    counts = [Count(here, serial="A"), Count(here, serial="C"), Count(here, serial="Z"),
              Count(here, lot="L1", quantity=30), Count(here, lot="L2", quantity=5)]
    lines = {(x.ref, x.finding) for x in reconcile(counts, ledger, {here: {"L1": 40, "L3": 2}}, elsewhere)}
    assert lines == {("A", "ok"), ("B", "missing"), ("C", "unexpected"), ("Z", "unexpected"),
                     ("L1", "short"), ("L2", "over"), ("L3", "short")}


def test_read_counts_reports_every_bad_row(tmp_path: Path) -> None:
    f = tmp_path / "c.csv"
    f.write_text("location,serial,lot,quantity\nUA-LVIV,S1,,\n,S2,,\nUA-LVIV,S3,L1,\nUA-LVIV,,L1,-4\nUA-LVIV,S4,,2\n")
    with pytest.raises(InputError) as err:
        read_counts(f)
    assert [(p.row, p.field) for p in err.value.problems] == [(2, "location"), (3, "serial"), (4, "quantity"), (5, "quantity")]
    f.write_text("where,what\n")
    with pytest.raises(InputError, match="header"):
        read_counts(f)
    f.write_text("location,serial,lot,quantity\nUA-LVIV/LV-D1/,S1,,\n")
    assert read_counts(f) == [Count("UA-LVIV/LV-D1", "S1", "", 1)]
