"""The inspector's page: accountability per donor (where each item is, what is delivered, the
delinquency report) and the bundle download for offline verification.

An HQ inspector chooses any donor; a national inspector sees only its own nation's items, as
in the API (``/api/reports/accountability``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from coalition.auth.rules import PUBLIC
from coalition.auth.scope import OutOfScope, restrict
from coalition.dashboard.context import PageCtx
from coalition.dashboard.page import Page, render
from coalition.dashboard.security import check_csrf
from coalition.errors import InputError, Problem

router = APIRouter(include_in_schema=False)
DONORS = ("GBR", "FRA", "DEU", "POL", "UKR", "USA", "ITA", "NLD", "CAN", "SWE")


def _donor(ctx: PageCtx, donor: str) -> str:
    principal = ctx.principal
    donor = (donor or ("" if principal.is_hq else principal.nation)).upper()
    if not donor:
        return ""
    if len(donor) != 3 or not donor.isalpha():
        raise InputError([Problem(f"'{donor}' is not a nation code", field="donor", hint="ISO alpha-3, e.g. GBR")])
    if not principal.is_hq and donor != principal.nation:
        raise OutOfScope(
            "accountability-report", donor, message=f"no accountability report of {donor} is released to you"
        )
    return donor


@router.get("/inspector")
def inspector_page(request: Request, ctx: Page, donor: Annotated[str, Query(max_length=3)] = "") -> HTMLResponse:
    from coalition.ledger.reports import donor_report

    restrict(ctx.principal, "report.view", lambda _r: PUBLIC)
    chosen = _donor(ctx, donor)
    report = None
    if chosen:
        report = donor_report(ctx.db, donor=chosen, as_of=datetime.now(UTC).date())
        ctx.audit("view", "accountability-report", chosen, note="dashboard")
    from coalition.auth.rules import has_permission

    return render(
        request,
        ctx,
        "inspector.html",
        "inspector",
        donor=chosen,
        report=report,
        donors=DONORS if ctx.principal.is_hq else (ctx.principal.nation,),
        may_export=has_permission(ctx.principal, "ledger.verify"),
    )


@router.post("/inspector/bundle")
def bundle(
    request: Request,
    ctx: Page,
    csrf: Annotated[str, Form(max_length=200)] = "",
    donor: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    """The bundle (zip) of the donor's custody chain; HQ may take the whole log."""
    from coalition.ledger.bundles import bundle_zip

    check_csrf(request, csrf)
    restrict(ctx.principal, "ledger.verify", lambda _r: PUBLIC)
    chosen = _donor(ctx, donor) or None
    data, meta = bundle_zip(ctx.db, ctx.state.settings, donor=chosen)
    ctx.audit(
        "export",
        "ledger-bundle",
        chosen or "all",
        after={k: meta.get(k) for k in ("size", "events", "donor") if k in meta},
        note="dashboard",
    )
    name = f"custody-bundle-{(chosen or 'all').lower()}.zip"
    return Response(
        data, media_type="application/zip", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
