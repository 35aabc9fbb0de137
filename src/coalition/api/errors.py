"""One error shape for every 4xx/5xx answer of the API.

``{"error": {"status", "code", "message", "problems": [{file,row,field,message,hint,severity}],
"request_id"}}``. Domain exceptions of :mod:`coalition.errors` map to status codes here, so
routers never build error responses by hand. No traceback ever reaches a client.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from coalition.api.offload import WorkerTimeout
from coalition.api.ratelimit import RateLimited
from coalition.auth import schemas as auth_schemas
from coalition.auth.scope import OutOfScope
from coalition.auth.service import AuthenticationFailed
from coalition.errors import (
    ConflictError,
    InputError,
    IntegrityError,
    NotFoundError,
    PermissionDeniedError,
    Problem,
)

log = logging.getLogger("coalition.api")

CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}


class ProblemOut(BaseModel):
    file: str | None = None
    row: int | None = None
    field: str | None = None
    message: str
    hint: str | None = None
    severity: str = "error"


class ErrorDetail(BaseModel):
    status: int
    code: str
    message: str
    problems: list[ProblemOut] = []
    request_id: str


class ErrorBody(BaseModel):
    """The one error shape of the API."""

    error: ErrorDetail


#: Operations that cost real CPU (rate-limited per token; may answer 503 over the time limit).
EXPENSIVE: frozenset[tuple[str, str]] = frozenset(
    {
        ("post", "/api/scenarios"),
        ("post", "/api/scenarios/validate"),
        ("get", "/api/gaps"),
        ("post", "/api/plans"),
        ("post", "/api/analyses"),
    }
)


RETRY_AFTER = {"description": "seconds to wait before trying again", "schema": {"type": "integer", "minimum": 1}}


def document_errors(app: FastAPI) -> None:
    """Make the OpenAPI document tell the truth about errors: FastAPI's default 422 schema is
    replaced by :class:`ErrorBody`, and 401/403/404 answers are declared on every operation."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        spec = build()
        schemas = spec.setdefault("components", {}).setdefault("schemas", {})
        body = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(body.pop("$defs", {}))
        schemas["ErrorBody"] = body
        ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}}
        spec["components"].setdefault("securitySchemes", {})["bearer"] = {
            "type": "http",
            "scheme": "bearer",
            "description": "an API token: `coalition users token NAME` or POST /api/users/{name}/tokens",
        }
        for path, ops in spec.get("paths", {}).items():
            for method, op in ops.items():
                responses = op.setdefault("responses", {})
                if path.startswith("/api"):
                    op["security"] = [{"bearer": []}]
                    errors = [
                        ("401", "Not authenticated"),
                        ("403", "Not allowed"),
                        ("404", "Not found or outside your scope"),
                        ("422", "Invalid input (every problem, with its field)"),
                    ]
                    if method != "get":
                        errors.append(("409", "Conflicts with the current state"))
                    if (method, path) in EXPENSIVE:
                        errors += [
                            ("429", "Rate limit of this token reached (see Retry-After)"),
                            ("503", "CPU work over its time limit (see Retry-After)"),
                        ]
                    if "multipart/form-data" in str(op.get("requestBody", "")):
                        errors.append(("413", "Body larger than the upload limit"))
                    for code, text in errors:
                        responses[code] = {"description": text, **ref}
                        if code in ("429", "503"):
                            responses[code]["headers"] = {"Retry-After": RETRY_AFTER}
                elif "422" in responses:
                    responses["422"] = {"description": "Invalid input", **ref}
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
        app.openapi_schema = spec
        return spec

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's way to extend the schema


ANONYMOUS = auth_schemas.ANONYMOUS


def _write_denial(request: Request, entry: dict[str, Any]) -> None:
    from coalition.audit import service as audit
    from coalition.store.db import transaction

    principal = request.scope.get("coalition.principal") or ANONYMOUS
    with transaction(request.app.state.coalition.session_factory) as db:
        audit.append(db, principal=principal, request_id=request_id_of(request), change=audit.AuditChange(**entry))


async def record_denial(
    request: Request, status: int, reason: str, *, object_type: str = "", object_id: str = ""
) -> None:
    """Every denied attempt (401, 403, 404 on a real object) gets an audit entry of its own
    transaction: the request's own transaction is rolled back, the record of the attempt is
    not. A failure to write it is logged and never changes the answer."""
    from fastapi.concurrency import run_in_threadpool

    entry = {
        "action": f"denied-{status}",
        "object_type": object_type or "request",
        "object_id": object_id or f"{request.method} {request.url.path}"[:200],
        "note": reason[:500],
    }
    try:
        await run_in_threadpool(_write_denial, request, entry)
    except Exception:  # noqa: BLE001 - the denial stands whatever happens to its record
        log.exception("could not record a denied request in the audit log")


def request_id_of(request: Request) -> str:
    return getattr(request.state, "request_id", "") or request.scope.get("request_id", "")


def error_body(
    status: int,
    message: str,
    request_id: str,
    problems: list[dict[str, Any]] | None = None,
    code: str | None = None,
) -> dict[str, Any]:
    return {
        "error": {
            "status": status,
            "code": code or CODES.get(status, "error"),
            "message": message,
            "problems": problems or [],
            "request_id": request_id,
        }
    }


def _json_error(
    request: Request,
    status: int,
    message: str,
    problems: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    code: str | None = None,
) -> JSONResponse:
    return JSONResponse(
        error_body(status, message, request_id_of(request), problems, code),
        status_code=status,
        headers=headers,
    )


def _validation_problems(exc: RequestValidationError) -> list[dict[str, Any]]:
    problems = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        where = loc[0] if loc else None
        field = ".".join(loc[1:]) or None
        hint = None
        ctx = err.get("ctx") or {}
        if "expected" in ctx:
            hint = f"expected {ctx['expected']}"
        elif "pattern" in ctx:
            hint = f"must match {ctx['pattern']}"
        problems.append(Problem(message=err.get("msg", "invalid"), file=where, field=field, hint=hint).as_dict())
    return problems


API_PREFIXES = ("/api", "/health", "/openapi.json", "/docs", "/static")


def _html(request: Request) -> bool:
    """Dashboard pages answer errors with HTML; the API (and anything asking for JSON) with JSON."""
    path = request.url.path
    return not path.startswith(API_PREFIXES) and "text/html" in request.headers.get("accept", "")


class _Respond(Protocol):
    """The error answer of one request: HTML for a dashboard page, the JSON error shape otherwise."""

    def __call__(
        self,
        request: Request,
        status: int,
        message: str,
        problems: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        code: str | None = None,
    ) -> Response: ...


def _responder(html: Callable[[Request, int, str], Response] | None) -> _Respond:
    def error_response(
        request: Request,
        status: int,
        message: str,
        problems: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        code: str | None = None,
    ) -> Response:
        if html is not None and _html(request):
            text = message
            if problems and len(problems) > 1:
                text += ": " + "; ".join(p.get("message", "") for p in problems)
            return html(request, status, text)
        return _json_error(request, status, message, problems, headers, code)

    return error_response


def install(app: FastAPI, html: Callable[[Request, int, str], Response] | None = None) -> None:
    """The handlers of every exception a request can raise, each answering in the one error shape
    (or as an HTML page, through ``html``, for a dashboard page)."""
    error_response = _responder(html)
    _install_domain(app, error_response)
    _install_service(app, error_response)


def _install_domain(app: FastAPI, error_response: _Respond) -> None:
    """The domain exceptions of :mod:`coalition.errors` and the request's own validation."""

    @app.exception_handler(InputError)
    async def _input(request: Request, exc: InputError) -> Response:
        return error_response(
            request,
            422,
            str(exc.problems[0]) if len(exc.problems) == 1 else f"{len(exc.problems)} problems in the input",
            [p.as_dict() for p in exc.problems],
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        problems = _validation_problems(exc)
        message = (
            "malformed JSON body"
            if any(e.get("type") == "json_invalid" for e in exc.errors())
            else f"{len(problems)} problem(s) in the request"
        )
        return error_response(request, 422, message, problems)

    @app.exception_handler(AuthenticationFailed)
    async def _auth(request: Request, exc: AuthenticationFailed) -> Response:
        await record_denial(request, 401, str(exc))
        return error_response(
            request,
            401,
            f"authentication failed: {exc}",
            headers={"WWW-Authenticate": 'Bearer realm="coalition"'},
        )

    @app.exception_handler(PermissionDeniedError)
    async def _forbidden(request: Request, exc: PermissionDeniedError) -> Response:
        await record_denial(request, 403, str(exc))
        return error_response(request, 403, str(exc))

    @app.exception_handler(NotFoundError)
    async def _not_found(request: Request, exc: NotFoundError) -> Response:
        if isinstance(exc, OutOfScope):  # a real object outside the caller's scope
            await record_denial(request, 404, str(exc), object_type=exc.kind, object_id=exc.ident)
        return error_response(request, 404, str(exc))

    @app.exception_handler(ConflictError)
    async def _conflict(request: Request, exc: ConflictError) -> Response:
        response = error_response(request, 409, str(exc))
        details = getattr(exc, "details", None)  # e.g. a stale revision's current_revision
        if details and isinstance(response, JSONResponse):
            import json

            body = json.loads(bytes(response.body))
            body["error"].update(details)
            response = JSONResponse(body, status_code=409)
            if "current_revision" in details:
                response.headers["ETag"] = f'"{details["current_revision"]}"'
        return response

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> Response:
        return error_response(request, 409, str(exc), code="integrity_failure")


def _install_service(app: FastAPI, error_response: _Respond) -> None:
    """The service's own answers: limits, time-outs, HTTP errors and the unexpected (500)."""

    @app.exception_handler(RateLimited)
    async def _rate(request: Request, exc: RateLimited) -> Response:
        return error_response(request, 429, str(exc), headers={"Retry-After": str(exc.retry_after_s)})

    @app.exception_handler(WorkerTimeout)
    async def _timeout(request: Request, exc: WorkerTimeout) -> Response:
        return error_response(
            request, 503, str(exc), code="worker_timeout", headers={"Retry-After": str(exc.retry_after_s)}
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) else CODES.get(exc.status_code, "error")
        if exc.status_code == 400 and "parsing the body" in message:
            # FastAPI says 400 for a body it cannot decode (e.g. invalid UTF-8); the contract
            # is 422 for every malformed input.
            return error_response(
                request,
                422,
                "malformed body: not valid UTF-8 JSON",
                [Problem("the body cannot be decoded", file="body", hint="send UTF-8 encoded JSON").as_dict()],
            )
        if exc.status_code == 404 and message == "Not Found":
            message = f"no such endpoint: {request.method} {request.url.path}"
        return error_response(
            request, exc.status_code, message, headers=dict(exc.headers) if exc.headers is not None else None
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error (request %s)", request_id_of(request))
        return error_response(request, 500, "internal error; the request was rolled back. Quote the request id.")
