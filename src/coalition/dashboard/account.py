"""Dashboard pages of the signed-in person: sign-in and sign-out (CSRF-checked POSTs, audited) and
their API tokens."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from coalition.auth.service import AuditChange, AuthenticationFailed, record_audit
from coalition.dashboard.context import Db
from coalition.dashboard.i18n import request_lang
from coalition.dashboard.page import Page, render
from coalition.dashboard.security import (
    check_csrf,
    sign_in,
    sign_out,
)

router = APIRouter(include_in_schema=False)


@router.get("/favicon.ico")
def favicon() -> FileResponse:
    return FileResponse(Path(__file__).resolve().parent / "static" / "favicon.svg", media_type="image/svg+xml")


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/map", status_code=303)


@router.get("/login")
def login_page(request: Request, reason: str = "") -> HTMLResponse:
    return render(request, None, "login.html", reason=reason[:100])


@router.post("/login")
def login(
    request: Request,
    db: Db,
    token: Annotated[str, Form(max_length=300)] = "",
    csrf: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    check_csrf(request, csrf)
    try:
        principal = sign_in(request, db, token)
    except AuthenticationFailed as exc:
        from coalition.auth.schemas import ANONYMOUS

        record_audit(
            db,
            principal=ANONYMOUS,
            request_id=request.scope.get("request_id", ""),
            change=AuditChange(
                action="sign-in-failed", object_type="session", object_id="dashboard", note=str(exc)[:200]
            ),
        )
        return render(
            request,
            None,
            "login.html",
            status_code=401,
            error=request_lang(request).gettext("Sign-in failed: %(why)s.", why=str(exc)),
        )
    record_audit(
        db,
        principal=principal,
        request_id=request.scope.get("request_id", ""),
        change=AuditChange(
            action="sign-in", object_type="session", object_id=str(principal.token_id), note="dashboard"
        ),
    )
    return RedirectResponse("/map", status_code=303)


@router.post("/logout")
def logout(request: Request, db: Db, csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    check_csrf(request, csrf)
    sign_out(request, db)
    return RedirectResponse("/login", status_code=303)


@router.get("/tokens")
def tokens_page(request: Request, ctx: Page) -> HTMLResponse:
    """The signed-in user's own tokens (admins manage others' through the API or the CLI)."""
    from coalition.auth import service as auth_service
    from coalition.auth.schemas import TokenOut

    user = auth_service.get_user(ctx.db, name=ctx.principal.name)
    rows = [TokenOut.model_validate(t).model_dump(mode="json") for t in auth_service.list_tokens(ctx.db, user=user)]
    return render(request, ctx, "tokens.html", "", tokens=rows, current=ctx.principal.token_id)


@router.post("/tokens/{token_id}/revoke")
def revoke_token_page(
    request: Request, ctx: Page, token_id: int, csrf: Annotated[str, Form(max_length=200)] = ""
) -> Response:
    from coalition.auth import service as auth_service
    from coalition.auth.schemas import TokenOut
    from coalition.auth.tokens import descendants

    check_csrf(request, csrf)
    user = auth_service.get_user(ctx.db, name=ctx.principal.name)
    token = auth_service.revoke_token(ctx.db, user=user, token_id=token_id)
    ctx.audit(
        "revoke-token",
        "user",
        user.name,
        after={**TokenOut.model_validate(token).model_dump(mode="json"), "descendants": descendants(ctx.db, token_id)},
        note="dashboard",
    )
    return RedirectResponse("/tokens", status_code=303)
