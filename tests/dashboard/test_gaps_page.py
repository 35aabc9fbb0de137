"""The /gaps page computes a missing gap picture where the API does (the app's CPU pool, its
time limit), not on the request's thread, and into the same cache: the API then answers the same
question of the same reader without computing it again."""

from __future__ import annotations

import random
from typing import Any

from api.harness import Service, sqlite_svc  # noqa: F401 - fixtures
from dashboard.test_i18n import _sign_in


def test_gaps_page_misses_go_to_the_pool_and_feed_the_apis_cache(sqlite_svc: Service) -> None:  # noqa: F811
    import threading

    state = sqlite_svc.app.state.coalition  # type: ignore[attr-defined]
    pooled = state.gaps_compute
    assert pooled is not None  # the app computes misses in its pool
    calls: list[tuple[Any, ...]] = []

    def spy(*args: Any) -> bytes:
        calls.append((threading.current_thread().name, args[2], args[3]))
        return pooled(*args)

    state.gaps_compute = spy
    try:
        day = f"2027-{random.randint(1, 12):02d}-{random.randint(1, 28):02d}"  # a fresh question
        page = _sign_in(sqlite_svc, "gbr-planner").get(f"/gaps?option=small&ceasefire={day}")
        assert page.status_code == 200 and 'data-testid="heatmap"' in page.text
        assert len(calls) == 1, calls  # computed once, through the app's compute
        # the same question through the API (the page asks at the ceasefire date): a cache hit
        api = sqlite_svc.client("gbr-planner").get(
            "/api/gaps", params={"option": "small", "at": day, "assume": [f"ceasefire={day}"]}
        )
        assert api.status_code == 200 and len(calls) == 1, calls
        assert _sign_in(sqlite_svc, "gbr-planner").get(f"/gaps?option=small&ceasefire={day}").status_code == 200
        assert len(calls) == 1
        # a reader with another view is never served GBR's cached picture: computed for it
        _sign_in(sqlite_svc, "fra-planner").get(f"/gaps?option=small&ceasefire={day}")
        assert len(calls) == 2 and calls[-1][1:] == ("small", day), calls
    finally:
        state.gaps_compute = pooled


def test_ceasefire_or_backstop_in_the_other_box_is_refused_inline_not_dropped(sqlite_svc: Service) -> None:  # noqa: F811
    import re

    c = _sign_in(sqlite_svc, "hq-planner")
    before = sqlite_svc.client("hq-planner").get("/api/plans").json()["total"]
    csrf = re.search(r'name="csrf" value="([^"]+)"', c.get("/plan").text).group(1)
    typed = "ceasefire=2026-06-01, parliament.GBR=true; us_backstop=false"
    resp = c.post("/plan/run", data={"csrf": csrf, "option": "small", "other": typed}, follow_redirects=False)
    assert resp.status_code == 422
    assert "set it with the &#39;ceasefire (C-day)&#39; field instead" in resp.text
    assert "&#39;us_backstop=false&#39; in the other assumptions" in resp.text
    assert f'value="{typed}"' in resp.text  # the box comes back as typed
    assert sqlite_svc.client("hq-planner").get("/api/plans").json()["total"] == before  # nothing queued
    page = c.get("/gaps", params={"option": "small", "other": "us_backstop=true"}).text
    assert "set it with the &#39;US backstop&#39; field instead" in page
    fr = _sign_in(sqlite_svc, "hq-planner", **{"Accept-Language": "fr"})
    page = fr.get("/gaps", params={"option": "small", "other": "ceasefire=2026-06-01"}).text
    assert "dans le champ « cessez-le-feu (jour C) »" in page
