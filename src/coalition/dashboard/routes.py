"""Dashboard pages: server-rendered HTML over the same services and scoping as the API.

Every page resolves the signed-in principal from the session cookie and reads records only
through the same domain query functions as the API (scope by
:func:`coalition.auth.scope.restrict`, derived data by :mod:`coalition.planner.releasability`),
so the dashboard cannot show what the API would refuse; its reads of restricted detail are
audited like the API's. Forms that change state are POSTs with a CSRF token.

This module assembles the dashboard's router from the page modules (one per page family, over
what they share in :mod:`coalition.dashboard.page`) and holds the two handlers the app installs:
the sign-in redirect and the HTML error page.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from coalition.auth.schemas import Principal
from coalition.dashboard import (
    account,
    analysis_page,
    custody,
    depot_pages,
    gaps_page,
    inspector,
    logs_page,
    map_pages,
    placements,
    plan_page,
    plans,
    pledges,
    scenario_page,
    sustain_page,
)
from coalition.dashboard.page import NAV, TEMPLATES, _common
from coalition.dashboard.security import (
    LoginRequired,
)

router = APIRouter(include_in_schema=False)


def login_redirect(request: Request, exc: Exception) -> RedirectResponse:
    """The handler of :class:`LoginRequired` (Starlette types a handler as taking any exception):
    to the sign-in page, with the reason when there is one."""
    reason = exc.reason if isinstance(exc, LoginRequired) else ""
    target = "/login" + (f"?reason={reason}" if reason else "")
    return RedirectResponse(target.replace(" ", "+"), status_code=303)


def html_error(request: Request, status: int, message: str) -> HTMLResponse:
    principal: Principal | None = None
    return TEMPLATES.TemplateResponse(
        request,
        "error.html",
        {
            **_common(request),
            "nav": NAV,
            "active": "",
            "me": principal,
            "scenario_name": "",
            "illustrative": False,
            "status": status,
            "message": message,
        },
        status_code=status,
    )


_MOUNTED: list[bool] = []


def mount_pages() -> None:
    """Mount every page module's router on this router, in this order (once; the app calls it).
    The page modules import only :mod:`coalition.dashboard.page`, never this module, so any of
    them can be imported first."""
    if _MOUNTED:
        return
    for pages in (
        account,
        map_pages,
        gaps_page,
        plan_page,
        depot_pages,
        logs_page,
        pledges,
        plans,
        inspector,
        placements,
        scenario_page,
        sustain_page,
        analysis_page,
        custody,
    ):
        router.include_router(pages.router)
    _MOUNTED.append(True)
