"""Consumption planning factors (pure): the doctrinal table as data, and factor resolution.

The doctrinal factors (Classes I, II, III(P), IV, VI and water) live in ``sustain/data/factors.yaml``
with their source table, evidence label and whether they were checked against the primary text.
Classes with no public per-person factor for a static force (III(B), V, VIII, IX) come from the
scenario's per-capability factors (``Scenario.sustainment.factors``), which are illustrative and
flagged as such in every output that depends on them.

Everything is converted to one base unit per class: kilograms, except water and III(B) (litres).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from coalition.errors import InputError, Problem, closest
from coalition.scenario.schemas import Evidence, Scenario, SupplyClass

#: Classes whose quantity is a volume (litres); every other class is a mass (kilograms).
LIQUID: frozenset[SupplyClass] = frozenset({SupplyClass.WATER, SupplyClass.III_B})
#: Classes with a doctrinal per-person factor in the table; the others are per capability.
DOCTRINAL: tuple[SupplyClass, ...] = (
    SupplyClass.I,
    SupplyClass.WATER,
    SupplyClass.II,
    SupplyClass.III_P,
    SupplyClass.IV,
    SupplyClass.VI,
)
PER_CAPABILITY: tuple[SupplyClass, ...] = (SupplyClass.III_B, SupplyClass.V, SupplyClass.VIII, SupplyClass.IX)
CLIMATES = ("temperate", "tropical", "arid", "arctic")
RATION_CYCLES = ("3mre", "1ugr_2mre", "2ugr_1mre")
_UNITS = ("lb", "gal", "kg", "l")
_FILE = "factors.yaml"


def base_unit(cls: SupplyClass) -> str:
    """``l`` for water and bulk fuel, ``kg`` for everything else."""
    return "l" if cls in LIQUID else "kg"


@dataclass(frozen=True, slots=True)
class Factor:
    """One row of the doctrinal table, in the unit of its source."""

    supply_class: SupplyClass
    value: float
    unit: str
    table: str
    evidence: Evidence
    verified: bool
    climate: str | None = None
    ration_cycle: str | None = None
    note: str = ""
    components: tuple[tuple[str, float], ...] = ()
    row: int = 0  # 1-based position in the file's factor list

    def in_base_unit(self, conversions: dict[str, float]) -> float:
        if self.unit == "lb":
            return self.value * conversions["lb_to_kg"]
        if self.unit == "gal":
            return self.value * conversions["gal_to_l"]
        return self.value


@dataclass(frozen=True, slots=True)
class FactorRef:
    """A resolved per-person-day factor in the class's base unit, and why it can be trusted."""

    value: float | None  # None: unknown (no factor) - never read as zero
    label: str  # e.g. "ATP 4-90 Table C-1 (2ugr_1mre)" or "scenario factor inf_bn (I)"
    evidence: Evidence
    flags: tuple[str, ...] = ()  # "illustrative", "unverified", "unknown", "substituted"


@dataclass(frozen=True)
class FactorTable:
    factors: tuple[Factor, ...]
    conversions: dict[str, float]
    sources: dict[str, str] = field(default_factory=dict)
    file: str = _FILE

    def find(self, cls: SupplyClass, *, climate: str | None = None, ration_cycle: str | None = None) -> Factor | None:
        for f in self.factors:
            if f.supply_class is not cls:
                continue
            if f.climate is not None and f.climate != climate:
                continue
            if f.ration_cycle is not None and f.ration_cycle != ration_cycle:
                continue
            return f
        return None

    def doctrinal(self, cls: SupplyClass, *, climate: str, ration_cycle: str) -> FactorRef:
        """The per-person-day factor of a doctrinal class for the given climate and ration cycle.

        Class VI has a source value for temperate only: another climate uses the temperate value
        and is flagged ``substituted`` (illustrative), never silently.
        """
        f = self.find(cls, climate=climate, ration_cycle=ration_cycle)
        flags: list[str] = []
        if f is None and cls is SupplyClass.VI:
            f = self.find(cls, climate="temperate", ration_cycle=ration_cycle)
            if f is not None:
                flags.append("substituted")
        if f is None:
            return FactorRef(
                None, f"no factor for {cls.value} ({climate}, {ration_cycle})", Evidence.UNKNOWN, ("unknown",)
            )
        if not f.verified:
            flags.append("unverified")
        variant = f.ration_cycle or f.climate
        label = f"{f.table}" + (f" ({variant})" if variant else "")
        if "substituted" in flags:
            label += f", temperate value used for {climate}"
        evidence = Evidence.ILLUSTRATIVE if "substituted" in flags else f.evidence
        return FactorRef(f.in_base_unit(self.conversions), label, evidence, tuple(flags))


def _problem(msg: str, row: int | None, fld: str, hint: str | None = None, file: str = _FILE) -> Problem:
    return Problem(msg, file=file, row=row, field=fld, hint=hint)


def _parse_factor(i: int, rec: Any, file: str, problems: list[Problem]) -> Factor | None:
    if not isinstance(rec, dict):
        problems.append(_problem("a factor must be a mapping", i, "factors", file=file))
        return None
    n0 = len(problems)
    valid_classes = [c.value for c in SupplyClass]
    cls_text = str(rec.get("class", ""))
    if cls_text not in valid_classes:
        guess = closest(cls_text, valid_classes)
        problems.append(
            _problem(
                f"unknown supply class {cls_text!r}",
                i,
                "class",
                (f"did you mean '{guess}'? " if guess else "") + "valid: " + ", ".join(valid_classes),
                file,
            )
        )
    value = rec.get("value")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        problems.append(_problem(f"factor value {value!r} is not a number", i, "value", file=file))
    elif value < 0:
        problems.append(_problem(f"negative factor {value:g}", i, "value", "a consumption factor is >= 0", file))
    unit = rec.get("unit")
    if unit not in _UNITS:
        problems.append(_problem(f"unknown unit {unit!r}", i, "unit", "valid: " + ", ".join(_UNITS), file))
    climate, cycle = rec.get("climate"), rec.get("ration_cycle")
    if climate is not None and climate not in CLIMATES:
        problems.append(_problem(f"unknown climate {climate!r}", i, "climate", "valid: " + ", ".join(CLIMATES), file))
    if cycle is not None and cycle not in RATION_CYCLES:
        problems.append(
            _problem(f"unknown ration cycle {cycle!r}", i, "ration_cycle", "valid: " + ", ".join(RATION_CYCLES), file)
        )
    try:
        evidence = Evidence(rec.get("evidence", "I"))
    except ValueError:
        problems.append(
            _problem(f"unknown evidence label {rec.get('evidence')!r}", i, "evidence", "valid: R, A, U, I", file)
        )
        evidence = Evidence.UNKNOWN
    if not rec.get("table"):
        problems.append(_problem("a factor needs its source table", i, "table", file=file))
    comps = rec.get("components") or {}
    if not isinstance(comps, dict):
        problems.append(_problem("components must be a mapping name: value", i, "components", file=file))
        comps = {}
    for name, cv in comps.items():
        if isinstance(cv, bool) or not isinstance(cv, int | float) or cv < 0:
            problems.append(_problem(f"component {name!r} must be a number >= 0", i, f"components.{name}", file=file))
    if len(problems) > n0 or not isinstance(value, int | float):  # the value was checked above
        return None
    if comps and abs(sum(comps.values()) - value) > 1e-9:
        problems.append(
            _problem(
                f"components add up to {sum(comps.values()):g}, not the total {value:g}", i, "components", file=file
            )
        )
        return None
    return Factor(
        supply_class=SupplyClass(cls_text),
        value=float(value),
        unit=str(unit),
        table=str(rec["table"]),
        evidence=evidence,
        verified=bool(rec.get("verified", False)),
        climate=climate,
        ration_cycle=cycle,
        note=str(rec.get("note", "")),
        components=tuple((str(k), float(v)) for k, v in comps.items()),
        row=i,
    )


def parse_factors(text: str, file: str = _FILE) -> FactorTable:
    """Parse and validate a factor table; every problem at once (:class:`InputError`)."""
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise InputError([Problem(f"malformed YAML: {exc}", file=file)]) from None
    problems: list[Problem] = []
    if not isinstance(data, dict) or not isinstance(data.get("factors"), list):
        raise InputError([Problem("expected a mapping with a 'factors' list", file=file, field="factors")])
    conv = data.get("conversions") or {}
    for key in ("lb_to_kg", "gal_to_l"):
        if not isinstance(conv.get(key), int | float) or conv[key] <= 0:
            problems.append(_problem(f"conversion {key} missing or not > 0", None, f"conversions.{key}", file=file))
    factors = [_parse_factor(i, rec, file, problems) for i, rec in enumerate(data["factors"], start=1)]
    seen: dict[tuple[object, ...], int] = {}
    for f in factors:
        if f is None:
            continue
        ident = (f.supply_class, f.climate, f.ration_cycle)
        if ident in seen:
            problems.append(
                _problem(
                    f"factor for {f.supply_class.value} given twice (first at row {seen[ident]})",
                    f.row,
                    "class",
                    file=file,
                )
            )
        seen.setdefault(ident, f.row)
    if problems:
        raise InputError(problems)
    return FactorTable(
        tuple(f for f in factors if f is not None),
        {k: float(conv[k]) for k in conv},
        {str(k): str(v) for k, v in (data.get("sources") or {}).items()},
        file,
    )


def load_factors(path: str | Path | None = None) -> FactorTable:
    """The packaged doctrinal table, or one from ``path``."""
    if path is None:
        return _packaged()
    p = Path(path)
    return parse_factors(p.read_text(encoding="utf-8"), p.name)


@lru_cache(maxsize=1)
def _packaged() -> FactorTable:
    text = resources.files("coalition.sustain").joinpath("data", _FILE).read_text(encoding="utf-8")
    return parse_factors(text, f"coalition/sustain/data/{_FILE}")


# ---------------------------------------------------------------------------------------------
# Per-capability (scenario) factors
# ---------------------------------------------------------------------------------------------


def capability_factor(scenario: Scenario, capability: str, cls: SupplyClass, activity: str) -> FactorRef:
    """The scenario's factor for one capability, class and activity level; unknown when none."""
    for f in scenario.sustainment.factors:
        if f.capability == capability and f.supply_class is cls and f.activity == activity:
            flags = ("illustrative",) if f.evidence in (Evidence.ILLUSTRATIVE, Evidence.APPROXIMATE) else ()
            return FactorRef(
                f.per_person_day, f"scenario factor {capability}/{activity} [{f.evidence.value}]", f.evidence, flags
            )
    return FactorRef(
        None, f"no scenario factor for {capability} ({cls.value}, {activity})", Evidence.UNKNOWN, ("unknown",)
    )


def resolve(table: FactorTable, scenario: Scenario, capability: str, cls: SupplyClass) -> FactorRef:
    """The per-person-day factor (base unit) of one capability's personnel for one class."""
    s = scenario.sustainment
    if cls in DOCTRINAL:
        return table.doctrinal(cls, climate=s.climate, ration_cycle=s.ration_cycle)
    return capability_factor(scenario, capability, cls, s.activity)
