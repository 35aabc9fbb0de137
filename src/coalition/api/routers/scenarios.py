"""Scenarios (upload, validate, list) and the records of the current scenario.

Every scenario record type is served by one generic list/get pair built from a declaration
(:data:`RESOURCES`); pledges add lifecycle transitions and releasability. Upload and validation
call the scenario package's ``validate_path``/``load_scenario``, the same as ``coalition validate``.
"""

# No "from __future__ import annotations": the generic routes are closures whose annotations
# FastAPI must see as objects, not strings.

import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path as FsPath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Header, Path, Query, Response, UploadFile, status
from pydantic import BaseModel, ConfigDict, Field

from coalition.api import offload
from coalition.api.contract import check_nations
from coalition.api.deps import Context, Paging, page
from coalition.api.responses import (
    AssumptionSetPut,
    MarkingOut,
    Page,
    PledgeReleaseOut,
    RevisionDiffOut,
    RevisionOut,
    ScenarioSummary,
    UploadOut,
    ValidationOut,
)
from coalition.api.routers.common import (
    ScenarioRef,
    StateCache,
    apply_filters,
    current_state,
    dump,
    etag,
    parse_if_match,
    state_scope,
)
from coalition.auth.rules import PUBLIC, Marking
from coalition.auth.scope import restrict
from coalition.errors import InputError, Problem
from coalition.scenario import store
from coalition.scenario.history import visible_revisions
from coalition.scenario.models import StoredScenario
from coalition.scenario.rules import (
    EditPledge,
    ScenarioState,
    SetAssumptions,
    SetReleasability,
    TransitionPledge,
    allowed_next,
)
from coalition.scenario.schemas import ContactLine, Pledge, PledgeState

router = APIRouter(prefix="/api", tags=["scenario"])


def IdPath() -> Any:  # a fresh FieldInfo per parameter (FastAPI binds it to one name)
    return Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", max_length=64)


UPLOAD_SUFFIXES = (".yaml", ".yml", ".json")
IfMatch = Annotated[
    str | None,
    Header(
        max_length=40,
        description='the ETag of the revision the change is based on, e.g. "3"; '
        "a stale one is 409 with current_revision",
    ),
]


# ---------------------------------------------------------------------------------------------
# Scenarios
# ---------------------------------------------------------------------------------------------


def _scenario_summary(ctx: Context, row: StoredScenario) -> dict[str, Any]:
    state = store.state_at(ctx.db, scenario_id=row.id, revision=row.head, cache=ctx.state.scenarios)
    sc = state.scenario
    return {
        "id": row.id,
        "key": row.key,
        "name": row.name,
        "revision": row.head,
        "default": row.is_default,
        "illustrative": sc.illustrative,
        "origin": row.origin,
        "uploaded_by": row.created_by,
        "created_at": row.created_at.isoformat() if row.created_at else None,
        "counts": {
            k: len(getattr(sc, k))
            for k in ("nations", "instruments", "pledges", "requirements", "hubs", "force_options")
        },
        "attribution": list(sc.attribution),
        "assumption_sets": {
            s.name: {"owner": s.owner, "assumptions": list(s.assumptions)} for s in state.assumption_sets.values()
        },
    }


def _scenario_marking(row: StoredScenario) -> Marking:
    return Marking(origin=row.origin, releasable_to=PUBLIC.releasable_to)


@router.get("/scenarios", summary="Stored scenarios", response_model=Page[ScenarioSummary])
def list_scenarios(ctx: Context, paging: Paging) -> Response:
    restrict(ctx.principal, "scenario.view", _scenario_marking)  # every scenario is public
    rows, total = store.list_stored(ctx.db, offset=paging.offset, limit=paging.limit)
    from fastapi.responses import JSONResponse

    return JSONResponse(
        {
            "items": [_scenario_summary(ctx, r) for r in rows],
            "total": total,
            "offset": paging.offset,
            "limit": paging.limit,
        }
    )


@router.get(
    "/scenarios/{ref}", summary="One stored scenario (summary); ETag: its revision", response_model=ScenarioSummary
)
def get_scenario(ctx: Context, response: Response, ref: str = IdPath()) -> dict[str, Any]:
    scope = restrict(ctx.principal, "scenario.view", _scenario_marking)
    row = scope.check(store.get_stored(ctx.db, ref=ref), ref)
    response.headers["ETag"] = etag(row.head)
    return _scenario_summary(ctx, row)


@router.get(
    "/scenarios/{ref}/revisions", summary="The revisions of a stored scenario", response_model=Page[RevisionOut]
)
def list_revisions(ctx: Context, paging: Paging, ref: str = IdPath()) -> Response:
    scope = restrict(ctx.principal, "scenario.view", _scenario_marking)
    row = scope.check(store.get_stored(ctx.db, ref=ref), ref)
    state = store.state_at(ctx.db, scenario_id=row.id, revision=row.head, cache=ctx.state.scenarios)
    # edit notes obey the releasability of what they are about (scenario.history)
    items = visible_revisions(ctx.db, ctx.principal, scenario_id=row.id, state=state)
    return page(items, paging)


@router.get(
    "/scenarios/{ref}/diff",
    summary="The changes between any two revisions of a stored scenario, as you may see them (audited read)",
    response_model=RevisionDiffOut,
)
def revision_diff(
    ctx: Context,
    ref: str = IdPath(),
    from_: Annotated[
        int | None,
        Query(
            alias="from", ge=1, le=2**31 - 1, description=("the revision compared from (default: the one before 'to')")
        ),
    ] = None,
    to: Annotated[
        int | None,
        Query(ge=1, le=2**31 - 1, description=("the revision compared to (default: the head); either order")),
    ] = None,
) -> dict[str, Any]:
    """Per table, each record added, removed or changed, with every changed field before and
    after (:func:`coalition.scenario.revdiff.visible_diff`, as the dashboard's
    ``/scenario/diff`` and ``coalition scenario diff``). A restricted record appears only if
    you may see it under the markings of both revisions and the head; otherwise it is left
    out with no row, count or field name (``partial`` says so whatever changed). An unknown
    scenario, or a revision it does not have, is 404."""
    from coalition.scenario.revdiff import chosen_range, diff_json, visible_diff

    scope = restrict(ctx.principal, "scenario.view", _scenario_marking)
    row = scope.check(store.get_stored(ctx.db, ref=ref), ref)
    a, b = chosen_range(row.head, from_, to)
    result = visible_diff(
        ctx.db, ctx.principal, scenario_id=row.id, from_revision=a, to_revision=b, cache=ctx.state.scenarios
    )
    ctx.audit("view", "scenario", str(row.id), note=f"API diff r{a}..r{b}")
    return diff_json(result)


@router.post(
    "/scenarios/{ref}/default",
    summary="Make a stored scenario the coalition default (HQ admins only; audited)",
    response_model=ScenarioSummary,
)
def make_default(ctx: Context, response: Response, ref: str = IdPath()) -> dict[str, Any]:
    restrict(ctx.principal, "scenario.default", _scenario_marking)
    sid, _rev = store.scenario_header(ctx.db, ref=ref)
    row = store.set_default(ctx.db, scenario_id=sid, principal=ctx.principal, request_id=ctx.request_id)
    ctx.audited.append(-1)
    response.headers["ETag"] = etag(row.head)
    return _scenario_summary(ctx, row)


async def _read_upload(file: UploadFile, limit: int) -> tuple[str, bytes]:
    name = FsPath(file.filename or "scenario.yaml").name
    suffix = FsPath(name).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise InputError(
            [
                Problem(
                    f"unsupported file type '{suffix or name}'",
                    file=name,
                    field="file",
                    hint="upload one .yaml, .yml or .json file",
                )
            ]
        )
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise InputError([Problem(f"file larger than {limit} bytes", file=name, field="file")])
    return name, data


@router.post("/scenarios/validate", summary="Validate a scenario file without storing it", response_model=ValidationOut)
async def validate_scenario(
    ctx: Context, file: Annotated[UploadFile, File(description="one .yaml/.json scenario")]
) -> dict[str, Any]:
    restrict(ctx.principal, "scenario.view", _scenario_marking)
    name, data = await _read_upload(file, ctx.state.settings.max_upload_bytes)
    report = await offload.validate_bytes(ctx.state, name, data, keep_document=False)
    return {
        "ok": report.ok,
        "scenario": report.scenario.id if report.scenario else None,
        "problems": [p.as_dict() for p in report.problems],
    }


@router.post(
    "/scenarios",
    status_code=status.HTTP_201_CREATED,
    summary="Upload a scenario file: a new scenario, or (same id as a stored one) an "
    "import into it, diffed and checked change by change (If-Match required)",
    response_model=UploadOut,
    responses={200: {"model": UploadOut, "description": "an import into a stored scenario"}},
)
async def upload_scenario(
    ctx: Context,
    response: Response,
    file: Annotated[UploadFile, File(description="one .yaml/.json scenario")],
    if_match: IfMatch = None,
    make_default: Annotated[
        bool, Query(description="also make it the default (HQ admins only; same as POST …/default)")
    ] = False,
) -> dict[str, Any]:
    restrict(ctx.principal, "scenario.add", _scenario_marking)
    name, data = await _read_upload(file, ctx.state.settings.max_upload_bytes)
    report = await offload.validate_bytes(ctx.state, name, data)  # off the event loop
    if not report.ok or report.scenario is None:
        raise InputError(report.errors or report.problems)
    return await _run(ctx, response, report.scenario, if_match, make_default)


async def _run(
    ctx: Context, response: Response, scenario: Any, if_match: str | None, make_default: bool
) -> dict[str, Any]:
    from fastapi.concurrency import run_in_threadpool

    def work() -> dict[str, Any]:
        expected = parse_if_match(if_match, 0)
        row, revision, created = store.upload(
            ctx.db,
            scenario=scenario,
            principal=ctx.principal,
            expected_revision=expected,
            cache=ctx.state.scenarios,
            request_id=ctx.request_id,
        )
        if make_default:
            store.set_default(ctx.db, scenario_id=row.id, principal=ctx.principal, request_id=ctx.request_id)
        ctx.audited.append(-1)
        response.headers["ETag"] = etag(revision)
        if not created:
            response.status_code = status.HTTP_200_OK
        return {**_scenario_summary(ctx, row), "created": created}

    return await run_in_threadpool(work)


# ---------------------------------------------------------------------------------------------
# Generic read resources over the current scenario
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Resource:
    kind: str  # scoping kind, e.g. "hub"
    path: str  # URL segment, e.g. "hubs"
    attr: str  # Scenario attribute
    key: str  # id field
    filters: tuple[str, ...] = ()
    sensitive: bool = False  # reading one record's detail is audited
    nation_filters: tuple[str, ...] = ()  # filters holding a nation code of the scenario


RESOURCES: tuple[Resource, ...] = (
    Resource("nation", "nations", "nations", "code", ("role", "groups")),
    Resource("instrument", "instruments", "instruments", "id", ("kind", "parties")),
    Resource("capability", "capabilities", "capabilities", "code", ("domain",)),
    Resource("force-option", "force-options", "force_options", "id"),
    Resource("requirement", "requirements", "requirements", "id", ("option", "capability", "hub", "priority")),
    Resource("hub", "hubs", "hubs", "id", ("country", "kind", "region")),
    Resource("rear-node", "rear-nodes", "rear_nodes", "id", ("country", "kind")),
    Resource("corridor", "corridors", "corridors", "id", ("rear_node", "hub", "mode")),
    Resource(
        "pledge",
        "pledges",
        "pledges",
        "id",
        ("nation", "capability", "state"),
        sensitive=True,
        nation_filters=("nation",),
    ),
)


def _filter_dependency(res: Resource) -> Any:
    """A dependency whose signature declares one optional query parameter per filter, so the
    filters appear in the OpenAPI document (FastAPI reads ``__signature__``)."""

    async def filters(**values: str | None) -> dict[str, str]:  # async: no thread hop
        return {k: v for k, v in values.items() if v is not None}

    filters.__signature__ = inspect.Signature(  # type: ignore[attr-defined]  # FastAPI reads it; typeshed has none
        [
            inspect.Parameter(
                name,
                inspect.Parameter.KEYWORD_ONLY,
                annotation=str | None,
                default=Query(None, max_length=64, description=f"only this {name}"),
            )
            for name in res.filters
        ]
    )
    return filters


class PledgeOut(Pledge):
    """A pledge as one read shows it: with its marking and the lifecycle steps open to it."""

    marking: MarkingOut
    next_states: list[str]


class PledgeWritten(Pledge):
    revision: int


def record_model(res: Resource) -> Any:
    """The domain model of a resource's records (``Scenario.<attr>: tuple[Model, ...]``)."""
    import typing

    from coalition.scenario.schemas import Scenario

    return typing.get_args(Scenario.model_fields[res.attr].annotation)[0]


LIST_PAGES = StateCache()


def _make_routes(res: Resource) -> None:
    filter_dep = _filter_dependency(res)
    key = res.key

    def keyf(record: Any) -> str:
        return str(getattr(record, key))

    def list_records(
        ctx: Context,
        paging: Paging,
        filters: Annotated[dict[str, str], Depends(filter_dep)],
        scenario: ScenarioRef = None,
    ) -> Response:
        sid, rev, state = current_state(ctx, scenario)
        sc = state.scenario
        for name in res.nation_filters:
            check_nations([filters[name]] if name in filters else [], sc, field=name, indexed=False, file="query")
        # The encoded page, cached per revision state and everything the answer depends on:
        # the reader's scope (nation and roles decide it), the filters and the page.
        who = ctx.principal
        key = (res.kind, who.nation, who.roles, tuple(sorted(filters.items())), paging.offset, paging.limit)
        hit = LIST_PAGES.get(state, key)
        if hit is None:
            scope = state_scope(ctx, f"{res.kind}.view", state)
            records = apply_filters(scope.filter(getattr(sc, res.attr)), filters)
            dumped = ctx.state.scenarios.dumps(sc, res.attr)
            shown = records[paging.offset : paging.offset + paging.limit]
            hit = (
                json.dumps(
                    {
                        "items": [dumped[id(r)] for r in shown],
                        "total": len(records),
                        "offset": paging.offset,
                        "limit": paging.limit,
                    },
                    ensure_ascii=False,
                    allow_nan=False,
                    separators=(",", ":"),
                ).encode("utf-8"),
                [keyf(r) for r in shown],
            )
            LIST_PAGES.put(state, key, hit)
        body, shown_ids = hit
        if res.sensitive:  # a list shows what a single read shows: audited alike
            ctx.audit_read(res.kind, shown_ids, note=f"scenario {sid} revision {rev}")
        return Response(body, media_type="application/json")

    def get_record(ctx: Context, response: Response, ident: str = IdPath(), scenario: ScenarioRef = None) -> Any:
        sid, rev, state = current_state(ctx, scenario)
        scope = state_scope(ctx, f"{res.kind}.view", state)
        record = scope.get(getattr(state.scenario, res.attr), keyf, ident)
        body = dump(record)
        if res.sensitive:
            ctx.audit("view", res.kind, ident, note=f"scenario {sid} revision {rev}")
        if res.kind == "pledge":
            body["marking"] = scope.marking_of(record).model_dump(mode="json")
            body["next_states"] = [s.value for s in allowed_next(record.state)]
        response.headers["ETag"] = etag(rev)
        return body

    model = record_model(res)
    router.add_api_route(
        f"/{res.path}",
        list_records,
        methods=["GET"],
        response_model=Page[model],  # type: ignore[valid-type]  # a model built at run time, one per resource
        summary=f"List {res.path} of a scenario (paginated, filtered)",
        name=f"list_{res.attr}",
    )
    router.add_api_route(
        f"/{res.path}/{{ident}}",
        get_record,
        methods=["GET"],
        response_model=PledgeOut if res.kind == "pledge" else model,
        summary=f"One {res.kind}" + (" (audited read)" if res.sensitive else "") + "; ETag: the scenario revision",
        name=f"get_{res.attr}",
    )


# Pledge writes are declared before the generic routes so their paths win. Each calls the one
# edit service (coalition.scenario.store.edit), the same as `coalition pledge transition`.


class PledgeTransition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: PledgeState = Field(description="the new lifecycle state")
    note: str = Field(default="", max_length=1000)


class PledgeRelease(BaseModel):
    model_config = ConfigDict(extra="forbid")

    releasable_to: list[Annotated[str, Field(pattern=r"^([A-Z]{3}|HQ|ALL)$")]] = Field(
        max_length=60, description="ISO3 codes, HQ or ALL"
    )


class AssumptionSetBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    assumptions: list[Annotated[str, Field(max_length=120, pattern=r"^[A-Za-z0-9_.\-]+=[A-Za-z0-9\-]+$")]] = Field(
        max_length=50, description="NAME=VALUE, e.g. ceasefire=2026-06-01; empty removes the set"
    )
    note: str = Field(default="", max_length=1000)


def _pledge_key(record: Any) -> str:
    return str(record.id)


@dataclass(frozen=True)
class _Target:
    """What an edit addresses: the scenario reference, the If-Match it was read at, the action
    (permission) it needs and the pledge it touches (None for a scenario-wide change)."""

    ref: str | None
    if_match: str | None
    action: str
    ident: str | None = None


def _edit(
    ctx: Context,
    response: Response,
    change: Any,
    target: _Target,
    *,
    may_add: bool = False,
    check: Callable[[ScenarioState], None] | None = None,
) -> Any:
    """Scope first (404/403), then ``check`` of the body against the scenario (422), then the
    store's edit (409 on a stale If-Match)."""
    ref, if_match, action, ident = target.ref, target.if_match, target.action, target.ident
    sid, rev, state = current_state(ctx, ref)
    if ident is not None:  # role + visibility of the record (404 outside scope)
        scope = state_scope(ctx, action, state)
        if not (may_add and state.pledge(ident) is None):  # a new pledge: the rules decide
            scope.get(state.scenario.pledges, _pledge_key, ident)
    else:
        restrict(ctx.principal, action, _scenario_marking)
    if check is not None:
        check(state)
    result = store.edit(
        ctx.db,
        sid,
        parse_if_match(if_match, rev),
        change,
        ctx.principal,
        cache=ctx.state.scenarios,
        request_id=ctx.request_id,
    )
    ctx.audited.append(-1)
    response.headers["ETag"] = etag(result.revision)
    return result


@router.post("/pledges/{ident}/transition", summary="Move a pledge along its lifecycle", response_model=PledgeWritten)
def transition_pledge(
    ctx: Context,
    response: Response,
    body: PledgeTransition,
    ident: str = IdPath(),
    scenario: ScenarioRef = None,
    if_match: IfMatch = None,
) -> Any:
    change = TransitionPledge(pledge=ident, to=body.state, note=body.note)
    result = _edit(ctx, response, change, _Target(scenario, if_match, "pledge.transition", ident))
    return {**dump(result.state.pledge(ident)), "revision": result.revision}


@router.put(
    "/pledges/{ident}",
    summary="Add a pledge, or change its content (the pledging nation only)",
    response_model=PledgeWritten,
)
def edit_pledge(
    ctx: Context,
    response: Response,
    body: Pledge,
    ident: str = IdPath(),
    scenario: ScenarioRef = None,
    if_match: IfMatch = None,
) -> Any:
    if body.id != ident:
        raise InputError(
            [Problem(f"the body is pledge '{body.id}', the path '{ident}'", field="id", hint="they must be the same")]
        )
    result = _edit(
        ctx, response, EditPledge(pledge=body), _Target(scenario, if_match, "pledge.transition", ident), may_add=True
    )
    return {**dump(result.state.pledge(ident)), "revision": result.revision}


@router.put(
    "/pledges/{ident}/release", summary="Set to whom a pledge's detail is released", response_model=PledgeReleaseOut
)
def release_pledge(
    ctx: Context,
    response: Response,
    body: PledgeRelease,
    ident: str = IdPath(),
    scenario: ScenarioRef = None,
    if_match: IfMatch = None,
) -> Any:
    change = SetReleasability(object_kind="pledge", object_id=ident, releasable_to=tuple(body.releasable_to))
    result = _edit(
        ctx,
        response,
        change,
        _Target(scenario, if_match, "pledge.release", ident),
        check=lambda state: check_nations(
            body.releasable_to, state.scenario, field="releasable_to", extra=("HQ", "ALL")
        ),
    )
    pledge = result.state.pledge(ident)
    return {
        "id": ident,
        "marking": result.state.marking("pledge", pledge).model_dump(mode="json"),
        "revision": result.revision,
    }


@router.put(
    "/scenarios/{ref}/assumption-sets/{name}",
    summary="Set a named assumption set of a scenario (its nation's, or HQ's)",
    response_model=AssumptionSetPut,
)
def set_assumptions(
    ctx: Context,
    response: Response,
    body: AssumptionSetBody,
    ref: str = IdPath(),
    name: str = IdPath(),
    if_match: IfMatch = None,
) -> Any:
    change = SetAssumptions(name=name, assumptions=tuple(body.assumptions), note=body.note)
    result = _edit(ctx, response, change, _Target(ref, if_match, "scenario.add"))
    kept = result.state.assumption_sets.get(name)
    return {
        "name": name,
        "owner": kept.owner if kept else None,
        "assumptions": list(kept.assumptions) if kept else [],
        "revision": result.revision,
    }


for _res in RESOURCES:
    _make_routes(_res)


@router.get("/contact-line", summary="The contact line and buffer-zone width", response_model=ContactLine | None)
def contact_line(ctx: Context, scenario: ScenarioRef = None) -> Any:
    restrict(ctx.principal, "scenario.view", lambda _r: PUBLIC)
    _sid, _rev, state = current_state(ctx, scenario)
    sc = state.scenario
    return dump(sc.contact_line) if sc.contact_line else None
