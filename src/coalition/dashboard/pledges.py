"""The pledges pages: a filtered list, one pledge's detail, and its changes (lifecycle moves,
releasability, content) through the scenario store's one edit path.

Every change is a POST with the CSRF token and the revision the form was read at (the form's
If-Match): the store refuses a stale one (409) and the page then shows what changed since, for
this pledge only (:mod:`coalition.scenario.changes`). Only the actions the reader's role, nation
and the lifecycle allow are offered; the store checks them again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from coalition.auth.rules import Marking, has_permission
from coalition.auth.schemas import Principal
from coalition.dashboard.context import PageCtx
from coalition.dashboard.i18n import request_lang
from coalition.dashboard.page import Page, _scope, _state, render
from coalition.dashboard.security import check_csrf
from coalition.errors import ConflictError, InputError, PermissionDeniedError
from coalition.scenario import rules, store
from coalition.scenario.changes import pledge_changes
from coalition.scenario.schemas import Pledge, PledgeState, Scenario

router = APIRouter(include_in_schema=False)
Gettext = Callable[..., str]  # the reader's language: ``request_lang(request).gettext``
EDITABLE = ("units", "personnel_per_unit", "notice_days", "tour_days", "condition")


def _key(p: Pledge) -> str:
    return p.id


@dataclass(frozen=True)
class PledgeFilters:
    """The list's filters as typed: nation (any case), capability, state, and condition
    (``conditional`` / ``unconditional``; any other value filters nothing). Empty: no filter."""

    nation: str = ""
    capability: str = ""
    state: str = ""
    condition: str = ""

    def keep(self, p: Pledge) -> bool:
        return (
            (not self.nation or p.nation == self.nation.upper())
            and (not self.capability or p.capability == self.capability)
            and (not self.state or p.state.value == self.state)
            and (self.condition != "conditional" or bool(p.condition))
            and (self.condition != "unconditional" or not p.condition)
        )

    def form(self) -> dict[str, str]:
        """The values the filter form shows again (the nation upper-cased)."""
        return {"nation": self.nation.upper(), "capability": self.capability, "state": self.state} | {
            "condition": self.condition
        }


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
    filters = PledgeFilters(nation=nation, capability=capability, state=state, condition=condition)
    shown = [p for p in visible if filters.keep(p)]
    ctx.audit_read("pledge", [p.id for p in shown], note=f"dashboard; scenario {sid}")
    return render(
        request,
        ctx,
        "pledges.html",
        "pledges",
        pledges=shown,
        total=len(visible),
        filters=filters.form(),
        nations=sorted({p.nation for p in visible}),
        caps=sorted({p.capability for p in visible}),
        states=[s.value for s in PledgeState],
        capabilities={c.code: c.name for c in sc.capabilities},
    )


@dataclass(frozen=True)
class Offers:
    """What the pledge page offers its reader: the lifecycle moves the role, the nation and the
    lifecycle allow, releasing (the originating nation only) and editing (the pledging nation,
    while the pledge is not withdrawn). The store checks each again when it is used."""

    moves: list[str]
    marking: Marking
    may_release: bool
    may_edit: bool


def offers(me: Principal, st: rules.ScenarioState, pledge: Pledge) -> Offers:
    moves = []
    if has_permission(me, "pledge.transition"):
        moves = [
            s.value
            for s in rules.allowed_next(pledge.state)
            if not rules.refusals(st, rules.TransitionPledge(pledge=pledge.id, to=s), me)
        ]
    marking = st.marking("pledge", pledge)
    may_release = has_permission(me, "pledge.release") and marking.origin == me.nation
    may_edit = (
        has_permission(me, "pledge.transition") and me.nation == pledge.nation and pledge.state != PledgeState.WITHDRAWN
    )
    return Offers(moves=moves, marking=marking, may_release=may_release, may_edit=may_edit)


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
    offered = offers(ctx.principal, st, pledge)
    values = {k: str(getattr(pledge, k)) for k in EDITABLE} | (form or {})
    caps = {c.code: c.name for c in st.scenario.capabilities}
    return render(
        request,
        ctx,
        "pledge.html",
        "pledges",
        status_code=status_code,
        pledge=pledge,
        marking=offered.marking,
        revision=rev,
        moves=offered.moves,
        may_release=offered.may_release,
        may_edit=offered.may_edit,
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
        code, problems = refusal(exc)
        return _detail(request, ctx, ident, status_code=code, problems=problems, form=form)
    return RedirectResponse(f"/pledges/{ident}?saved={result.revision}", status_code=303)


def refusal(exc: ConflictError | PermissionDeniedError | InputError) -> tuple[int, list[str]]:
    """The status and the problems the detail page shows for a change the store refused: bad
    input 422 (each problem), a lifecycle or ownership conflict 409, a role or nation 403."""
    problems = [str(p) for p in getattr(exc, "problems", None) or [exc]]
    code = 422 if isinstance(exc, InputError) else 409 if isinstance(exc, ConflictError) else 403
    return code, problems


def target_state(to: str, tr: Gettext) -> tuple[PledgeState | None, list[str]]:
    """The state a transition form asks for, or the problem with it (in the reader's language)."""
    try:
        return PledgeState(to), []
    except ValueError:
        return None, [tr("'%(value)s' is not a pledge state.", value=to)]


def release_codes(text: str, sc: Scenario, tr: Gettext) -> tuple[list[str], list[str]]:
    """The codes a release form lists (commas or spaces, any case), and one problem for each
    that is not a nation of the scenario, HQ or ALL."""
    codes = [c for c in text.replace(",", " ").upper().split() if c]
    known = {n.code for n in sc.nations} | {"HQ", "ALL"}
    bad = [c for c in codes if c not in known]
    return codes, [tr("'%(value)s' is not a nation of the scenario, HQ or ALL.", value=c) for c in bad]


def edited(current: Pledge, form: dict[str, str], tr: Gettext) -> tuple[Pledge | None, list[str]]:
    """``current`` with the edit form's fields as typed, validated as a pledge; or one located
    problem for each field that is not valid (nothing else of the pledge changes)."""
    from pydantic import ValidationError

    try:
        return Pledge.model_validate({**current.model_dump(), **form}), []
    except ValidationError as exc:
        return None, [
            tr("%(field)s: %(message)s", field=".".join(map(str, e["loc"])), message=e["msg"]) for e in exc.errors()
        ]


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
    target, problems = target_state(to, request_lang(request).gettext)
    if target is None:
        return _detail(request, ctx, ident, status_code=422, problems=problems)
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
    _sid, _rev, st = store.current_state(ctx.db, ref=None, cache=ctx.state.scenarios)
    codes, problems = release_codes(releasable_to, st.scenario, request_lang(request).gettext)
    if problems:
        return _detail(request, ctx, ident, status_code=422, form={"releasable_to": releasable_to}, problems=problems)
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
    check_csrf(request, csrf)
    form = asdict(fields)
    _sid, _rev, st = store.current_state(ctx.db, ref=None, cache=ctx.state.scenarios)
    current = _scope(ctx, "pledge.transition", st).get(st.scenario.pledges, _key, ident)
    updated, problems = edited(current, form, request_lang(request).gettext)
    if updated is None:
        return _detail(request, ctx, ident, status_code=422, problems=problems, form=form)
    return _change(
        request, ctx, ident, "pledge.transition", revision, rules.EditPledge(pledge=updated, note=note), form=form
    )
