"""Response models of the API: what the OpenAPI document promises each route answers.

Hot routes send ready JSON (a ``Response`` of bytes) and are not re-validated here; the models
then only document the shape, and the schemathesis test
(``tests/api/test_schemathesis.py``) checks real answers against them. Top-level fields are
typed everywhere; nested detail that belongs to a domain report (a depot check, an
accountability report) is typed as far as the report fixes it and otherwise an object.
``extra="allow"``: an answer may carry more than is listed, never less. Times are ISO 8601
with their zone (UTC).
"""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

T = TypeVar("T")

Obj = dict[str, Any]


class Out(BaseModel):
    model_config = ConfigDict(extra="allow")


class Page(Out, Generic[T]):
    """The one list envelope."""

    items: list[T]
    total: int
    offset: int
    limit: int


class Status(Out):
    status: str


class HealthOut(Out):
    status: str
    version: str
    database: str
    backend: str
    problem: str | None = None


class MarkingOut(Out):
    origin: str
    releasable_to: list[str]


# --- scenarios ---------------------------------------------------------------------------


class AssumptionSetOut(Out):
    owner: str | None = None
    assumptions: list[str]


class ScenarioSummary(Out):
    id: int
    key: str
    name: str
    revision: int
    default: bool
    illustrative: bool
    origin: str
    uploaded_by: str | None = None
    created_at: AwareDatetime | None = None
    counts: dict[str, int]
    attribution: list[str]
    assumption_sets: dict[str, AssumptionSetOut]


class UploadOut(ScenarioSummary):
    created: bool


class RevisionOut(Out):
    revision: int
    kind: str
    author: str | None = None
    nation: str | None = None
    note: str | None = Field(
        default=None,
        description="the edit note; withheld (null) from readers outside the editing nation's releasability",
    )
    created_at: AwareDatetime | None = None
    withheld: bool = False


class ProblemItem(Out):
    file: str | None = None
    row: int | None = None
    field: str | None = None
    message: str
    hint: str | None = None
    severity: str


class ValidationOut(Out):
    ok: bool
    scenario: str | None
    problems: list[ProblemItem]


class PledgeReleaseOut(Out):
    id: str
    marking: MarkingOut
    revision: int


class AssumptionSetPut(Out):
    name: str
    owner: str | None
    assumptions: list[str]
    revision: int


Value = str | int | float | bool | None


class FieldChangeOut(Out):
    field: str
    before: Value = Field(
        description="the value in the 'from' revision (null: none); lists and objects as compact JSON text"
    )
    after: Value = Field(description="the value in the 'to' revision (null: none)")


class RecordChangeOut(Out):
    key: str = Field(description="the record's id in its table")
    what: Literal["added", "removed", "changed"]
    fields: list[FieldChangeOut] = Field(
        description="changed: each field that differs; added or removed: every field with a value"
    )


class TableChangesOut(Out):
    table: str = Field(
        description="a record table (pledges, hubs, …), depots, stock, lots, "
        "items, assumption_sets or document (the document's own fields)"
    )
    records: list[RecordChangeOut]


class RevisionDiffOut(Out):
    scenario_id: int
    from_revision: int
    to_revision: int
    head: int
    count: int = Field(description="records listed (of the tables below)")
    partial: bool = Field(
        description="true for every reader who does not see every "
        "restricted record of the revisions compared and the head: such "
        "records are left out entirely, whether or not they changed"
    )
    tables: list[TableChangesOut] = Field(description="only tables with a change")


# --- gaps and plans ----------------------------------------------------------------------


class GapLine(Out):
    line: str
    capability: str
    place: str
    required_units: int
    filled_units: int
    short_units: int
    priority: str
    reasons: list[Obj]
    coalition_filled: bool | None = Field(
        default=None,
        description="only in a partial view: whether the whole coalition fills the line (yes/no, never a count)",
    )


class GapPicture(Out):
    version: int
    scenario: str
    option: str
    at: str | None
    c_day: str | None
    totals: Obj
    by_priority: Obj
    lines: list[GapLine]
    cells: list[Obj]
    activation: Obj
    basis: str
    redacted: bool


class PlanRunOut(Out):
    id: int
    scenario_id: int
    revision: int
    option: str
    at: str | None
    assumptions: list[str]
    seed: int
    time_limit: float | None
    status: str
    progress: float
    message: str | None
    error: str | None
    requested_by: str
    nation: str
    queue_position: int | None = None
    cancel_requested: bool
    summary: Obj | None
    reused_from: int | None
    created_at: AwareDatetime | None
    finished_at: AwareDatetime | None
    name: str | None = Field(
        default=None, description="the plan's name, when released to you (its author's nation and HQ)"
    )
    pinned: bool = False
    pinned_by: str | None = None
    pinned_at: AwareDatetime | None = None


class PlanRunCreated(PlanRunOut):
    reused: bool


class PlanView(Out):
    """A stored plan under the releasability policy (a partial view adds ``withheld``,
    ``basis`` and per-cell ``coalition_filled``)."""

    scenario: str
    option: str
    unit_lines: list[Obj]
    assignments: list[Obj] = []
    rotations: list[Obj] = []
    fill: list[Obj] = []
    gaps: list[Obj] = []
    redacted: bool
    withheld: list[str] = []
    basis: str | None = None


# --- depots ------------------------------------------------------------------------------


class DepotSummary(Out):
    id: str
    name: str
    hub: str | None
    profile: str | None
    nation: str | None
    storehouses: int
    exposed_sites: int
    illustrative: bool
    marking: MarkingOut


class DepotOut(Out):
    id: str
    name: str
    marking: MarkingOut


class DepotCheck(Out):
    depot: str


class LicenceList(Out):
    depot: str
    items: list[Obj]
    total: int


class StorehouseOut(Out):
    id: str
    depot: str


class PlacementOut(Out):
    placed: list[Obj]
    units_placed: int
    refused: list[Obj]
    check_after: Obj


# --- ledger ------------------------------------------------------------------------------


class EventOut(Out):
    seq: int
    time: str
    nation: str
    person: str | None
    type: str
    batch_id: int | None
    title_nations: list[str]
    hash: str
    body: Obj | None = None
    prev_hash: str | None = None


class AppendOut(Out):
    first_seq: int
    last_seq: int
    batches: list[int]
    size: int


class PrepareOut(Out):
    statements: list[Obj]
    note: str


class TransferOut(Out):
    id: int
    nation: str
    requested_by: str
    status: str
    payload: Obj
    note: str | None
    approved_by: str | None
    seq: int | None
    created_at: AwareDatetime | None


class CheckpointOut(Out):
    id: int
    size: int
    root: str
    time: str
    key_id: str
    signature: str
    cosigners: list[Any]


class InclusionProof(Out):
    seq: int
    leaf_hash: str
    tree_size: int
    root: str
    log_path: list[str]


class ConsistencyProof(Out):
    first: int
    second: int
    path: list[str]


class LedgerHealth(Out):
    events: int
    verified: bool
    problem: str | None
    checkpoint: Obj | None
    behind: int | None = None
    checked: Obj | None = None
    note: str | None = None


class InventoryOut(Out):
    items: list[Obj]
    total: int
    title_nation: str | None


class Count(Out):
    count: int
    value: float


class AccountabilityOut(Out):
    donor: str
    as_of: str
    items: list[Obj]
    totals: dict[str, Count]
    delivered: Count
    discrepancies: list[Obj]
    delinquency: dict[str, Obj]
