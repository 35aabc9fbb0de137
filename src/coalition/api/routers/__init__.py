"""The API's routers, in the order they are mounted."""

from __future__ import annotations

from fastapi import APIRouter

from coalition.api.routers import (
    analysis,
    audit,
    depots,
    gaps,
    health,
    ledger,
    plans,
    scenarios,
    sustain,
    users,
)

# one line per router (a merge that adds one touches one line)
ROUTERS: list[APIRouter] = [
    health.router,
    users.router,
    audit.router,
    scenarios.router,
    gaps.router,
    plans.router,
    depots.router,
    ledger.router,
    sustain.router,
    analysis.router,
]
