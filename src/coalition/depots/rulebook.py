"""The explosives-safety rule table as typed records (loaded from ``data/rulebook.yaml``).

Every value a check uses is a record here with its source and status tag (V-P, V-S, V-S2, C, U).
Lookups return the record together with whether it is *unverified*: anything not primary-verified
(status other than V-P: the verification pass found no primary text for any value, so outputs flag
every value they depend on), or borrowed from a parent profile because the profile itself has no
value (e.g. us-desr has no VBD k, so the iatg value is used and flagged). Verifying a value later is
a change to the YAML only.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from coalition.errors import InputError, Problem

RULEBOOK_PATH = Path(__file__).with_name("data") / "rulebook.yaml"

#: 1 ft/lb^(1/3) in m/kg^(1/3)  (storage-safety.md §6, T20)
FT_LB_TO_M_KG = 0.3048 / 0.45359237 ** (1.0 / 3.0)
FT_TO_M = 0.3048

RELATIONS: tuple[str, ...] = ("IMD", "PBD", "PTRD", "IBD", "VBD", "IBD-LD")
HD_CLASSES: tuple[str, ...] = ("1.1", "1.2", "1.3", "1.4", "1.4S")
FACES: tuple[str, ...] = ("*", "front", "side", "rear")
ECM_TYPES: tuple[str, ...] = ("*", "7-bar", "3-bar", "undefined")
LB = 0.45359237


@dataclass(frozen=True, slots=True)
class Siting:
    """How a PES and an exposed site stand to each other: the keys a distance record is chosen by
    ("*": not given, any record matches)."""

    pes_kind: str = "*"
    pes_face: str = "*"
    es_kind: str = "*"
    traversed: bool = False
    es_face: str = "*"
    es_type: str = "*"


ANY_SITING = Siting()


class Status(StrEnum):
    PRIMARY = "V-P"
    SECONDARY = "V-S"
    SECONDARY2 = "V-S2"
    COMPUTED = "C"
    UNVERIFIED = "U"


class Record(BaseModel):
    """One sourced entry of the rule book: its id, verification status and source."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    status: Status
    source: str = ""


class Piece(Record):
    """One piece of a piecewise law, valid up to ``to_kg`` (None = no upper bound stated)."""

    to_kg: float | None = Field(default=None, gt=0)
    formula: Literal["cube_root", "sqrt", "power"]
    k: float | None = Field(default=None, gt=0)
    k_ft_lb: float | None = Field(default=None, gt=0)
    a_ft_lb: float | None = Field(default=None, gt=0, description="power law D_ft = a·W_lb^exponent")
    exponent: float | None = Field(default=None, gt=0, lt=1)

    @model_validator(mode="after")
    def _complete(self) -> Piece:
        if self.formula == "power" and (self.a_ft_lb is None or self.exponent is None):
            raise ValueError(f"{self.id}: a power piece needs a_ft_lb and exponent")
        if self.formula != "power" and self.k is None and self.k_ft_lb is None:
            raise ValueError(f"{self.id}: formula {self.formula} needs k or k_ft_lb")
        return self

    @property
    def k_si(self) -> float | None:
        if self.k is not None:
            return self.k
        return None if self.k_ft_lb is None else self.k_ft_lb * FT_LB_TO_M_KG

    def describe(self) -> str:
        if self.formula == "power":
            return f"{self.a_ft_lb:g}·W^{self.exponent:g} (ft, lb)"
        root = "1/3" if self.formula == "cube_root" else "1/2"
        text = f"{self.k_si:.3f}·Q^({root})"
        return text + (f" (K{self.k_ft_lb:g})" if self.k_ft_lb else "")


class DistanceRule(Record):
    profile: str
    hd: Literal["1.1", "1.2", "1.3", "1.4", "1.4S"]
    relation: str
    pes_kind: str = "*"
    pes_face: str = "*"
    es_kind: str = "*"
    es_face: str = "*"
    es_type: str = "*"
    traversed: Literal["*", "yes", "no"] = "*"
    formula: Literal["cube_root", "sqrt", "table", "fixed", "none", "piecewise"]
    k: float | None = Field(default=None, gt=0)
    k_ft_lb: float | None = Field(default=None, gt=0)
    rows: tuple[tuple[float, float], ...] = ()
    pieces: tuple[Piece, ...] = ()
    min_m: float | None = Field(default=None, ge=0)
    valid_max_kg: float | None = Field(default=None, gt=0, description="the NEQ range the formula holds for")

    @model_validator(mode="after")
    def _complete(self) -> DistanceRule:
        if self.formula in ("cube_root", "sqrt") and self.k is None and self.k_ft_lb is None:
            raise ValueError(f"{self.id}: formula {self.formula} needs k or k_ft_lb")
        if self.formula in ("cube_root", "sqrt") and self.valid_max_kg is None:
            raise ValueError(f"{self.id}: formula {self.formula} needs valid_max_kg (the NEQ range it holds for)")
        if self.formula == "table" and not self.rows:
            raise ValueError(f"{self.id}: formula table needs rows")
        if self.formula == "piecewise":
            if not self.pieces:
                raise ValueError(f"{self.id}: formula piecewise needs pieces")
            ends = [p.to_kg for p in self.pieces]
            if any(e is None for e in ends[:-1]) or any(
                a is not None and b is not None and b <= a for a, b in pairwise(ends)
            ):
                raise ValueError(f"{self.id}: pieces must have increasing to_kg (only the last may be open)")
        if self.formula == "fixed" and self.min_m is None:
            raise ValueError(f"{self.id}: formula fixed needs min_m")
        if self.rows and any(b[0] <= a[0] for a, b in pairwise(self.rows)):
            raise ValueError(f"{self.id}: table rows must have increasing NEQ")
        if self.rows and any(b[1] < a[1] for a, b in pairwise(self.rows)):
            raise ValueError(f"{self.id}: table distances must not decrease with NEQ (a larger NEQ never needs less)")
        return self

    @property
    def upper_kg(self) -> float | None:
        """The largest NEQ any piece of this rule holds for (None = no bound)."""
        if self.formula == "table":
            return self.rows[-1][0]
        if self.formula == "piecewise":
            last = self.pieces[-1].to_kg
            return (
                last
                if self.valid_max_kg is None
                else (self.valid_max_kg if last is None else min(last, self.valid_max_kg))
            )
        return self.valid_max_kg

    @property
    def k_si(self) -> float | None:
        """k in m/kg^(1/3) (converted from ft/lb^(1/3) when the source is imperial)."""
        if self.k is not None:
            return self.k
        return None if self.k_ft_lb is None else self.k_ft_lb * FT_LB_TO_M_KG

    def describe(self) -> str:
        if self.formula == "piecewise":
            parts = [
                f"{p.describe()} to {p.to_kg:,.0f} kg" if p.to_kg else f"{p.describe()} above" for p in self.pieces
            ]
            return "piecewise: " + "; ".join(parts)
        if self.formula == "cube_root":
            text = f"D = {self.k_si:.3f}·Q^(1/3)"
            return text + (f" (K{self.k_ft_lb:g} ft/lb^(1/3))" if self.k_ft_lb else "")
        if self.formula == "sqrt":
            return f"D = {self.k_si:g}·Q^(1/2)"
        if self.formula == "table":
            return "table (Q not over → D): " + ", ".join(f"{q:g} kg → {d:g} m" for q, d in self.rows)
        if self.formula == "fixed":
            return f"fixed {self.min_m:g} m"
        return "no quantity-distance"


class MinimumRule(Record):
    """A fixed floor, or the fragment envelope (largest DFD row at the NEQ, at least ``min_m``)."""

    profile: str
    hd: str
    relations: tuple[str, ...]
    pes_kind: str = "*"
    condition: Literal["*", "heavy-case"] = "*"
    function: Literal["fixed", "fragment-envelope"] = "fixed"
    min_m: float | None = Field(default=None, ge=0)
    min_ft: float | None = Field(default=None, ge=0)

    @property
    def metres(self) -> float:
        if self.min_m is not None:
            return self.min_m
        return float(self.min_ft or 0.0) * FT_TO_M


class FragmentFunction(Record):
    """One debris/fragment distance row (AASTP-1 Ed D Table 6), metres from kg NEQ."""

    formula: Literal["power", "linear", "log", "plateau", "sqrt_offset"]
    a: float = 0.0
    b: float = 0.0
    c: float = 0.0
    value: float = 0.0
    min_kg: float = 0.0
    max_kg: float | None = None


class CurveRule(Record):
    formula: Literal["three_piece", "piecewise"]
    a: float = 0.0
    b: float = 0.0
    k: float = 0.0
    q1: float = 0.0
    q2: float = 0.0
    pieces: tuple[Piece, ...] = ()
    valid_max_kg: float | None = None


class AggregationRule(Record):
    profile: str
    rule: Literal["treat-as-1.1", "underground-as-1.1", "sum-with-1.1", "separate-max", "not-counted-when-mixed"]
    hd: str | None = None
    hds: tuple[str, ...] = ()


class Footnote(Record):
    text: str
    requires_assertion: bool = True
    forbids_hd: tuple[str, ...] = ()
    requires_identical_item: bool = False
    counted: bool = False


class GeometryRule(Record):
    value: float


@dataclass(frozen=True, slots=True)
class Resolved:
    """A looked-up record and whether the output must flag it as an unverified default."""

    record: Any
    borrowed: bool = False

    @property
    def unverified(self) -> bool:
        return self.borrowed or self.record.status != Status.PRIMARY

    @property
    def label(self) -> str:
        rec = self.record
        suffix = " (borrowed from iatg)" if self.borrowed else ""
        return f"{rec.id}{suffix}"


class RuleBook:
    """All rule records with indexed lookups; build with :func:`load_rulebook`."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.profiles: dict[str, dict[str, Any]] = dict(raw["profiles"])
        cls = raw["classification"]
        self.classification = Record(id=cls["id"], status=cls["status"], source=cls["source"])
        self.legal_codes: dict[str, str] = {hd: "".join(cgs) for hd, cgs in cls["codes"].items()}
        self.distances = tuple(DistanceRule(**r) for r in raw["distances"])
        self.minimums = tuple(MinimumRule(**r) for r in raw["minimums"])
        self.fragment_functions = tuple(FragmentFunction(**r) for r in raw.get("fragment_functions", []))
        self.conventions = {r["id"]: Record(**r) for r in raw.get("conventions", [])}
        self.curves = {r["id"]: CurveRule(**r) for r in raw.get("curves", [])}
        self.aggregation = tuple(AggregationRule(**r) for r in raw["aggregation"])
        mixing = raw["mixing"]
        self.groups: tuple[str, ...] = tuple(mixing["groups"])
        self.mixing_tables: dict[str, dict[str, Any]] = {}
        for name, table in mixing["tables"].items():
            cells: dict[tuple[str, str], str] = {}
            for a in self.groups:
                tokens = table["rows"][a].split()
                if len(tokens) != len(self.groups):
                    raise ValueError(f"mixing table {name} row {a}: {len(tokens)} cells")
                for b, tok in zip(self.groups, tokens, strict=True):
                    cells[(a, b)] = tok
            for (a, b), tok in cells.items():
                if cells[(b, a)] != tok:
                    raise ValueError(f"mixing table {name} is not symmetric at {a}/{b}")
            self.mixing_tables[name] = {
                "cells": cells,
                "status": Status(table["status"]),
                "source": table["source"],
            }
        self.mixing_profiles: dict[str, dict[str, Any]] = dict(mixing["profiles"])
        self.footnotes = {
            fid: Footnote(id=fid, **{k: v for k, v in f.items()}) for fid, f in mixing["footnotes"].items()
        }
        self.geometry = {r["id"]: GeometryRule(**r) for r in raw["geometry"]}
        rnd = raw["rounding"]
        self.rounding = Record(id=rnd["id"], status=rnd["status"], source=rnd["source"])
        profiled: tuple[DistanceRule | MinimumRule | AggregationRule, ...] = (
            *self.distances,
            *self.minimums,
            *self.aggregation,
        )
        for r in profiled:
            if r.profile not in self.profiles:
                raise ValueError(f"{r.id}: unknown profile {r.profile}")
        self._dist_cache: dict[tuple[str, ...], Resolved | None] = {}

    # -- lookups --------------------------------------------------------------------------------
    def _chain(self, profile: str) -> list[str]:
        if profile not in self.profiles:
            raise InputError(
                [
                    Problem(
                        f"unknown rule profile '{profile}'", field="profile", hint=f"valid: {', '.join(self.profiles)}"
                    )
                ]
            )
        chain = [profile]
        while (parent := self.profiles[chain[-1]].get("inherits")) is not None:
            chain.append(parent)
        return chain

    def distance_rule(
        self,
        profile: str,
        hd: str,
        relation: str,
        siting: Siting = ANY_SITING,
    ) -> Resolved | None:
        """The most specific distance record for this case, searching the profile then its parents."""
        pes_kind, pes_face, es_kind, es_face, es_type = (
            siting.pes_kind,
            siting.pes_face,
            siting.es_kind,
            siting.es_face,
            siting.es_type,
        )
        traversed = siting.traversed
        key = (profile, hd, relation, pes_kind, pes_face, es_kind, str(traversed), es_face, es_type)
        if key in self._dist_cache:
            return self._dist_cache[key]
        trav = "yes" if traversed else "no"
        found: Resolved | None = None
        for depth, prof in enumerate(self._chain(profile)):
            best: tuple[int, DistanceRule] | None = None
            for r in self.distances:
                if r.profile != prof or r.hd != hd or r.relation not in (relation, "*"):
                    continue
                if r.pes_kind not in ("*", pes_kind) or r.pes_face not in ("*", pes_face):
                    continue
                if r.es_kind not in ("*", es_kind) or r.traversed not in ("*", trav):
                    continue
                if r.es_face not in ("*", es_face) or r.es_type not in ("*", es_type):
                    continue
                score = sum(
                    v != "*" for v in (r.relation, r.pes_kind, r.pes_face, r.es_kind, r.traversed, r.es_face, r.es_type)
                )
                if best is None or score > best[0]:
                    best = (score, r)
            if best is not None:
                found = Resolved(best[1], borrowed=depth > 0)
                break
        self._dist_cache[key] = found
        return found

    def minimums_for(
        self, profile: str, hd: str, relation: str, pes_kind: str = "*", heavy: bool = False
    ) -> tuple[Resolved, ...]:
        """Every applicable minimum (fixed or NEQ-dependent); the larger value at the NEQ governs."""
        for depth, prof in enumerate(self._chain(profile)):
            own = [
                r
                for r in self.minimums
                if r.profile == prof
                and r.hd == hd
                and relation in r.relations
                and r.pes_kind in ("*", pes_kind)
                and (r.condition == "*" or heavy)
            ]
            if own:
                return tuple(Resolved(r, borrowed=depth > 0) for r in own)
        return ()

    def profile_setting(self, profile: str, key: str, default: Any = None) -> Any:
        for prof in self._chain(profile):
            if key in self.profiles[prof]:
                return self.profiles[prof][key]
        return default

    def aggregation_rules(self, profile: str) -> dict[str, list[Resolved]]:
        for depth, prof in enumerate(self._chain(profile)):
            own = [r for r in self.aggregation if r.profile == prof]
            if own:
                out: dict[str, list[Resolved]] = {}
                for r in own:
                    out.setdefault(r.rule, []).append(Resolved(r, borrowed=depth > 0))
                return out
        return {}

    def mixing_for(self, profile: str) -> tuple[str, dict[tuple[str, str], str], Status, str]:
        """(table name, cells, status of the table for this profile, source)."""
        self._chain(profile)
        spec = self.mixing_profiles.get(profile) or self.mixing_profiles["iatg"]
        table = self.mixing_tables[spec["table"]]
        status = Status(spec.get("status", table["status"]))
        source = table["source"] + (f"; {spec['note']}" if spec.get("note") else "")
        return spec["table"], table["cells"], status, source

    def record(self, record_id: str) -> Record | None:
        """Any record by id (for 'what does this id mean' in outputs and docs)."""
        for r in (*self.distances, *self.minimums, *self.aggregation, *self.fragment_functions):
            if r.id == record_id:
                return r
        for r in self.distances:
            for piece in r.pieces:
                if piece.id == record_id:
                    return piece
        return (
            self.curves.get(record_id)
            or self.conventions.get(record_id)
            or self.footnotes.get(record_id)
            or self.geometry.get(record_id)
            or (self.rounding if record_id == self.rounding.id else None)
            or (self.classification if record_id == self.classification.id else None)
        )

    def all_records(self) -> list[Record]:
        return [
            self.classification,
            *self.distances,
            *self.minimums,
            *self.fragment_functions,
            *self.curves.values(),
            *self.conventions.values(),
            *self.aggregation,
            *self.footnotes.values(),
            *self.geometry.values(),
            self.rounding,
        ]


def parse_rulebook(text: str) -> RuleBook:
    return RuleBook(yaml.safe_load(text))


@lru_cache(maxsize=4)
def load_rulebook(path: str | None = None) -> RuleBook:
    """The bundled rule table (or another file with the same shape)."""
    return parse_rulebook(Path(path or RULEBOOK_PATH).read_text(encoding="utf-8"))


def _value_text(rec: Record) -> str:
    if isinstance(rec, DistanceRule):
        scope = ", ".join(
            f"{k}={v}"
            for k, v in (
                ("PES", rec.pes_kind),
                ("face", rec.pes_face),
                ("ES", rec.es_kind),
                ("ES face", rec.es_face),
                ("ES type", rec.es_type),
                ("traversed", rec.traversed),
            )
            if v != "*"
        )
        rng = (
            f"; valid to {rec.upper_kg:,.0f} kg"
            if rec.upper_kg
            else ("" if rec.formula in ("none", "fixed") else "; no upper bound stated")
        )
        return f"HD {rec.hd} {rec.relation}: {rec.describe()}{rng}" + (f" [{scope}]" if scope else "")
    if isinstance(rec, Piece):
        return rec.describe() + (f" to {rec.to_kg:,.0f} kg" if rec.to_kg else " (no upper bound stated)")
    if isinstance(rec, MinimumRule):
        cond = f" ({rec.condition})" if rec.condition != "*" else ""
        scope = f" PES={rec.pes_kind}" if rec.pes_kind != "*" else ""
        unit = f"{rec.min_ft:g} ft = " if rec.min_ft is not None else ""
        what = "fragment envelope (largest DFD row), at least " if rec.function == "fragment-envelope" else ""
        return f"HD {rec.hd} {'/'.join(rec.relations)} minimum {what}{unit}{rec.metres:.1f} m{cond}{scope}"
    if isinstance(rec, FragmentFunction):
        rng = (
            f" for {rec.min_kg:g}-{rec.max_kg:g} kg"
            if rec.max_kg
            else (f" from {rec.min_kg:g} kg" if rec.min_kg else "")
        )
        return {
            "power": f"{rec.a:g}·Q^{rec.b:g}",
            "linear": f"{rec.a:g}·Q + {rec.b:g}",
            "log": f"{rec.a:g}·ln Q {rec.b:+g}",
            "plateau": f"{rec.value:g} m",
            "sqrt_offset": f"{rec.a:g} + {rec.b:g}·(Q − {rec.c:g})^0.5",
        }[rec.formula] + rng
    if isinstance(rec, CurveRule):
        if rec.formula == "piecewise":
            return (
                "; ".join(f"{p.describe()} to {p.to_kg:,.0f} kg" for p in rec.pieces)
                + f"; refused above {rec.valid_max_kg:,.0f} kg (not bound to a relation)"
            )
        return (
            f"{rec.a}·Q^(2/3) below {rec.q1:g} kg, {rec.b}·Q^(1/2) to {rec.q2:g} kg, "
            f"{rec.k}·Q^(1/3) above, to {rec.valid_max_kg:,.0f} kg (not bound to a relation)"
        )
    if isinstance(rec, AggregationRule):
        what = rec.hd or "+".join(rec.hds)
        return f"{rec.rule} ({what})"
    if isinstance(rec, Footnote):
        needs = "asserted by the plan" if rec.requires_assertion else "checked from item identity"
        return f"{rec.text} — {needs}" + (f"; fails if any is HD {'/'.join(rec.forbids_hd)}" if rec.forbids_hd else "")
    if isinstance(rec, GeometryRule):
        return f"{rec.value:g}"
    return ""


def rulebook_markdown(book: RuleBook) -> str:
    """The rule table as markdown (docs/storage-rules.md is generated from this)."""
    out = [
        "| id | profile | rule and value | status | source |",
        "|---|---|---|---|---|",
    ]
    for rec in book.all_records():
        profile = getattr(rec, "profile", "all")
        source = rec.source.replace("|", "/")
        out.append(f"| `{rec.id}` | {profile} | {_value_text(rec)} | **{rec.status.value}** | {source} |")
    out.append("")
    out.append("Mixing tables (A B C D E F G H J K L N S; X together, . not permitted, n = footnote fn<n>):")
    out.append("")
    for name, table in book.mixing_tables.items():
        out.append(f"**{name}** — status {table['status'].value}; {table['source']}")
        out.append("")
        out.append("```")
        out.append("    " + " ".join(book.groups))
        for a in book.groups:
            out.append(f"{a}   " + " ".join(table["cells"][(a, b)] for b in book.groups))
        out.append("```")
        out.append("")
    for prof, spec in book.mixing_profiles.items():
        out.append(
            f"- profile `{prof}` uses table `{spec['table']}` with status **{spec.get('status')}**"
            + (f" ({spec['note']})" if spec.get("note") else "")
        )
    return "\n".join(out) + "\n"


def short_value(book: RuleBook, label: str) -> str:
    """'iatg.1.1.IBD.min' → 'iatg.1.1.IBD.min = 270 m' (labels may carry a '(borrowed …)' suffix)."""
    rid = label.split(" ")[0]
    rec = book.record(rid)
    if isinstance(rec, DistanceRule):
        if rec.formula in ("cube_root", "sqrt"):
            value = f"k {rec.k_si:.4g}"
        elif rec.formula == "piecewise":
            value = rec.describe()
        elif rec.formula == "fixed":
            value = f"{rec.min_m:g} m"
        elif rec.formula == "table":
            value = "table " + ", ".join(f"≤{q:g} kg→{d:g} m" for q, d in rec.rows)
        else:
            value = "no Q-D"
    elif isinstance(rec, Piece):
        value = rec.describe()
    elif isinstance(rec, MinimumRule):
        value = f"max(DFD rows, {rec.metres:.4g} m)" if rec.function == "fragment-envelope" else f"{rec.metres:.4g} m"
    elif isinstance(rec, GeometryRule):
        value = f"{rec.value:g}"
    elif isinstance(rec, AggregationRule):
        value = rec.rule
    elif isinstance(rec, Footnote):
        value = rec.text
    elif rec is None:
        return label
    else:
        value = ""
    status = f" [{rec.status.value}]"
    return f"{label} = {value}{status}" if value else f"{label}{status}"
