"""The scenario page: the stored scenario and its revisions, an upload (YAML, JSON or XLSX)
validated with every problem located by file, row and field, then stored through the store's
one upload path (a new scenario, or an import into the stored one, each change checked), and
the download of the whole document for HQ.

The download is HQ's only: the document holds every nation's pledges, and a nation may see only
its own and those released to it. Revisions show who changed what kind of record and when; their
notes only for the reader's own nation (HQ sees all), since a note may name a restricted record.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from coalition.auth.rules import has_permission
from coalition.dashboard.context import PageCtx
from coalition.dashboard.i18n import request_lang
from coalition.dashboard.page import Page, render
from coalition.dashboard.security import check_csrf
from coalition.errors import ConflictError, InputError, PermissionDeniedError, Problem
from coalition.scenario import store

router = APIRouter(include_in_schema=False)
SUFFIXES = (".yaml", ".yml", ".json", ".xlsx")
Gettext = Callable[..., str]  # the reader's language: ``request_lang(request).gettext``
MEDIA = {"yaml": "application/yaml", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def newest_first(revisions: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Revisions (oldest first, as the history gives them) newest first, each with ``at``: its
    ``created_at`` as a datetime (None when the row has none)."""
    from datetime import datetime

    out = []
    for r in reversed(list(revisions)):
        at = r["created_at"]
        out.append({**r, "at": datetime.fromisoformat(at) if at else None})
    return out


def _revisions(ctx: PageCtx, sid: int, state: Any) -> list[dict[str, Any]]:
    """The revisions as the reader may see them (:func:`history.visible_revisions`), newest
    first."""
    from coalition.scenario.history import visible_revisions

    return newest_first(visible_revisions(ctx.db, ctx.principal, scenario_id=sid, state=state))


def _view(request: Request, ctx: PageCtx, status_code: int = 200, **data: Any) -> HTMLResponse:
    sid, head, state = store.current_state(ctx.db, ref=None, cache=ctx.state.scenarios)
    me = ctx.principal
    revs = _revisions(ctx, sid, state)[:50]
    return render(
        request,
        ctx,
        "scenario.html",
        "scenario",
        status_code=status_code,
        sc=state.scenario,
        scenario_id=sid,
        head=head,
        revisions=revs,
        may_upload=has_permission(me, "scenario.add"),
        may_download=me.is_hq,
        **{"problems": [], "warnings": [], "stored": None, **data},
    )


@router.get("/scenario")
def scenario_page(request: Request, ctx: Page) -> HTMLResponse:
    return _view(request, ctx)


def _located(p: Problem) -> dict[str, Any]:
    return {
        "file": p.file or "",
        "row": p.row,
        "field": p.field or "",
        "message": p.message,
        "hint": p.hint or "",
        "severity": p.severity,
    }


def refused_upload(name: str, size: int, limit: int, tr: Gettext) -> tuple[int, list[dict[str, Any]]] | None:
    """Why an uploaded file is not even read (status, located problems): not a .yaml, .yml,
    .json or .xlsx file (422), or more than ``limit`` bytes (413). None: it may be validated."""
    if Path(name).suffix.lower() not in SUFFIXES:
        message = tr("'%(name)s' is not a .yaml, .yml, .json or .xlsx file.", name=name)
        return 422, [_located(Problem(message, file=name, field="file"))]
    if size > limit:
        return 413, [_located(Problem(tr("The file is larger than %(n)s bytes.", n=limit), file=name, field="file"))]
    return None


def by_severity(problems: Iterable[Problem]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A validation report's problems, located: (errors, warnings)."""
    found = list(problems)
    return [_located(p) for p in found if p.severity == "error"], [_located(p) for p in found if p.severity != "error"]


def store_refusal(
    exc: ConflictError | PermissionDeniedError | InputError, name: str
) -> tuple[int, list[dict[str, Any]]]:
    """What the page shows when the store refuses a valid file: a stale revision or a change of
    another nation's record is 409, the rest 422; each problem located (in file ``name`` when
    the store gives only a message)."""
    found = getattr(exc, "problems", None) or [str(exc)]
    located = [_located(p) if isinstance(p, Problem) else _located(Problem(str(p), file=name)) for p in found]
    return (409 if isinstance(exc, ConflictError) else 422), located


@router.post("/scenario/upload")
async def upload(
    request: Request,
    ctx: Page,
    file: Annotated[UploadFile, File()],
    csrf: Annotated[str, Form(max_length=200)] = "",
    revision: Annotated[int, Form(ge=0, le=2**31 - 1)] = 0,
    store_it: Annotated[str, Form(alias="store", max_length=5)] = "",
) -> HTMLResponse:
    """Validate the file; with *store* ticked and no error, store it (If-Match: the revision
    the form was read at)."""
    from fastapi.concurrency import run_in_threadpool

    from coalition.scenario.service import validate_path

    check_csrf(request, csrf)
    name = Path(file.filename or "scenario.yaml").name
    limit = ctx.state.settings.max_upload_bytes
    data = await file.read(limit + 1)
    refused = refused_upload(name, len(data), limit, request_lang(request).gettext)
    if refused is not None:
        return _view(request, ctx, refused[0], problems=refused[1])

    def check() -> Any:
        with tempfile.TemporaryDirectory(prefix="coalition-upload-") as tmp:
            path = Path(tmp) / name
            path.write_bytes(data)
            return validate_path(path)

    report = await run_in_threadpool(check)
    problems, warnings = by_severity(report.problems)
    if problems or report.scenario is None or not store_it:
        return _view(
            request,
            ctx,
            422 if problems else 200,
            problems=problems,
            warnings=warnings,
            checked=name,
            valid=not problems,
        )
    if not has_permission(ctx.principal, "scenario.add"):
        raise PermissionDeniedError("uploading a scenario needs the planner role")

    def save() -> Any:
        return store.upload(
            ctx.db,
            scenario=report.scenario,
            principal=ctx.principal,
            expected_revision=revision or None,
            cache=ctx.state.scenarios,
            request_id=ctx.request_id,
        )

    try:
        row, rev, created = await run_in_threadpool(save)
    except (ConflictError, PermissionDeniedError, InputError) as exc:
        code, located = store_refusal(exc, name)
        return _view(request, ctx, code, problems=located, warnings=warnings, checked=name)
    return _view(
        request,
        ctx,
        stored={"key": row.key, "revision": rev, "created": created},
        warnings=warnings,
        checked=name,
        valid=True,
    )


@router.get("/scenario/download.{kind}")
def download(ctx: Page, kind: str) -> Response:
    from coalition.scenario.service import save_scenario_file
    from coalition.scenario.xlsx import export_workbook

    if not ctx.principal.is_hq:
        raise PermissionDeniedError("the whole document holds every nation's pledges: HQ only")
    if kind not in MEDIA:
        raise InputError([Problem(f"'{kind}' is not a download", hint="yaml or xlsx")])
    sid, rev, state = store.current_state(ctx.db, ref=None, cache=ctx.state.scenarios)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{state.scenario.id}-r{rev}.{kind}"
        (export_workbook if kind == "xlsx" else save_scenario_file)(state.scenario, path)
        body = path.read_bytes()
    ctx.audit("export", "scenario", str(sid), note=f"dashboard {kind}, revision {rev}")
    return Response(
        body, media_type=MEDIA[kind], headers={"Content-Disposition": f'attachment; filename="{path.name}"'}
    )


DIFF_ROWS = 500  # records shown per table (the rest counted: they are all the reader's to see)


def range_problems(head: int, from_: int, to: int, tr: Gettext) -> list[str]:
    """One problem for each end of a chosen revision range past the head (revisions are 1 to
    ``head``), naming the end (``from``, ``to``)."""
    return [
        tr("There is no revision %(n)s of this scenario (revisions are 1 to %(head)s).", n=rev, head=head)
        + f" ({name})"
        for name, rev in (("from", from_), ("to", to))
        if rev > head
    ]


@router.get("/scenario/diff")
def diff_page(
    request: Request,
    ctx: Page,
    from_: Annotated[int | None, Query(alias="from", ge=1, le=2**31 - 1)] = None,
    to: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> HTMLResponse:
    """The changes between any two revisions the reader chooses (default: the head's own)."""
    from coalition.scenario.revdiff import chosen_range, visible_diff

    sid, head, state = store.current_state(ctx.db, ref=None, cache=ctx.state.scenarios)
    from_, to = chosen_range(head, from_, to)
    problems = range_problems(head, from_, to, request_lang(request).gettext)
    result = None
    if not problems:
        result = visible_diff(
            ctx.db, ctx.principal, scenario_id=sid, from_revision=from_, to_revision=to, cache=ctx.state.scenarios
        )
        ctx.audit("view", "scenario", str(sid), note=f"dashboard diff r{from_}..r{to}")
    return render(
        request,
        ctx,
        "scenario_diff.html",
        "scenario",
        status_code=422 if problems else 200,
        sc=state.scenario,
        head=head,
        revisions=_revisions(ctx, sid, state),
        chosen={"from": from_, "to": to},
        diff=result,
        problems=problems,
        limit=DIFF_ROWS,
    )
