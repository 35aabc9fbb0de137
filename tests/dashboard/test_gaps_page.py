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
            "/api/gaps", params={"option": "small", "at": day, "assume": [f"ceasefire={day}"]})
        assert api.status_code == 200 and len(calls) == 1, calls
        assert _sign_in(sqlite_svc, "gbr-planner").get(
            f"/gaps?option=small&ceasefire={day}").status_code == 200
        assert len(calls) == 1
        # a reader with another view is never served GBR's cached picture: computed for it
        _sign_in(sqlite_svc, "fra-planner").get(f"/gaps?option=small&ceasefire={day}")
        assert len(calls) == 2 and calls[-1][1:] == ("small", day), calls
    finally:
        state.gaps_compute = pooled
