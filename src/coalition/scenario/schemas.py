"""The typed, immutable scenario model (pydantic v2).

A :class:`Scenario` is the whole planning picture: nations, legal instruments, the timeline of
world-state events that set conditions, the capability catalogue, force options with their
requirement lines, pledges with conditions and caveats, hubs, rear nodes, corridors, the contact
line and the buffer zone, and (from the depots package) the protected storage facilities.

Field-level validation lives here (types, ranges, formats). Cross-references (a pledge naming an
unknown nation, a cyclic condition) are checked by the pure ``check_*`` functions in
``coalition.scenario.validate``, which report every problem at once.

Every record that carries a fact has ``evidence`` (see :class:`Evidence`) and ``source``.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from coalition.depots.schemas import DepotNetwork
from coalition.scenario.uncertainty import Uncertainty


class Frozen(BaseModel):
    """Base for every domain value: immutable, no unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


# ---------------------------------------------------------------------------------------------
# Reusable constrained types
# ---------------------------------------------------------------------------------------------

ISO3 = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 3166-1 alpha-3 code")]
Ident = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$",
        max_length=64,
        description="identifier: letters, digits, '_', '.', '-'",
    ),
]
Day = Annotated[int, Field(ge=-3650, le=3650, description="days relative to C-day")]
NonNegInt = Annotated[int, Field(ge=0, le=10_000_000)]
PosInt = Annotated[int, Field(ge=1, le=10_000_000)]
Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]
ConditionExpr = Annotated[
    str,
    Field(
        max_length=2000,
        description=(
            "condition expression: a condition name (e.g. 'ceasefire', 'parliament.GBR'), "
            "'all(a, b, ...)', 'any(a, b, ...)', 'not(a)', 'true', 'false', or an instrument "
            "state test 'instrument(ID) >= signed'; empty means always"
        ),
    ),
]


class Evidence(StrEnum):
    """How much a fact can be trusted (labels of shared/reference/scenario-facts.md)."""

    REPORTED = "R"  # a named public source reports it
    APPROXIMATE = "A"  # computed, rounded or digitised by hand
    UNKNOWN = "U"  # not publicly reported
    ILLUSTRATIVE = "I"  # a choice made for the scenario, not a fact


class Provenance(Frozen):
    """Mixin fields: where a fact comes from."""

    evidence: Evidence = Evidence.ILLUSTRATIVE
    source: str = Field(default="", max_length=4000)


# ---------------------------------------------------------------------------------------------
# Nations and instruments
# ---------------------------------------------------------------------------------------------


class CoalitionRole(StrEnum):
    LEAD = "lead"  # framework / lead nation
    CONTRIBUTOR = "contributor"
    ENABLER = "enabler"  # logistics, basing, lift, no troops in Ukraine
    SUPPORTER = "supporter"  # political/financial support, training outside Ukraine
    HOST = "host"
    OBSERVER = "observer"
    NON_PARTICIPANT = "non-participant"


class Nation(Provenance):
    code: ISO3
    name: str = Field(min_length=1, max_length=100)
    groups: tuple[str, ...] = Field(default=(), description="e.g. NATO, EU, non-European partner")
    role: CoalitionRole
    position: str = Field(default="", max_length=2000, description="reported position, own words")


class InstrumentKind(StrEnum):
    DECLARATION_OF_INTENT = "declaration-of-intent"
    DECLARATION = "declaration"
    MOU = "mou"
    SOFA = "sofa"
    PARLIAMENTARY_MANDATE = "parliamentary-mandate"
    HOST_NATION_AGREEMENT = "host-nation-agreement"
    UN_MANDATE = "un-mandate"
    EU_DECISION = "eu-decision"


class InstrumentState(StrEnum):
    """Lifecycle of a legal or political instrument, in order."""

    DRAFT = "draft"
    SIGNED = "signed"
    RATIFIED = "ratified"
    IN_FORCE = "in-force"
    WITHDRAWN = "withdrawn"


INSTRUMENT_STATE_ORDER: tuple[InstrumentState, ...] = tuple(InstrumentState)


class InstrumentStateChange(Frozen):
    state: InstrumentState
    on: date


class Instrument(Provenance):
    id: Ident
    kind: InstrumentKind
    title: str = Field(min_length=1, max_length=300)
    parties: tuple[ISO3, ...] = Field(min_length=1)
    history: tuple[InstrumentStateChange, ...] = Field(
        default=(), description="dated state changes; before the first one the state is draft"
    )

    @model_validator(mode="after")
    def _history_in_order(self) -> Instrument:
        dates = [h.on for h in self.history]
        if dates != sorted(dates):
            raise ValueError("history must be in date order")
        return self


# ---------------------------------------------------------------------------------------------
# Conditions and the timeline
# ---------------------------------------------------------------------------------------------

ConditionName = Annotated[
    str,
    Field(
        pattern=r"^[a-z][a-z0-9_]*(\.[A-Za-z0-9_\-]+)?$",
        max_length=80,
        description="condition name, e.g. 'ceasefire' or 'parliament.GBR'",
    ),
]


class ConditionDef(Provenance):
    """A named world-state predicate.

    A *base* condition (``expression`` empty) takes its value over time from timeline events and
    assumptions. A *derived* condition is defined by an expression over other conditions and
    instrument states (e.g. ``us_backstop_effective = all(us_backstop, ceasefire)``); derived
    definitions must not be cyclic.
    """

    name: ConditionName
    description: str = Field(default="", max_length=1000)
    expression: ConditionExpr = ""


class Event(Provenance):
    """A dated event on the timeline: sets a condition true or false from ``on`` onwards."""

    on: date
    condition: ConditionName
    value: bool = True
    note: str = Field(default="", max_length=1000)


# ---------------------------------------------------------------------------------------------
# Capabilities, requirements, force options
# ---------------------------------------------------------------------------------------------


class CapabilityDomain(StrEnum):
    LAND = "land"
    AIR = "air"
    MARITIME = "maritime"
    JOINT = "joint"


class Capability(Provenance):
    code: Ident
    name: str = Field(min_length=1, max_length=120)
    domain: CapabilityDomain
    personnel: PosInt = Field(description="typical personnel of one unit")
    tonnage: float = Field(ge=0, le=1_000_000, description="typical lift of one unit, tonnes")
    roles: tuple[str, ...] = Field(default=(), description="tasks this capability performs")


class Priority(StrEnum):
    ESSENTIAL = "essential"
    IMPORTANT = "important"
    DESIRABLE = "desirable"


class ForceOption(Provenance):
    id: Ident
    name: str = Field(min_length=1, max_length=120)
    description: str = Field(default="", max_length=2000)
    personnel_target: NonNegInt = 0


class Requirement(Provenance):
    """One line of the statement of requirements: nation-agnostic."""

    id: Ident
    option: Ident = Field(description="force option this line belongs to")
    capability: Ident
    quantity: PosInt
    hub: Ident | None = Field(default=None, description="a hub id, or None with a region")
    region: str | None = Field(default=None, description="a region name, when no hub is fixed")
    start_day: Day = Field(description="first day needed, relative to C-day")
    end_day: Day = Field(description="last day needed, relative to C-day")
    priority: Priority = Priority.IMPORTANT
    max_notice_days: NonNegInt = Field(default=90, description="maximum notice-to-move, days")
    role: str = Field(default="", max_length=60, description="task of the line, for caveats")

    @model_validator(mode="after")
    def _place_and_window(self) -> Requirement:
        if (self.hub is None) == (self.region is None):
            raise ValueError("give exactly one of 'hub' or 'region'")
        if self.end_day < self.start_day:
            raise ValueError("end_day must not be before start_day")
        return self


# ---------------------------------------------------------------------------------------------
# Pledges
# ---------------------------------------------------------------------------------------------


class PledgeState(StrEnum):
    """Lifecycle of a pledge, in order."""

    OFFERED = "offered"
    ACCEPTED = "accepted"
    VERIFIED = "verified"
    COMMITTED = "committed"
    DEPLOYED = "deployed"
    WITHDRAWN = "withdrawn"


class Caveats(Frozen):
    """National restrictions on where and how pledged units may be used. Hard constraints."""

    allowed_countries: tuple[ISO3, ...] = Field(default=(), description="empty = any country")
    allowed_regions: tuple[str, ...] = Field(default=(), description="empty = any region")
    min_distance_km: float = Field(default=0, ge=0, le=5000, description="minimum distance from the contact line, km")
    excluded_roles: tuple[str, ...] = ()


class Pledge(Provenance):
    id: Ident
    nation: ISO3
    capability: Ident
    units: PosInt
    personnel_per_unit: PosInt
    readiness_level: Annotated[int, Field(ge=1, le=4)] = Field(
        default=1, description="UN PCRS-like level: 1 registered, 2 assessed, 3 aligned, 4 rapid"
    )
    notice_days: NonNegInt = Field(description="notice-to-move, days")
    available_from_day: Day = 0
    available_to_day: Day | None = None
    tour_days: PosInt = 182
    recovery_days: NonNegInt = 364
    sustainable_rotations: NonNegInt | None = Field(
        default=None, description="how many tours the nation can generate per unit; None = unbounded"
    )
    caveats: Caveats = Caveats()
    condition: ConditionExpr = ""
    state: PledgeState = PledgeState.OFFERED
    renewal_date: date | None = None
    expiry_date: date | None = None
    rear_node: Ident | None = Field(default=None, description="preferred rear node, None = any")
    lead: bool = Field(default=False, description="the nation leads this contingent")

    @model_validator(mode="after")
    def _window(self) -> Pledge:
        if self.available_to_day is not None and self.available_to_day < self.available_from_day:
            raise ValueError("available_to_day must not be before available_from_day")
        return self

    @property
    def rotation_ratio(self) -> float:
        """Units needed per unit kept deployed: (tour + recovery) / tour."""
        return (self.tour_days + self.recovery_days) / self.tour_days


# ---------------------------------------------------------------------------------------------
# Geography: hubs, rear nodes, corridors, contact line
# ---------------------------------------------------------------------------------------------


class HubKind(StrEnum):
    CITY = "city"
    AIRFIELD = "airfield"
    PORT = "port"
    HQ = "hq"
    LOGISTICS = "logistics"


class Hub(Provenance):
    id: Ident
    name: str = Field(min_length=1, max_length=120)
    country: ISO3
    region: str = Field(min_length=1, max_length=60)
    kind: HubKind = HubKind.CITY
    lat: Latitude
    lon: Longitude
    personnel_capacity: NonNegInt
    host_nation: ISO3
    lead_nation: ISO3 | None = None
    geonameid: int | None = None
    population: NonNegInt | None = None


class RearNodeKind(StrEnum):
    AIRPORT = "airport"
    RAIL = "rail"
    PORT = "port"
    BASE = "base"
    HQ = "hq"


class RearNode(Provenance):
    id: Ident
    name: str = Field(min_length=1, max_length=120)
    country: ISO3
    kind: RearNodeKind = RearNodeKind.BASE
    lat: Latitude
    lon: Longitude
    geonameid: int | None = None


class CorridorMode(StrEnum):
    ROAD = "road"
    RAIL = "rail"
    AIR = "air"
    SEA = "sea"


class Corridor(Provenance):
    id: Ident
    rear_node: Ident
    hub: Ident
    mode: CorridorMode
    personnel_per_day: NonNegInt
    tonnage_per_day: float = Field(ge=0, le=10_000_000)
    transit_days: NonNegInt
    distance_km: float = Field(default=0, ge=0, le=20_000)


class Point(Frozen):
    lat: Latitude
    lon: Longitude


class ContactLine(Provenance):
    points: tuple[Point, ...] = Field(min_length=2)
    buffer_km: float = Field(default=0, ge=0, le=500, description="width of the buffer zone, km")


# ---------------------------------------------------------------------------------------------
# Sustainment data (issue 15): stock policy, host-nation support, speeds, MEDEVAC, precedence
# ---------------------------------------------------------------------------------------------


class SupplyClass(StrEnum):
    """The supply classes the sustainment package computes (NATO/US class numbering; water apart)."""

    I = "I"  # noqa: E741 - the doctrinal name
    WATER = "water"
    II = "II"
    III_B = "III(B)"
    III_P = "III(P)"
    IV = "IV"
    V = "V"
    VI = "VI"
    VIII = "VIII"
    IX = "IX"


SupplyClassName = SupplyClass


class CapabilityFactor(Provenance):
    """A consumption factor of one capability where no public factor exists (III(B), V, VIII, IX)."""

    capability: Ident
    supply_class: SupplyClassName
    per_person_day: float = Field(ge=0, le=10_000, description="kg (litres for III(B) and water) per person per day")
    activity: str = Field(default="static", min_length=1, max_length=40, description="activity level it applies to")


class StockPolicy(Provenance):
    """Days-of-supply policy for one class, at one hub or (hub empty) at every hub."""

    supply_class: SupplyClassName
    hub: Ident | None = None
    min_days: float = Field(ge=0, le=3650)
    target_days: float = Field(ge=0, le=3650)
    order_ship_days: float = Field(default=0, ge=0, le=3650, description="order-ship time: sets the safety stock")
    order_interval_days: float = Field(default=7, ge=0, le=3650)

    @model_validator(mode="after")
    def _min_not_above_target(self) -> StockPolicy:
        if self.min_days > self.target_days:
            raise ValueError(f"DOS minimum {self.min_days:g} days is above the target {self.target_days:g} days")
        return self


class HostNationShare(Provenance):
    """Share of a class supplied locally by the host nation (0..1), at one hub or every hub."""

    supply_class: SupplyClassName
    share: float = Field(ge=0, le=1)
    hub: Ident | None = None
    condition: ConditionExpr = ""


class StockOnHand(Provenance):
    """On-hand stock of a class at a hub (kg; litres for water and III(B)), for untracked classes."""

    hub: Ident
    supply_class: SupplyClassName
    quantity: float = Field(ge=0, le=1e12)


class SpeedMode(StrEnum):
    ROAD = "road"
    HELICOPTER = "helicopter"


class Speed(Provenance):
    """A travel speed: road in a region (or everywhere when region is empty), or helicopter cruise."""

    mode: SpeedMode
    kmh: float = Field(gt=0, le=1000)
    region: str | None = None


class MedevacPledge(Provenance):
    """Where the rotary-wing MEDEVAC of a pledge is based (a hub or rear node). A base is required."""

    pledge: Ident
    base: Ident | None = None


class MedicalRole(Provenance):
    """The care a capability gives: 1, 2 or 3 (a Role 3 also gives Role 2 and 1 care)."""

    capability: Ident
    role: Annotated[int, Field(ge=1, le=3)]


class PrecedenceScope(StrEnum):
    HUB = "hub"
    REGION = "region"
    FORCE = "force"


class PrecedenceRule(Provenance):
    """Units with a ``before`` role arrive no later than the first unit with an ``after`` role."""

    id: Ident
    before_roles: tuple[str, ...] = Field(min_length=1)
    after_roles: tuple[str, ...] = Field(min_length=1, description="'*' = every other unit")
    scope: PrecedenceScope = PrecedenceScope.HUB
    require_present: bool = Field(default=False, description="the before group must exist in the scope")
    enabled: bool = True


class Sustainment(Frozen):
    """The scenario's sustainment data; every field has a default so old scenarios still load."""

    climate: str = Field(default="temperate", pattern=r"^(temperate|tropical|arid|arctic)$")
    ration_cycle: str = Field(default="2ugr_1mre", pattern=r"^(3mre|1ugr_2mre|2ugr_1mre)$")
    activity: str = Field(default="static", min_length=1, max_length=40)
    factors: tuple[CapabilityFactor, ...] = ()
    class_v_neq_share: dict[str, float] = Field(
        default_factory=dict, description="kg NEQ per kg of Class V, by hazard division (1.1..1.4)"
    )
    policies: tuple[StockPolicy, ...] = ()
    host_nation: tuple[HostNationShare, ...] = ()
    on_hand: tuple[StockOnHand, ...] = ()
    speeds: tuple[Speed, ...] = ()
    road_detour_factor: float = Field(
        default=1.25, ge=1, le=5, description="road km per great-circle km for medical travel times"
    )
    medevac: tuple[MedevacPledge, ...] = ()
    medical_roles: tuple[MedicalRole, ...] = ()
    precedence: tuple[PrecedenceRule, ...] = Field(default=(), description="overrides of the default rules, by id")

    @model_validator(mode="after")
    def _neq_shares(self) -> Sustainment:
        for hd, share in self.class_v_neq_share.items():
            if hd not in ("1.1", "1.2", "1.3", "1.4"):
                raise ValueError(f"class_v_neq_share: unknown hazard division {hd!r} (valid: 1.1, 1.2, 1.3, 1.4)")
            if not 0 <= share <= 1:
                raise ValueError(f"class_v_neq_share[{hd}] = {share:g} must be between 0 and 1")
        return self


# ---------------------------------------------------------------------------------------------
# The scenario
# ---------------------------------------------------------------------------------------------


class Scenario(Frozen):
    """A whole scenario: nations, conditions, pledges, force options, hubs, corridors and depots,
    each value with its provenance. Immutable; build one with :func:`load_scenario`."""

    id: Ident
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=10_000)
    illustrative: bool = Field(
        default=True, description="True when the scenario is an illustration, not an official plan"
    )
    attribution: tuple[str, ...] = Field(default=(), description="data licences to display")
    horizon_days: PosInt = Field(default=728, description="planning horizon from C-day, days")
    nations: tuple[Nation, ...] = ()
    instruments: tuple[Instrument, ...] = ()
    conditions: tuple[ConditionDef, ...] = ()
    timeline: tuple[Event, ...] = ()
    capabilities: tuple[Capability, ...] = ()
    force_options: tuple[ForceOption, ...] = ()
    requirements: tuple[Requirement, ...] = ()
    pledges: tuple[Pledge, ...] = ()
    hubs: tuple[Hub, ...] = ()
    rear_nodes: tuple[RearNode, ...] = ()
    corridors: tuple[Corridor, ...] = ()
    contact_line: ContactLine | None = None
    depots: DepotNetwork = DepotNetwork()
    uncertainty: Uncertainty | None = Field(
        default=None, description="what may vary, for scenario analysis (docs/analysis.md)"
    )
    sustainment: Sustainment = Sustainment()

    # Lookups. Cheap enough to rebuild; kept as methods so the value stays a plain record.
    def nation(self, code: str) -> Nation | None:
        return next((n for n in self.nations if n.code == code), None)

    def hub(self, hub_id: str) -> Hub | None:
        return next((h for h in self.hubs if h.id == hub_id), None)

    def capability(self, code: str) -> Capability | None:
        return next((c for c in self.capabilities if c.code == code), None)

    def option(self, option_id: str) -> ForceOption | None:
        return next((o for o in self.force_options if o.id == option_id), None)

    def requirements_of(self, option_id: str) -> tuple[Requirement, ...]:
        return tuple(r for r in self.requirements if r.option == option_id)


class Assumption(Frozen):
    """A planner's override of the timeline: ``--assume ceasefire=2026-06-01``.

    ``on`` set: the condition becomes true from that date (false before it).
    ``value`` set without ``on``: the condition holds that value at every date.
    """

    condition: ConditionName
    value: bool = True
    on: date | None = None
