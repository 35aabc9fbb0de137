"""Lot surveillance on the embedded scenario and on hand-made lots; one suspension status."""

from __future__ import annotations

import json
from datetime import date

from typer.testing import CliRunner

from coalition.cli.main import app
from coalition.depots.surveillance import surveillance

runner = CliRunner()


def test_embedded_scenario_names_overdue_and_expiring_lots(network) -> None:  # type: ignore[no-untyped-def]
    rep = surveillance(network.depots, network.stock, network.catalogue, today=date(2026, 12, 1), within_days=90)
    action = {s.lot: s.findings for s in rep.action}
    assert action == {"VIN-CHG-B01": ("overdue",), "JAS-DEMO-G01": ("overdue", "expiring")}
    assert {s.lot for s in rep.lots if "no-dates" in s.findings} >= {"JAS-155-A01"}  # missing dates are reported
    early = surveillance(network.depots, network.stock, network.catalogue, today=date(2025, 1, 1), within_days=30)
    assert not early.action


def test_ledger_and_depot_suspensions_are_one_status(network) -> None:  # type: ignore[no-untyped-def]
    rep = surveillance(network.depots, network.stock, network.catalogue, today=date(2025, 1, 1),
                       ledger_suspensions={"VIN-FZ-C01": "fuze defect reported by GBR"})
    fz = next(s for s in rep.lots if s.lot == "VIN-FZ-C01")
    assert "suspended" in fz.findings and any("custody ledger" in r for r in fz.reasons)
    assert [s.lot for s in rep.action] == ["VIN-FZ-C01"]


def test_cli_exit_codes() -> None:
    res = runner.invoke(app, ["depots", "surveillance", "--today", "2026-12-01", "--json"])
    assert res.exit_code == 1
    names = {x["lot"] for x in json.loads(res.output)["needs_action"]}
    assert names == {"VIN-CHG-B01", "JAS-DEMO-G01"}
    text = runner.invoke(app, ["depots", "surveillance", "--today", "2026-12-01"]).output
    assert "VIN-CHG-B01" in text and "JAS-DEMO-G01" in text
    assert runner.invoke(app, ["depots", "surveillance", "--today", "2025-01-01", "--within", "30"]).exit_code == 0


def test_licence_html_document(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "vin.html"
    res = runner.invoke(app, ["depots", "licence", "--depot", "DEP-VIN", "--html", str(out)])
    assert res.exit_code == 0, res.output
    html = out.read_text()
    assert html.startswith("<!DOCTYPE html>") and html.count('<section class="licence">') == 7
    assert "ILL-VIN-ELL-001" in html and "C, D, E, S" in html and "2026-09-01" in html  # recorded fields
    assert "<em>not recorded</em>" in html  # what is not recorded is never invented
    assert "Controlling exposed site" in html and "iatg.1.1.frag" in html  # limits name their basis
