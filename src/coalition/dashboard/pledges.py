"""The pledges pages: a filtered list, one pledge's detail, and its changes (lifecycle moves,
releasability, content) through the scenario store's one edit path.

Every change is a POST with the CSRF token and the revision the form was read at (the form's
If-Match): the store refuses a stale one (409) and the page then shows what changed since, for
this pledge only (:mod:`coalition.scenario.changes`). Only the actions the reader's role, nation
and the lifecycle allow are offered; the store checks them again.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from coalition.auth.rules import has_permission
from coalition.dashboard.context import PageCtx
from coalition.dashboard.i18n import request_lang
from coalition.dashboard.page import Page, _scope, _state, render
from coalition.dashboard.security import check_csrf
from coalition.errors import ConflictError, InputError, PermissionDeniedError
from coalition.scenario import rules, store
from coalition.scenario.changes import pledge_changes
from coalition.scenario.schemas import Pledge, PledgeState

router = APIRouter(include_in_schema=False)
EDITABLE = ("units", "personnel_per_unit", "notice_days", "tour_days", "condition")


def _key(p: Pledge) -> str:
    return p.id


@router.get("/pledges")
def pledges_page(
    request: Request,
    ctx: Page,
    nation: Annotated[str, Query(max_length=3)] = "",
    capability: Annotated[str, Query(max_length=64)] = "",
    state: Annotated[str, Query(max_length=16)] = "",
    condition: Annotated[str, Query(max_length=16)] = "",
) -> HTMLResponse:
    """The pledges the reader may see, filtered by nation, capability, state and condition
    (``conditional`` / ``unconditional``); the list is an audited read, like the API's."""
    sid, st = _state(ctx)
    sc = st.scenario
    visible = _scope(ctx, "pledge.view", st).filter(sc.pledges)

    def keep(p: Pledge) -> bool:
        return (
            (not nation or p.nation == nation.upper())
            and (not capability or p.capability == capability)
            and (not state or p.state.value == state)
            and (condition != "conditional" or bool(p.condition))
            and (condition != "unconditional" or not p.condition)
        )

    shown = [p for p in visible if keep(p)]
    ctx.audit_read("pledge", [p.id for p in shown], note=f"dashboard; scenario {sid}")
    return render(
        request,
        ctx,
        "pledges.html",
        "pledges",
        pledges=shown,
        total=len(visible),
        filters={"nation": nation.upper(), "capability": capability, "state": state, "condition": condition},
        nations=sorted({p.nation for p in visible}),
        caps=sorted({p.capability for p in visible}),
        states=[s.value for s in PledgeState],
        capabilities={c.code: c.name for c in sc.capabilities},
    )


def _detail(
    request: Request,
    ctx: PageCtx,
    ident: str,
    *,
    status_code: int = 200,
    problems: list[str] | None = None,
    conflict: Any = None,
    saved: int | None = None,
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    sid, rev, st = store.current_state(ctx.db, ref=None, cache=ctx.state.scenarios)
    scope = _scope(ctx, "pledge.view", st)
    pledge = scope.get(st.scenario.pledges, _key, ident)
    ctx.audit("view", "pledge", ident, note=f"dashboard; scenario {sid} revision {rev}")
    me = ctx.principal
    moves = []
    if has_permission(me, "pledge.transition"):
        moves = [
            s.value
            for s in rules.allowed_next(pledge.state)
            if not rules.refusals(st, rules.TransitionPledge(pledge=ident, to=s), me)
        ]
    marking = st.marking("pledge", pledge)
    may_release = has_permission(me, "pledge.release") and marking.origin == me.nation
    may_edit = (
        has_permission(me, "pledge.transition") and me.nation == pledge.nation and pledge.state != PledgeState.WITHDRAWN
    )
    values = {k: str(getattr(pledge, k)) for k in EDITABLE} | (form or {})
    caps = {c.code: c.name for c in st.scenario.capabilities}
    return render(
        request,
        ctx,
        "pledge.html",
        "pledges",
        status_code=status_code,
        pledge=pledge,
        marking=marking,
        revision=rev,
        moves=moves,
        may_release=may_release,
        may_edit=may_edit,
        problems=problems or [],
        conflict=conflict,
        saved=saved,
        values=values,
        capabilities=caps,
        next_states=[s.value for s in rules.allowed_next(pledge.state)],
    )


@router.get("/pledges/{ident}")
def pledge_page(
    request: Request, ctx: Page, ident: str, saved: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None
) -> HTMLResponse:
    return _detail(request, ctx, ident, saved=saved)


def _change(
    request: Request,
    ctx: PageCtx,
    ident: str,
    action: str,
    revision: int,
    change: Any,
    form: dict[str, str] | None = None,
) -> Response:
    """Scope (404/403), then the store's edit at the form's revision. A refusal or a conflict
    comes back on the detail page, with the input kept and, for a conflict, what changed."""
    sid, _rev, st = store.current_state(ctx.db, ref=None, cache=ctx.state.scenarios)
    _scope(ctx, action, st).get(st.scenario.pledges, _key, ident)
    try:
        result = store.edit(
            ctx.db,
            sid,
            revision,
            change,
            ctx.principal,
            cache=ctx.state.scenarios,
            request_id=ctx.request_id,
            note="dashboard",
        )
    except store.RevisionConflict:
        what = pledge_changes(ctx.db, scenario_id=sid, pledge_id=ident, since=revision, cache=ctx.state.scenarios)
        return _detail(request, ctx, ident, status_code=409, conflict=what, form=form)
    except (ConflictError, PermissionDeniedError, InputError) as exc:
        problems = [str(p) for p in getattr(exc, "problems", None) or [exc]]
        code = 422 if isinstance(exc, InputError) else 409 if isinstance(exc, ConflictError) else 403
        return _detail(request, ctx, ident, status_code=code, problems=problems, form=form)
    return RedirectResponse(f"/pledges/{ident}?saved={result.revision}", status_code=303)


Revision = Annotated[int, Form(ge=1, le=2**31 - 1)]
Csrf = Annotated[str, Form(max_length=200)]
Note = Annotated[str, Form(max_length=1000)]


@router.post("/pledges/{ident}/transition")
def transition(
    request: Request,
    ctx: Page,
    ident: str,
    revision: Revision,
    to: Annotated[str, Form(max_length=16)],
    csrf: Csrf = "",
    note: Note = "",
) -> Response:
    check_csrf(request, csrf)
    try:
        target = PledgeState(to)
    except ValueError:
        return _detail(
            request,
            ctx,
            ident,
            status_code=422,
            problems=[request_lang(request).gettext("'%(value)s' is not a pledge state.", value=to)],
        )
    return _change(
        request, ctx, ident, "pledge.transition", revision, rules.TransitionPledge(pledge=ident, to=target, note=note)
    )


@router.post("/pledges/{ident}/release")
def release(
    request: Request,
    ctx: Page,
    ident: str,
    revision: Revision,
    releasable_to: Annotated[str, Form(max_length=400)] = "",
    csrf: Csrf = "",
) -> Response:
    check_csrf(request, csrf)
    codes = [c for c in releasable_to.replace(",", " ").upper().split() if c]
    _sid, _rev, st = store.current_state(ctx.db, ref=None, cache=ctx.state.scenarios)
    known = {n.code for n in st.scenario.nations} | {"HQ", "ALL"}
    bad = [c for c in codes if c not in known]
    if bad:
        return _detail(
            request,
            ctx,
            ident,
            status_code=422,
            form={"releasable_to": releasable_to},
            problems=[
                request_lang(request).gettext("'%(value)s' is not a nation of the scenario, HQ or ALL.", value=c)
                for c in bad
            ],
        )
    return _change(
        request,
        ctx,
        ident,
        "pledge.release",
        revision,
        rules.SetReleasability(object_kind="pledge", object_id=ident, releasable_to=tuple(codes)),
        form={"releasable_to": releasable_to},
    )


@dataclass(frozen=True)
class PledgeEdit:
    """The edit form's fields (the :data:`EDITABLE` ones), as the user typed them."""

    units: Annotated[str, Form(max_length=12)] = ""
    personnel_per_unit: Annotated[str, Form(max_length=12)] = ""
    notice_days: Annotated[str, Form(max_length=12)] = ""
    tour_days: Annotated[str, Form(max_length=12)] = ""
    condition: Annotated[str, Form(max_length=400)] = ""


@router.post("/pledges/{ident}/edit")
def edit(
    request: Request,
    ctx: Page,
    ident: str,
    revision: Revision,
    fields: Annotated[PledgeEdit, Depends()],
    csrf: Csrf = "",
    note: Note = "",
) -> Response:
    """Change the pledge's numbers or condition; the rest of the pledge stays as it is."""
    from pydantic import ValidationError

    check_csrf(request, csrf)
    form = asdict(fields)
    _sid, _rev, st = store.current_state(ctx.db, ref=None, cache=ctx.state.scenarios)
    current = _scope(ctx, "pledge.transition", st).get(st.scenario.pledges, _key, ident)
    tr = request_lang(request).gettext
    try:
        updated = Pledge.model_validate({**current.model_dump(), **form})
    except ValidationError as exc:
        problems = [
            tr("%(field)s: %(message)s", field=".".join(map(str, e["loc"])), message=e["msg"]) for e in exc.errors()
        ]
        return _detail(request, ctx, ident, status_code=422, problems=problems, form=form)
    return _change(
        request, ctx, ident, "pledge.transition", revision, rules.EditPledge(pledge=updated, note=note), form=form
    )
