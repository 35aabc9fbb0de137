"""The API's routers, in the order they are mounted."""

from __future__ import annotations

from fastapi import APIRouter

from coalition.api.routers import audit, depots, gaps, health, ledger, plans, scenarios, sustain, users

ROUTERS: list[APIRouter] = [health.router, users.router, audit.router, scenarios.router, gaps.router, plans.router, depots.router, ledger.router, sustain.router]
from coalition.api.routers import analysis as _analysis; ROUTERS.append(_analysis.router)  # noqa: E402, E702 - one line per added router (merges)
