"""Scenarios (upload, validate, list) and the records of the current scenario.

Every scenario record type is served by one generic list/get pair built from a declaration
(:data:`RESOURCES`); pledges add lifecycle transitions and releasability. Upload and validation
call the scenario package's ``validate_path``/``load_scenario``, the same as ``coalition validate``.
"""

# No "from __future__ import annotations": the generic routes are closures whose annotations
# FastAPI must see as objects, not strings.

import inspect
from dataclasses import dataclass
from pathlib import Path as FsPath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Path, Query, UploadFile, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from coalition.api import offload, workspace
from coalition.api.contract import check_nations
from coalition.api.lifecycle import allowed_next, transition
from coalition.api.deps import Context, Paging, page
from coalition.api.models import StoredScenario
from coalition.api.routers.common import (
    ScenarioRef,
    apply_filters,
    current_scenario,
    dump,
    scoped,
)
from coalition.auth.rules import PUBLIC, Marking, can_release
from coalition.auth.scope import restrict
from coalition.errors import InputError, PermissionDeniedError, Problem
from coalition.scenario.schemas import PledgeState

router = APIRouter(prefix="/api", tags=["scenario"])

def IdPath() -> Any:  # a fresh FieldInfo per parameter (FastAPI binds it to one name)
    return Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", max_length=64)
UPLOAD_SUFFIXES = (".yaml", ".yml", ".json")


# ---------------------------------------------------------------------------------------------
# Scenarios
# ---------------------------------------------------------------------------------------------


def _scenario_summary(row: StoredScenario) -> dict[str, Any]:
    doc = row.document
    return {
        "id": row.id,
        "key": row.key,
        "name": row.name,
        "revision": row.revision,
        "default": row.is_default,
        "illustrative": doc.get("illustrative", True),
        "origin": row.origin,
        "uploaded_by": row.uploaded_by,
        "created_at": row.created_at.isoformat() if row.created_at else None,
        "counts": {k: len(doc.get(k) or ()) for k in
                   ("nations", "instruments", "pledges", "requirements", "hubs", "force_options")},
        "attribution": doc.get("attribution", []),
    }


def _scenario_marking(row: StoredScenario) -> Marking:
    return Marking(origin=row.origin, releasable_to=PUBLIC.releasable_to)


@router.get("/scenarios", summary="Stored scenarios")
def list_scenarios(ctx: Context, paging: Paging) -> dict[str, Any]:
    scope = restrict(ctx.principal, "scenario.view", _scenario_marking)
    rows = scope.filter(workspace.list_stored(ctx.db))
    return page([_scenario_summary(r) for r in rows], paging)


@router.get("/scenarios/{ref}", summary="One stored scenario (summary)")
def get_scenario(ctx: Context, ref: str = IdPath()) -> dict[str, Any]:
    scope = restrict(ctx.principal, "scenario.view", _scenario_marking)
    row = scope.check(workspace.get_stored(ctx.db, ref=ref), ref)
    return _scenario_summary(row)


async def _read_upload(file: UploadFile, limit: int) -> tuple[str, bytes]:
    name = FsPath(file.filename or "scenario.yaml").name
    suffix = FsPath(name).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise InputError([Problem(f"unsupported file type '{suffix or name}'", file=name,
                                  field="file", hint="upload one .yaml, .yml or .json file")])
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise InputError([Problem(f"file larger than {limit} bytes", file=name, field="file")])
    return name, data


@router.post("/scenarios/validate", summary="Validate a scenario file without storing it")
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


@router.post("/scenarios", status_code=status.HTTP_201_CREATED,
             summary="Upload a scenario file; stored only if it validates completely")
async def upload_scenario(
    ctx: Context,
    file: Annotated[UploadFile, File(description="one .yaml/.json scenario")],
    make_default: Annotated[bool, Query(description="make it the default scenario")] = False,
) -> dict[str, Any]:
    scope = restrict(ctx.principal, "scenario.add", _scenario_marking)
    name, data = await _read_upload(file, ctx.state.settings.max_upload_bytes)
    report = await offload.validate_bytes(ctx.state, name, data)  # off the event loop
    if not report.ok or report.scenario is None:
        raise InputError(report.errors or report.problems)
    row = await run_in_threadpool(  # a 1 MB JSON write is not for the event loop either
        workspace.store_scenario, ctx.db, scenario=report.scenario, principal=ctx.principal,
        make_default=make_default)
    scope.verify_written(row, str(row.id))
    summary = _scenario_summary(row)
    ctx.audit("create", "scenario", str(row.id), after=summary)
    return summary


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


RESOURCES: tuple[Resource, ...] = (
    Resource("nation", "nations", "nations", "code", ("role", "groups")),
    Resource("instrument", "instruments", "instruments", "id", ("kind", "parties")),
    Resource("capability", "capabilities", "capabilities", "code", ("domain",)),
    Resource("force-option", "force-options", "force_options", "id"),
    Resource("requirement", "requirements", "requirements", "id",
             ("option", "capability", "hub", "priority")),
    Resource("hub", "hubs", "hubs", "id", ("country", "kind", "region")),
    Resource("rear-node", "rear-nodes", "rear_nodes", "id", ("country", "kind")),
    Resource("corridor", "corridors", "corridors", "id", ("rear_node", "hub", "mode")),
    Resource("pledge", "pledges", "pledges", "id", ("nation", "capability", "state"),
             sensitive=True),
)


def _filter_dependency(res: Resource) -> Any:
    """A dependency whose signature declares one optional query parameter per filter, so the
    filters appear in the OpenAPI document (FastAPI reads ``__signature__``)."""

    async def filters(**values: str | None) -> dict[str, str]:  # async: no thread hop
        return {k: v for k, v in values.items() if v is not None}

    filters.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter(
                name, inspect.Parameter.KEYWORD_ONLY, annotation=str | None,
                default=Query(None, max_length=64, description=f"only this {name}"),
            )
            for name in res.filters
        ]
    )
    return filters


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
    ) -> dict[str, Any]:
        sid, sc = current_scenario(ctx, scenario)
        scope = scoped(ctx, f"{res.kind}.view", sid, keyf)
        records = apply_filters(scope.filter(getattr(sc, res.attr)), filters)
        dumped = ctx.state.scenarios.dumps(sc, res.attr)
        if res.sensitive:  # a list shows what a single read shows: audited alike
            shown = records[paging.offset: paging.offset + paging.limit]
            ctx.audit_read(res.kind, [keyf(r) for r in shown], note=f"scenario {sid}")
        return page([dumped[id(r)] for r in records], paging)

    def get_record(ctx: Context, ident: str = IdPath(), scenario: ScenarioRef = None) -> Any:
        sid, sc = current_scenario(ctx, scenario)
        scope = scoped(ctx, f"{res.kind}.view", sid, keyf)
        record = scope.get(getattr(sc, res.attr), keyf, ident)
        body = dump(record)
        if res.sensitive:
            ctx.audit("view", res.kind, ident, note=f"scenario {sid}")
        if res.kind == "pledge":
            body["marking"] = scope.marking_of(record).model_dump(mode="json")
            body["next_states"] = [s.value for s in allowed_next(record.state)]
        return body

    router.add_api_route(f"/{res.path}", list_records, methods=["GET"],
                         summary=f"List {res.path} of a scenario (paginated, filtered)",
                         name=f"list_{res.attr}")
    router.add_api_route(f"/{res.path}/{{ident}}", get_record, methods=["GET"],
                         summary=f"One {res.kind}" + (" (audited read)" if res.sensitive else ""),
                         name=f"get_{res.attr}")


# Pledge writes are declared before the generic routes so their paths win.


class PledgeTransition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: PledgeState = Field(description="the new lifecycle state")
    note: str = Field(default="", max_length=1000)


class PledgeRelease(BaseModel):
    model_config = ConfigDict(extra="forbid")

    releasable_to: list[Annotated[str, Field(pattern=r"^([A-Z]{3}|HQ|ALL)$")]] = Field(
        max_length=60, description="ISO3 codes, HQ or ALL"
    )


def _pledge_key(record: Any) -> str:
    return str(record.id)


@router.post("/pledges/{ident}/transition", summary="Move a pledge along its lifecycle")
def transition_pledge(ctx: Context, body: PledgeTransition, ident: str = IdPath(),
                      scenario: ScenarioRef = None) -> Any:
    sid, sc = current_scenario(ctx, scenario)
    scope = scoped(ctx, "pledge.transition", sid, _pledge_key)
    pledge = scope.get(sc.pledges, _pledge_key, ident)
    changed = transition(sc, pledge_id=pledge.id, to=body.state, actor=ctx.principal)
    row = ctx.db.get(StoredScenario, sid)
    workspace.replace_document(ctx.db, row=row, scenario=changed)  # type: ignore[arg-type]
    after = next(p for p in changed.pledges if p.id == ident)
    scope.verify_written(after, ident)
    ctx.audit("transition", "pledge", ident, before=dump(pledge), after=dump(after),
              note=body.note)
    return dump(after)


@router.put("/pledges/{ident}/release", summary="Set to whom a pledge's detail is released")
def release_pledge(ctx: Context, body: PledgeRelease, ident: str = IdPath(),
                   scenario: ScenarioRef = None) -> Any:
    sid, sc = current_scenario(ctx, scenario)
    scope = scoped(ctx, "pledge.release", sid, _pledge_key)
    pledge = scope.get(sc.pledges, _pledge_key, ident)
    before = scope.marking_of(pledge)
    if not can_release(ctx.principal, before):
        raise PermissionDeniedError(
            f"only {before.origin} decides to whom pledge '{ident}' is released"
        )
    check_nations(body.releasable_to, sc, field="releasable_to", extra=("HQ", "ALL"))
    marking = Marking(origin=before.origin, releasable_to=tuple(sorted(set(body.releasable_to))))
    workspace.set_marking(ctx.db, scenario_id=sid, kind="pledge", object_id=ident,
                          marking=marking)
    # Write-then-verify with a fresh scope (the markings are re-read from the database).
    scoped(ctx, "pledge.release", sid, _pledge_key).verify_written(pledge, ident)
    ctx.audit("release", "pledge", ident, before=before.model_dump(mode="json"),
              after=marking.model_dump(mode="json"))
    return {"id": ident, "marking": marking.model_dump(mode="json")}


for _res in RESOURCES:
    _make_routes(_res)


@router.get("/contact-line", summary="The contact line and buffer-zone width")
def contact_line(ctx: Context, scenario: ScenarioRef = None) -> Any:
    restrict(ctx.principal, "scenario.view", lambda _r: PUBLIC)
    _sid, sc = current_scenario(ctx, scenario)
    return dump(sc.contact_line) if sc.contact_line else None

