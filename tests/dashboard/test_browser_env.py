"""Browser tests can't pass in CI by not running: a missing Chromium fails there, skips locally."""

from __future__ import annotations

import pytest

from dashboard import browser_env


def test_missing_chromium_fails_when_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(browser_env, "CHROMIUM", "/nonexistent/chromium")
    monkeypatch.setenv("COALITION_REQUIRE_BROWSER", "1")
    with pytest.raises(pytest.fail.Exception, match="COALITION_REQUIRE_BROWSER=1"):
        browser_env.require_chromium()


def test_missing_chromium_skips_locally(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(browser_env, "CHROMIUM", "/nonexistent/chromium")
    monkeypatch.delenv("COALITION_REQUIRE_BROWSER", raising=False)
    with pytest.raises(pytest.skip.Exception):
        browser_env.require_chromium()


def test_ci_requires_the_browser() -> None:
    from pathlib import Path

    ci = (Path(__file__).resolve().parents[2] / ".ci" / "run").read_text(encoding="utf-8")
    assert "export COALITION_REQUIRE_BROWSER=1" in ci
