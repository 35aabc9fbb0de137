"""axe-core (vendored, injected into each page; nothing fetched) on every dashboard page, in
light and dark mode: no serious or critical violation. And the keyboard: the skip link, the
navigation, a hub on the map and a Gantt bar are reached with Tab and opened with Enter."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dashboard.conftest import Live, sign_in, watch

AXE = Path(__file__).resolve().parents[2] / "src/coalition/dashboard/static/vendor/axe.min.js"
pytestmark = pytest.mark.browser


def axe_violations(page) -> list[str]:  # type: ignore[no-untyped-def]
    """Serious and critical violations on the page, one line each (rule, impact, nodes)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))  # evaluated by the driver: no CSP hop
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
          .map(v => v.id + ' (' + v.impact + '): ' + v.nodes.slice(0, 3)
            .map(n => n.target.join(' ')).join(' | '));
    }""")
    return list(result)


DARK = ("/map", "/gaps", "/plan", "/ledger", "/pledges/", "/sustain", "/analysis")


def pages(live: Live) -> list[str]:
    job = live.plan()
    return ["/map", "/hubs/UA-LVIV", "/gaps?option=medium", f"/plan?job={job}",
            f"/plan?job={job}&page=2", "/depots", "/ledger", "/audit", "/tokens", "/pledges",
            "/pledges/GBR-01", "/scenario", "/scenario/diff?from=1&to=1", "/inspector?donor=GBR",
            "/depots/DEP-VIN/placement",
            f"/plans/compare?a={job}&b={job}", "/hubs/NO-SUCH-HUB", f"/sustain?job={job}",
            f"/analysis?job={live.analysis()}", f"/analysis?job={live.analysis(kind='withdrawal')}"]


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_axe_finds_no_serious_violation_on_any_page(chromium, live: Live, dark: bool) -> None:  # type: ignore[no-untyped-def]
    found: dict[str, list[str]] = {}
    ctx = chromium.new_context(color_scheme="dark" if dark else "light")
    page = ctx.new_page()
    page.goto(live.base + "/login")
    found["/login"] = axe_violations(page)
    ctx.close()
    ctx, page = sign_in(chromium, live, "hq-admin", dark=dark)
    seen = watch(page, live)
    # Dark mode changes colours only: its pass covers the pages with the most colour.
    for path in pages(live) if not dark else [p for p in pages(live) if p.startswith(DARK)]:
        page.goto(live.base + path)
        found[path] = axe_violations(page)
    page.goto(live.base + "/pledges?lang=fr")
    found["/pledges?lang=fr"] = axe_violations(page)
    ctx.close()
    bad = {p: v for p, v in found.items() if v}
    assert not bad, bad
    assert len(found) == (22 if not dark else 12)
    assert seen["outside"] == [], seen
    # The one console error is the deliberate 404 page (/hubs/NO-SUCH-HUB); a CSP violation
    # or a failed asset would add another.
    assert [e for e in seen["errors"] if "404" not in e] == [], seen
    assert len(seen["errors"]) == (0 if dark else 1), seen


def test_axe_would_report_a_real_violation(chromium, live: Live) -> None:  # type: ignore[no-untyped-def]
    """The check is not vacuous: an image without alt text on a page is reported."""
    ctx, page = sign_in(chromium, live, "gbr-planner")
    page.evaluate("document.querySelector('main').insertAdjacentHTML('beforeend', "
                  "'<img src=\"/static/favicon.svg\"><input type=\"text\">')")
    problems = axe_violations(page)
    assert any(p.startswith("image-alt") for p in problems), problems
    assert any(p.startswith("label") for p in problems), problems
    ctx.close()


def _tab_to(page, predicate: str, limit: int = 80) -> bool:  # type: ignore[no-untyped-def]
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(() => {{ const el = document.activeElement; return {predicate}; }})()"):
            return True
    return False


def test_everything_is_reached_by_keyboard(chromium, live: Live) -> None:  # type: ignore[no-untyped-def]
    job = live.plan()
    ctx, page = sign_in(chromium, live, "hq-planner")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"
    # A hub on the map opens with Enter.
    assert _tab_to(page, "el.getAttribute && el.getAttribute('data-hub') === 'UA-LVIV'")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/hubs/UA-LVIV$"))
    # The navigation: Tab to "Plan", Enter.
    assert _tab_to(page, "el.tagName === 'A' && el.getAttribute('href') === '/plan'")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/plan$"))
    # A Gantt bar is a link: Enter opens its line in the unit-line table (not tooltip-only).
    page.goto(f"{live.base}/plan?job={job}")
    first = page.locator("svg.gantt a[data-uln]").first.get_attribute("data-uln")
    assert _tab_to(page, f"el.getAttribute && el.getAttribute('data-uln') === '{first}'", 200)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*q=.*#lines$"))
    page.wait_for_selector("[data-testid=uln-table] tbody tr[data-uln]")
    rows = page.locator("[data-testid=uln-table] tbody tr[data-uln]")
    assert rows.count() >= 1 and first in rows.all_inner_texts()[0]
    # The table's sort links and the pager are links too; the filter form submits with Enter.
    page.fill("[data-testid=uln-filters] input[name=q]", "")
    page.focus("[data-testid=uln-filters] input[name=q]")
    page.keyboard.type(first)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("[data-testid=uln-table] tbody tr[data-uln]").count() >= 1
    ctx.close()


def test_sustainment_and_analysis_by_keyboard_with_live_progress(chromium, live: Live) -> None:  # type: ignore[no-untyped-def]
    """From the plan page to its sustainment with Tab and Enter; on the analysis page a quick
    Monte Carlo is submitted from the keyboard (its progress box shows while it runs) and the page reloads itself
    onto the heatmap (the polling script, through the CSP)."""
    job = live.plan()
    ctx, page = sign_in(chromium, live, "hq-planner")
    seen = watch(page, live)
    page.goto(f"{live.base}/plan?job={job}")
    assert _tab_to(page, f"el.getAttribute && el.getAttribute('href') === '/sustain?job={job}'", 400)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf".*/sustain\?job={job}$"))
    assert page.locator("[data-testid=dos-table]").count() >= 1
    page.goto(f"{live.base}/analysis")
    assert _tab_to(page, "el.getAttribute && el.getAttribute('name') === 'samples'")
    page.keyboard.press("Control+A")
    page.keyboard.type("6")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_selector("[data-testid=mc-heatmap]", timeout=90_000)
    assert "±" in page.locator("[data-testid=mc-heatmap]").inner_text()
    assert seen["outside"] == [] and seen["errors"] == [], seen
    ctx.close()
