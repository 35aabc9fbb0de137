"""One journey per role, in Chromium, through the pages only (the API is used just to check
what the pages did): a British planner, an HQ planner, a depot officer, a donor's inspector
(whose download the offline verifier accepts) and a French planner, in French."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from dashboard.conftest import Live, shot, sign_in, watch
from dashboard.test_i18n import _translations, visible_text

pytestmark = pytest.mark.browser
SCENARIO = Path(__file__).resolve().parents[2] / "src/coalition/scenario/data/paris-2026"


def _run_plan(page, option: str, other: str) -> int:  # type: ignore[no-untyped-def]
    page.select_option("[data-testid=plan-form] select[name=option]", option)
    page.fill("[data-testid=plan-form] input[name=other]", other)
    page.fill("[data-testid=plan-form] input[name=time_limit]", "3")
    page.click("[data-testid=plan-form] button[type=submit]")
    page.wait_for_selector("[data-testid=gantt]", timeout=120_000)
    return int(re.search(r"job=(\d+)", page.url).group(1))


def test_gbr_planner(chromium, live: Live, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ctx, page = sign_in(chromium, live, "gbr-planner", downloads=True)
    seen = watch(page, live)
    # Transitions its own pledge; is offered no acceptance (an HQ decision).
    page.click("nav >> text=Pledges")
    page.click("a[href='/pledges/GBR-16']")
    assert page.locator("[data-testid=move-accepted]").count() == 0
    page.click("[data-testid=move-withdrawn]")
    page.wait_for_url(re.compile(r".*saved=\d+$"))
    assert page.inner_text("[data-testid=pledge-state]") == "withdrawn"
    assert page.locator("[data-testid=transition-form]").count() == 0  # withdrawn is final
    # Runs two plans, then compares them.
    page.click("nav >> text=Plan")
    first = _run_plan(page, "small", "parliament.GBR=true")
    second = _run_plan(page, "small", "parliament.GBR=false")
    page.select_option("[data-testid=compare-form] select[name=b]", str(first))
    page.click("[data-testid=compare-form] button[type=submit]")
    page.wait_for_url(re.compile(rf".*/plans/compare\?a={second}&b={first}$"))
    ours = [int(page.inner_text(f"[data-testid=lines-{i}]")) for i in (1, 2)]
    assert ours[0] == 0 and ours[1] > 0  # without the Commons vote no British unit deploys
    assert page.locator("[data-testid=changes] tr[data-change=added]").count() == ours[1]
    shot(page, "journey-gbr-compare")
    # Names the older plan and pins it: it is listed first, with its marker and name.
    page.goto(f"{live.base}/plan?job={first}")
    page.fill("[data-testid=name-form] input[name=name]", "Commons vote passes")
    page.click("[data-testid=name-form] button[type=submit]")
    page.click("[data-testid=pin-form] button[type=submit]")
    page.wait_for_selector("[data-testid=pinned-marker]")
    assert page.inner_text("[data-testid=plan-name]") == "Commons vote passes"
    top = page.locator("[data-testid=recent-runs] > li").first
    assert top.get_attribute("data-job") == str(first) and "Commons vote passes" in top.inner_text()
    # Downloads the XLSX of the plan with British lines: every line it may see, nothing else.
    with page.expect_download() as dl:
        page.click("[data-testid=downloads] a[href$='plan.xlsx']")
    path = tmp_path / "plan.xlsx"
    dl.value.save_as(path)
    book = load_workbook(path)
    rows = list(book["unit_lines"].iter_rows(values_only=True))
    _s, _h, api = live.api("GET", f"/api/plans/{first}/result", "gbr-planner")
    assert sorted(r[0] for r in rows[1:]) == sorted(u["uln"] for u in api["unit_lines"])
    assert all(r[rows[0].index("nation")] == "GBR" for r in rows[1:])
    assert seen["outside"] == [] and seen["errors"] == []
    ctx.close()


def test_hq_planner_accepts_a_pledge(chromium, live: Live) -> None:  # type: ignore[no-untyped-def]
    ctx, page = sign_in(chromium, live, "hq-planner")
    page.goto(live.base + "/pledges?nation=FRA&state=offered")
    page.click("a[href='/pledges/FRA-12']")
    page.click("[data-testid=move-accepted]")
    page.wait_for_url(re.compile(r".*saved=\d+$"))
    assert page.inner_text("[data-testid=pledge-state]") == "accepted"
    _s, _h, pledge = live.api("GET", "/api/pledges/FRA-12", "fra-planner")
    assert pledge["state"] == "accepted"
    ctx.close()


def test_depot_officer_places_a_consignment(chromium, live: Live) -> None:  # type: ignore[no-untyped-def]
    ctx, page = sign_in(chromium, live, "gbr-depot")
    assert page.locator("nav >> text=Plan").count() == 1
    page.goto(live.base + "/plan")
    assert page.locator("[data-testid=plan-form]").count() == 0  # no Run-planner button to 403
    page.click("nav >> text=Depots")
    page.click("[data-testid=place-DEP-VIN]")
    assert page.locator("[data-testid=stock] tr[data-source=ledger]").count() == 0
    page.set_input_files("[data-testid=upload-form] input[type=file]",
                         str(SCENARIO / "sample-consignment.csv"))
    page.fill("[data-testid=upload-form] input[name=origin]", "GBR-HOME-DEPOT")
    page.fill("[data-testid=upload-form] input[name=manifest]", "no spaces allowed")
    page.click("[data-testid=upload-form] button[type=submit]")  # a bad reference: inline
    page.wait_for_selector("[data-testid=error-manifest]")
    assert page.input_value("[data-testid=upload-form] input[name=origin]") == "GBR-HOME-DEPOT"
    page.set_input_files("[data-testid=upload-form] input[type=file]",
                         str(SCENARIO / "sample-consignment.csv"))
    page.fill("[data-testid=upload-form] input[name=manifest]", "M-GBR-VIN-J01")
    page.click("[data-testid=upload-form] button[type=submit]")
    page.wait_for_selector("[data-testid=proposal]", timeout=60_000)
    placed = page.locator("[data-testid=placed] tbody tr").count()
    assert placed >= 1
    shot(page, "journey-depot-proposal")
    # The returned proposal is not trusted: a tampered line is refused.
    page.evaluate("""() => { const f = document.querySelector('[data-testid=accept-form] input[name=lines]');
        const rows = JSON.parse(f.value); rows[0][2] = rows[0][2] * 1000; f.value = JSON.stringify(rows); }""")
    page.click("[data-testid=accept-form] button[type=submit]")
    page.wait_for_selector("[data-testid=problem]")
    assert "consignment" in page.inner_text("[data-testid=problem]")
    page.goto(live.base + "/depots/DEP-VIN/placement")
    page.set_input_files("[data-testid=upload-form] input[type=file]",
                         str(SCENARIO / "sample-consignment.csv"))
    page.fill("[data-testid=upload-form] input[name=manifest]", "M-GBR-VIN-J01")
    page.fill("[data-testid=upload-form] input[name=origin]", "GBR-HOME-DEPOT")
    page.click("[data-testid=upload-form] button[type=submit]")
    page.wait_for_selector("[data-testid=accept-form]", timeout=60_000)
    lines = json.loads(page.input_value("[data-testid=accept-form] input[name=lines]"))
    page.click("[data-testid=accept-form] button[type=submit]")
    page.wait_for_selector("[data-testid=accepted]")
    assert page.locator("[data-testid=order] tbody tr").count() == placed
    _s, _h, audit = live.api("GET", "/api/audit?action=accept-placement&object_id=DEP-VIN",
                             "hq-admin")
    assert audit["total"] == 1 and len(audit["items"][0]["after"]["lines"]) == placed
    # ... and the officer SEES the stock change: the placed lots, from the custody ledger, on
    # the placement page and on the depots page, storehouse by storehouse
    ledger_rows = page.locator("[data-testid=stock] tr[data-source=ledger]")
    assert ledger_rows.count() == len({(h, lot) for h, lot, _q in lines})
    shot(page, "journey-depot-accepted")
    page.click("nav >> text=Depots")
    page.click("[data-testid=stock-DEP-VIN] summary")
    for house, lot, qty in lines:
        row = page.locator("[data-testid=stock-DEP-VIN] tr[data-source=ledger]",
                           has_text=lot).filter(has_text=house)
        assert row.count() == 1 and f"{qty:,}" in row.inner_text(), (house, lot, qty)
    shot(page, "journey-depot-stock")
    # the events are in the ledger, signed, once: a refresh of the accept form appends nothing
    _s, _h, events = live.api("GET", "/api/custody-events?ref=M:M-GBR-VIN-J01", "gbr-depot")
    assert [e["type"] for e in events["items"]] == ["manifest", "dispatch", "receipt"]
    ctx.close()


def test_inspector_downloads_a_bundle_the_offline_verifier_accepts(chromium, live: Live,  # type: ignore[no-untyped-def]
                                                                   tmp_path: Path) -> None:
    from coalition.ledger.queries import pinned_trust

    ctx, page = sign_in(chromium, live, "hq-inspector", downloads=True)
    page.click("nav >> text=Accountability")
    page.select_option("[data-testid=donor-form] select[name=donor]", "GBR")
    page.click("[data-testid=donor-form] button[type=submit]")
    assert page.locator("[data-testid=items] tbody tr").count() >= 1
    assert page.locator("[data-testid=delinquency]").count() == 1
    shot(page, "journey-inspector")
    with page.expect_download() as dl:
        page.click("[data-testid=bundle-form] button[type=submit]")
    data = Path(dl.value.path()).read_bytes()
    ctx.close()
    folder = tmp_path / "bundle"
    zipfile.ZipFile(io.BytesIO(data)).extractall(folder)
    trust = tmp_path / "trust.json"  # obtained out of band: the server's pinned trust
    trust.write_text(pinned_trust(live.app.state.coalition.settings).to_json(), "utf-8")
    verify = [sys.executable, "-m", "coalition.ledger.verifier", str(folder), "--trust", str(trust)]
    ok = subprocess.run(verify, capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0 and "OK:" in ok.stdout, ok.stdout + ok.stderr
    # The verifier is not a rubber stamp: one changed byte in an event is refused.
    events = folder / "events.jsonl"
    text = events.read_text("utf-8")
    events.write_text(text.replace('"quantity":', '"quantity": ', 1) if '"quantity":' in text
                      else text[:-3] + ("0" if text[-3] != "0" else "1") + text[-2:], "utf-8")
    bad = subprocess.run(verify, capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0, bad.stdout


def test_french_planner_journey(chromium, live: Live, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    english = [m.id for m in _translations().values()
               if isinstance(m.id, str) and "%" not in m.id and len(m.id.split()) >= 2
               and m.string != m.id]

    def no_english(where: str) -> None:
        text = visible_text(page.content())
        left = [e for e in english if re.search(rf"(?<!\w){re.escape(e)}(?!\w)", text)]
        assert not left, f"{where}: {left}"

    ctx, page = sign_in(chromium, live, "fra-planner", locale="fr-FR", downloads=True)
    assert page.get_attribute("html", "lang") == "fr"
    nav = page.locator("[data-testid=nav] a").all_inner_texts()
    assert nav[:5] == ["Carte", "Lacunes", "Plan", "Dépôts", "Registre"]
    no_english("carte")
    page.click("nav >> text=Engagements")
    page.click("a[href='/pledges/FRA-13']")
    assert page.locator("[data-testid=move-accepted]").count() == 0
    page.click("[data-testid=move-withdrawn]")
    page.wait_for_url(re.compile(r".*saved=\d+$"))
    assert page.inner_text("[data-testid=pledge-state]") == "retiré"
    no_english("engagement")
    page.click("nav >> text=Plan")
    # A bad assumption comes back inline, in French, with the form as typed.
    page.fill("[data-testid=plan-form] input[name=other]", "ceci n'est pas une hypothèse")
    page.click("[data-testid=plan-form] button[type=submit]")
    page.wait_for_selector("[data-testid=form-problem]")
    assert "n’est pas de la forme NOM=VALEUR" in page.inner_text("[data-testid=form-problem]")
    assert page.input_value("[data-testid=plan-form] input[name=other]") == \
        "ceci n'est pas une hypothèse"
    job = _run_plan(page, "small", "")
    no_english("plan")
    assert "lignes d’unités" in page.inner_text("[data-testid=uln-count]")
    assert re.search(r"\d{4}\)", page.inner_text("[data-testid=uln-table] tbody")) or \
        page.locator("[data-testid=uln-table] tbody tr[data-uln]").count() == 0
    shot(page, "journey-fr-plan")
    page.goto(f"{live.base}/plans/compare?a={live.plan()}&b={job}")
    no_english("comparaison")
    with page.expect_download() as dl:
        page.goto(f"{live.base}/plan?job={job}")
        page.click("[data-testid=downloads] a[href$='plan.xlsx']")
    dl.value.save_as(tmp_path / "plan-fr.xlsx")
    assert load_workbook(tmp_path / "plan-fr.xlsx").sheetnames[0] == "summary"
    ctx.close()


def test_custody_events_filter_and_page(chromium, live: Live) -> None:  # type: ignore[no-untyped-def]
    """Every event the reader may see is reached through the pages; filters narrow in SQL."""
    ctx, page = sign_in(chromium, live, "hq-inspector")
    page.click("nav >> text=Ledger")
    _s, _h, api = live.api("GET", "/api/custody-events?limit=500", "hq-inspector")
    seqs: list[str] = []
    while True:
        seqs += page.locator("[data-testid=ledger-events] tbody td.num").all_inner_texts()
        if not page.locator("[data-testid=events-older]").count():
            break
        page.click("[data-testid=events-older]")
    assert sorted(map(int, seqs)) == sorted(e["seq"] for e in api["items"])
    page.fill("[data-testid=event-filters] input[name=nation]", "GBR")
    page.click("[data-testid=event-filters] button[type=submit]")
    shown = page.locator("[data-testid=ledger-events] tbody tr").evaluate_all(
        "rows => rows.map(r => r.cells[3] && r.cells[3].innerText)")
    assert shown and all(n == "GBR" for n in shown)
    ctx.close()
