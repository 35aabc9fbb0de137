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

from api.factories import tiny_scenario
from api.harness import Service, build_service
from api.test_analysis import SYSTEM, uncertain_tiny
from coalition.analysis.jobs import MAX_SAMPLES, check_request
from coalition.dashboard.analysis_page import DEFAULT_FORM, KINDS, charts, line_labels, run_request
from coalition.dashboard.i18n import Lang
from coalition.errors import InputError
from coalition.scenario import store
from coalition.scenario.schemas import Requirement
from dashboard.test_i18n import _sign_in, visible_text
from dashboard.test_sustain_page import english_left


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    d = tmp_path_factory.mktemp("analysis-page")
    s = build_service(f"sqlite:///{d / 'coalition.db'}", d)
    with s.db() as db:
        store.create(db, scenario=uncertain_tiny("tiny-uncertain"), principal=SYSTEM, make_default=True)
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
    want = [
        f"{c['p']:.2f} ± {c['se']:.2f}" if c.get("p") is not None else "not needed"
        for ln in api["lines"]
        for _d, c in sorted(ln["by_day"].items(), key=lambda x: int(x[0]))
    ]
    assert _cells(page) == want
    assert any(0 < c["p"] < 1 for ln in api["lines"] for c in ln["by_day"].values() if c.get("p") is not None), (
        "France's 50/50 should leave a line uncertain"
    )
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
    rows = re.findall(
        r'<tr data-nation="([A-Z+ ]+)">\s*<th scope="row">[^<]+</th>\s*'
        r'<td class="num">([^<]+)</td>',
        page,
    )
    by_api = {" + ".join(r["nations"]): r["delta_essential_coverage_pct"] for r in api["n_1"]}
    assert [n for n, _v in rows] == sorted(by_api, key=lambda n: (by_api[n], n))
    assert {n for n, _v in rows} == {"GBR", "FRA"}
    assert [float(v.split()[0].replace("−", "-")) for _n, v in rows] == [round(by_api[n], 1) for n, _v in rows]
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


# --- the page's logic, called directly ------------------------------------------------------

EN, FR = Lang("en").gettext, Lang("fr").gettext


def _form(**fields: str) -> dict[str, str]:
    return {**DEFAULT_FORM, "option": "small", **fields}


def test_a_monte_carlo_form_is_the_services_request() -> None:
    req, problems = run_request(_form(samples="16", quick="on", other="parliament.GBR=true; x.y = 2"), EN)
    assert problems == [] and req is not None
    assert (req.analysis, req.option, req.samples, req.quick) == ("montecarlo", "small", 16, True)
    assert req.assumptions == ["parliament.GBR=true", "x.y=2"]  # split on ; or , and unspaced
    req, _p = run_request(_form(samples="3", quick=""), EN)
    assert req is not None and req.quick is False  # unticked: the planner, not the gap picture


def test_the_ceasefire_and_us_backstop_typed_in_the_box_are_kept() -> None:
    # the analysis form has no fields of its own for them: the box is where they are fixed
    other = "ceasefire=2026-06-01; us_backstop=false, parliament.GBR=true"
    for kind in KINDS:
        req, problems = run_request(_form(analysis=kind, other=other), EN)
        assert problems == [] and req is not None
        assert req.assumptions == ["ceasefire=2026-06-01", "us_backstop=false", "parliament.GBR=true"]
    req, _p = run_request(_form(other="ceasefire = 2026-06-01"), EN)
    assert req is not None and req.assumptions == ["ceasefire=2026-06-01"]
    check_request(uncertain_tiny("t"), req)  # the service takes it as a fixed assumption
    req, _p = run_request(_form(other="ceasefire=soon"), EN)
    assert req is not None
    with pytest.raises(InputError) as err:  # a bad value is the service's 422, not lost
        check_request(uncertain_tiny("t"), req)
    assert any("soon" in str(p) for p in err.value.problems), err.value.problems


def test_a_withdrawal_form_asks_for_the_single_withdrawals_only() -> None:
    req, problems = run_request(_form(analysis="withdrawal", samples="7"), EN)
    assert problems == [] and req is not None
    assert (req.analysis, req.pairs, req.shapley) == ("withdrawal", False, 0)
    assert req.samples == 200  # the worlds field is not a withdrawal run's: the service's default


def test_a_bad_kind_and_bad_worlds_are_both_reported_in_the_readers_language() -> None:
    req, problems = run_request(_form(analysis="hedge", samples="lots"), EN)
    assert req is None
    assert problems == [
        "Choose a Monte Carlo or a withdrawal analysis.",
        f"The number of worlds 'lots' must be a whole number from 1 to {MAX_SAMPLES}.",
    ]
    _req, problems = run_request(_form(samples="1.5"), FR)
    assert problems == [f"Le nombre de mondes « 1.5 » doit être un entier de 1 à {MAX_SAMPLES}."]


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"samples": "0"}, "samples"),
        ({"samples": str(MAX_SAMPLES + 1)}, "samples"),
        ({"option": "no such option"}, "option"),
        ({"other": "not-an-assumption"}, "assumptions.0"),
    ],
)
def test_the_requests_own_limits_come_back_located(fields: dict[str, str], where: str) -> None:
    req, problems = run_request(_form(**fields), EN)
    assert req is None and len(problems) == 1 and problems[0].startswith(f"{where}: "), problems


def test_each_line_is_labelled_by_its_capability_and_its_hub_or_region() -> None:
    sc = tiny_scenario()
    regional = Requirement(
        id="R3", option="small", capability="eng-coy", quantity=1, region="west", start_day=0, end_day=10
    )
    assert line_labels(sc, [*sc.requirements, regional]) == {
        "R1": "Infantry battalion · KYIV",
        "R2": "Infantry battalion · LVIV",
        "R3": "eng-coy · west",  # a capability the scenario does not name: its code
    }
    assert line_labels(sc, sc.requirements[1:]) == {"R2": "Infantry battalion · LVIV"}  # only those given


def test_a_result_gets_the_chart_of_its_kind() -> None:
    heat, bars = charts({"kind": "montecarlo", "lines": [{"line": "R1", "by_day": {"30": {"p": 0.5, "se": 0.1}}}]})
    assert bars is None and heat is not None and heat[0] == ["30"] and heat[1][0][0] == "R1"
    heat, bars = charts(
        {
            "kind": "withdrawal",
            "redacted": False,
            "n_1": [{"nations": ["FRA"], "lines_broken": ["R2"], "delta_essential_coverage_pct": -50.0}],
        }
    )
    assert heat is None and [b.label for b in bars] == ["FRA"]
    assert charts({"kind": "hedge"}) == (None, None)
