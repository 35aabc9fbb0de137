"""Where the browser tests find Chromium, and what happens when it is missing.

Locally a missing Chromium skips the browser tests with a notice. CI sets
``COALITION_REQUIRE_BROWSER=1`` (in .ci/run), and then a missing Chromium is a failure, so the
journeys, axe and layout checks can never pass by not running.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"


def require_chromium() -> None:
    if Path(CHROMIUM).exists():
        return
    message = f"{CHROMIUM} missing (make test installs Debian's chromium)"
    if os.environ.get("COALITION_REQUIRE_BROWSER") == "1":
        pytest.fail(message + "; COALITION_REQUIRE_BROWSER=1 makes this a failure")
    pytest.skip(message)
