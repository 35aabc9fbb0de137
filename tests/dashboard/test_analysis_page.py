"""The analysis page: a Monte Carlo and a withdrawal run submitted through the form (the
service's queue), followed, and read as each reader may see them. The tiny scenario with France
deploying all or nothing, 50/50 (as tests/api/test_analysis.py): HQ sees each fill probability
with its standard error and the tornado of withdrawal impact; the British and French planners
see bands only (a probability would reveal the other's unit counts) and only the withdrawals of
their own nation."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.harness import Service, build_service
from api.test_analysis import SYSTEM, uncertain_tiny
from coalition.scenario import store
from dashboard.test_i18n import _sign_in, visible_text
from dashboard.test_sustain_page import english_left


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    d = tmp_path_factory.mktemp("analysis-page")
    s = build_service(f"sqlite:///{d / 'coalition.db'}", d)
    with s.db() as db:
        store.create(db, scenario=uncertain_tiny("tiny-uncertain"), principal=SYSTEM,
                     make_default=True)
    yield s
    s.app.state.coalition.engine.dispose()


def _submit(c: TestClient, **form: str) -> tuple[int, str]:
    csrf = re.search(r'name="csrf" value="([^"]+)"', c.get("/analysis").text).group(1)
    resp = c.post("/analysis/run", data={"csrf": csrf, **form}, follow_redirects=False)
    if resp.status_code != 303:
        return resp.status_code, resp.text
    target = resp.headers["location"]
    run = int(target.rsplit("=", 1)[1])
    end = time.monotonic() + 120
    while time.monotonic() < end:
        page = c.get(target).text
        if 'data-testid="analysis-progress"' not in page:
            return run, page
        time.sleep(0.2)
    raise AssertionError(f"analysis {run} did not finish")


def _cells(html: str) -> list[str]:
    table = re.search(r'data-testid="mc-heatmap">(.*?)</table>', html, re.S).group(1)
    return [visible_text(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", table, re.S)]


def test_monte_carlo_heatmap_full_and_redacted(svc: Service) -> None:
    hq = _sign_in(svc, "hq-planner")
    run, page = _submit(hq, analysis="montecarlo", option="small", samples="16")
    api = svc.client("hq-planner").get(f"/api/analyses/{run}/result").json()
    assert api["redacted"] is False
    want = [f"{c['p']:.2f} ± {c['se']:.2f}" if c.get("p") is not None else "not needed"
            for ln in api["lines"] for _d, c in sorted(ln["by_day"].items(), key=lambda x: int(x[0]))]
    assert _cells(page) == want
    assert any(0 < c["p"] < 1 for ln in api["lines"] for c in ln["by_day"].values()
               if c.get("p") is not None), "France's 50/50 should leave a line uncertain"
    for reader in ("gbr-planner", "fra-planner"):
        other = _sign_in(svc, reader)
        mine = other.get(f"/analysis?job={run}").text
        cells = _cells(mine)
        assert len(cells) == len(want)
        assert not any("±" in c or re.search(r"\d\.\d\d", c) for c in cells), cells
        assert "filled in some worlds" in cells
        assert 'data-testid="withheld"' in mine
    fr = _sign_in(svc, "fra-planner", **{"Accept-Language": "fr"}).get(f"/analysis?job={run}")
    assert "pourvue dans certains mondes" in fr.text and "±" not in fr.text
    assert english_left(fr.text) == []
    hq_fr = _sign_in(svc, "hq-planner", **{"Accept-Language": "fr"}).get(f"/analysis?job={run}")
    assert "±" in hq_fr.text and english_left(hq_fr.text) == []


def test_withdrawal_tornado_full_and_redacted(svc: Service) -> None:
    hq = _sign_in(svc, "hq-planner")
    run, page = _submit(hq, analysis="withdrawal", option="small")
    api = svc.client("hq-planner").get(f"/api/analyses/{run}/result").json()
    rows = re.findall(r'<tr data-nation="([A-Z+ ]+)">\s*<th scope="row">[^<]+</th>\s*'
                      r'<td class="num">([^<]+)</td>', page)
    by_api = {" + ".join(r["nations"]): r["delta_essential_coverage_pct"] for r in api["n_1"]}
    assert [n for n, _v in rows] == sorted(by_api, key=lambda n: (by_api[n], n))
    assert {n for n, _v in rows} == {"GBR", "FRA"}
    assert [float(v.split()[0].replace("−", "-")) for _n, v in rows] == [
        round(by_api[n], 1) for n, _v in rows]
    gbr = _sign_in(svc, "gbr-planner").get(f"/analysis?job={run}").text
    assert re.findall(r'<tr data-nation="([^"]+)"', gbr) == ["GBR"]
    assert "points" not in visible_text(gbr.split('data-testid="tornado"')[1].split("</table>")[0])
    fr = _sign_in(svc, "hq-planner", **{"Accept-Language": "fr"}).get(f"/analysis?job={run}").text
    assert "Si une nation se retirait" in fr and english_left(fr) == []


def test_bad_input_comes_back_inline(svc: Service) -> None:
    hq = _sign_in(svc, "hq-planner")
    status, page = _submit(hq, analysis="montecarlo", option="small", samples="lots")
    assert status == 422 and 'data-testid="form-problem"' in page and "lots" in page
    status, page = _submit(hq, analysis="montecarlo", option="no-such-option", samples="5")
    assert status == 422 and "no-such-option" in page
    viewer = _sign_in(svc, "gbr-viewer")
    assert 'data-testid="analysis-form"' not in viewer.get("/analysis").text
