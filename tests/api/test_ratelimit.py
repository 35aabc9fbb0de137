"""Fair use: expensive operations are rate-limited per token (429 + Retry-After); other tokens
and cheap operations are not affected."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from api.harness import Service, build_service
from api.resources import assert_error
from coalition.api.ratelimit import RateLimited, RateLimiter


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    d = tmp_path_factory.mktemp("rl")
    s = build_service(f"sqlite:///{d / 'coalition.db'}", d, rate_limit_per_minute=1,
                      rate_limit_burst=3)
    yield s
    s.app.state.coalition.engine.dispose()


def test_expensive_requests_get_429_with_retry_after(limited: Service) -> None:
    c = limited.client("gbr-viewer")
    params = {"option": "small", "assume": ["ceasefire=2026-06-01"]}
    for _ in range(3):
        assert c.get("/api/gaps", params=params).status_code == 200
    resp = c.get("/api/gaps", params=params)
    err = assert_error(resp, 429)
    assert 1 <= int(resp.headers["retry-after"]) <= 60 and "rate limit" in err["message"]
    # cheap reads and other tokens are unaffected
    assert c.get("/api/hubs").status_code == 200
    assert c.get("/api/gaps", params={"option": "small"}).status_code == 200
    assert limited.client("fra-planner").get("/api/gaps", params=params).status_code == 200
    # uploads share the budget of the same token
    up = limited.client("fra-planner")
    for _ in range(2):
        up.post("/api/scenarios/validate", files={"file": ("x.yaml", b"id: x\n", "text/yaml")})
    assert_error(up.post("/api/scenarios/validate",
                         files={"file": ("x.yaml", b"id: x\n", "text/yaml")}), 429)


def test_bucket_refills_at_the_configured_rate() -> None:
    limiter = RateLimiter(per_minute=60, burst=2)
    limiter.take("t", now=0.0)
    limiter.take("t", now=0.0)
    with pytest.raises(RateLimited) as info:
        limiter.take("t", now=0.5)
    assert info.value.retry_after_s == 1
    limiter.take("t", now=1.5)  # one request a second comes back
    limiter.take("other", now=1.5)
    RateLimiter(per_minute=0, burst=1).take("t")  # 0 switches it off
