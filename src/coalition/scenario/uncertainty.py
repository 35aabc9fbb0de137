"""Uncertainty as data: the optional ``uncertainty:`` section of a scenario (pydantic v2).

What may vary between joint scenarios (EMA Workbench's "uncertainties"), stated as data with
evidence and source like every other fact:

* **conditions**: rows ``{condition, probability, evidence, source}``: the probability that a
  base condition of the scenario holds, optionally with a ``date`` distribution (the condition
  becomes true on the drawn date) and a ``driver`` (see below). A condition without a row keeps
  its nominal value (timeline and assumptions).
* **drivers**: latent yes/no factors that correlate conditions. A condition (or driver) row with
  ``driver: X`` holds with ``probability`` when X holds and with ``probability_if_not`` when it
  does not. A driver may itself be a condition row (``driver: us_backstop`` makes one draw of
  ``us_backstop`` drive parliament votes). Drivers must not be cyclic.
* **participation** per nation: the share of each of its pledges' units that actually deploys
  (``fixed``, ``uniform``, ``triangular`` or ``discrete``; default 1.0, Cockram's "degree of
  participation").

This module is pure: field rules live on the models; :func:`check_uncertainty` checks the
section against the scenario (unknown conditions and nations, cyclic drivers, impossible date
ranges) and returns problems that name the file, row and field. The scenario package owns the
section (schema and validation, run by ``coalition validate``); the analysis
(:mod:`coalition.analysis.sampling`) only reads it, so the dependency runs analysis -> scenario,
never back. It imports no other scenario module so that ``coalition.scenario.schemas`` can hold
it as a field.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from coalition.errors import Problem, closest

#: The scenario's evidence labels (scenario.schemas.Evidence): Reported, Approximate, Unknown,
#: Illustrative. Kept as a literal here so this module does not import the scenario package.
EvidenceLabel = Literal["R", "A", "U", "I"]
Probability = Annotated[float, Field(ge=0.0, le=1.0, description="a probability in [0, 1]")]
Share = Annotated[float, Field(ge=0.0, le=1.0, description="a share of the pledged units, 0..1")]
Name = Annotated[
    str,
    Field(
        pattern=r"^[a-z][a-z0-9_]*(\.[A-Za-z0-9_\-]+)?$",
        max_length=80,
        description="a condition or driver name, e.g. 'us_backstop', 'parliament.DEU'",
    ),
]

#: The analysis is conditional on a ceasefire (C-day exists): its *date* may be uncertain, its
#: holding may not.
CEASEFIRE = "ceasefire"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class _Sourced(_Frozen):
    evidence: EvidenceLabel = "I"
    source: str = Field(default="", max_length=4000)


class DateDistribution(_Frozen):
    """When a condition becomes true, given that it holds.

    ``triangular``: earliest <= mode <= latest (earliest < latest); ``uniform``: earliest <
    latest; ``empirical``: ``dates`` with ``weights`` (same length, non-negative, not all 0;
    equal weights when omitted). Days are whole: a draw is rounded down to a date.
    """

    distribution: Literal["triangular", "uniform", "empirical"]
    earliest: date | None = None
    mode: date | None = None
    latest: date | None = None
    dates: tuple[date, ...] = ()
    weights: tuple[Annotated[float, Field(ge=0)], ...] = ()

    def support(self) -> tuple[date, ...]:
        """Discrete support (empirical only), in the order given."""
        return self.dates if self.distribution == "empirical" else ()


class ConditionUncertainty(_Sourced):
    condition: Name
    probability: Probability = Field(description="P(holds), or P(holds | driver holds)")
    driver: Name | None = Field(default=None, description="a driver or another condition row")
    probability_if_not: Probability | None = Field(
        default=None, description="P(holds | driver does not hold); required with a driver"
    )
    date: DateDistribution | None = None
    description: str = Field(default="", max_length=1000)


class Driver(_Sourced):
    """A latent yes/no factor shared by several conditions (a correlated group)."""

    name: Name
    probability: Probability
    driver: Name | None = None
    probability_if_not: Probability | None = None
    description: str = Field(default="", max_length=1000)


class Participation(_Sourced):
    """Share of each pledge of ``nation`` whose units deploy (deployed units = round(share x
    pledged units), halves up)."""

    nation: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    distribution: Literal["fixed", "uniform", "triangular", "discrete"] = "fixed"
    share: Share | None = Field(default=None, description="fixed")
    low: Share | None = Field(default=None, description="uniform / triangular")
    mode: Share | None = Field(default=None, description="triangular")
    high: Share | None = Field(default=None, description="uniform / triangular")
    values: tuple[Share, ...] = Field(default=(), description="discrete")
    weights: tuple[Annotated[float, Field(ge=0)], ...] = Field(default=(), description="discrete")

    @model_validator(mode="after")
    def _fields_of_distribution(self) -> Participation:
        need = {
            "fixed": ("share",),
            "uniform": ("low", "high"),
            "triangular": ("low", "mode", "high"),
            "discrete": ("values",),
        }[self.distribution]
        missing = [f for f in need if getattr(self, f) in (None, ())]
        if missing:
            raise ValueError(f"a {self.distribution} participation needs {', '.join(missing)}")
        return self


class Uncertainty(_Frozen):
    """The ``uncertainty:`` section of a scenario."""

    illustrative: bool = Field(default=True, description="the numbers are a choice, not facts")
    description: str = Field(default="", max_length=4000)
    conditions: tuple[ConditionUncertainty, ...] = ()
    drivers: tuple[Driver, ...] = ()
    participation: tuple[Participation, ...] = ()

    def condition(self, name: str) -> ConditionUncertainty | None:
        return next((c for c in self.conditions if c.condition == name), None)


# ---------------------------------------------------------------------------------------------
# Pure validation against the scenario
# ---------------------------------------------------------------------------------------------

#: Locates a row: (table, index, field path) -> Problem keyword arguments (file, row, field).
Where = Callable[..., dict[str, Any]]

TABLE_CONDITIONS = "uncertainty.conditions"
TABLE_DRIVERS = "uncertainty.drivers"
TABLE_PARTICIPATION = "uncertainty.participation"


def _default_where(table: str, index: int, *field: Any) -> dict[str, Any]:
    names = [str(p) for p in field if not isinstance(p, int)]
    return {"file": table, "row": index + 1, "field": names[-1] if names else None}


def _hint(name: str, valid: Iterable[str]) -> str:
    valid = sorted(set(valid))
    guess = closest(name, valid)
    return f"did you mean '{guess}'?" if guess else "valid: " + ", ".join(valid[:12])


def driver_cycles(parents: dict[str, str | None]) -> list[tuple[str, ...]]:
    """Cycles in the driver graph (node -> its driver), each as ``(a, b, ..., a)``."""
    cycles: list[tuple[str, ...]] = []
    seen: set[str] = set()
    for start in sorted(parents):
        path: list[str] = []
        node: str | None = start
        while node is not None and node in parents and node not in seen and node not in path:
            path.append(node)
            node = parents[node]
        if node is not None and node in path:
            cyc = path[path.index(node) :] + [node]
            k = cyc.index(min(cyc[:-1]))  # a canonical rotation: report each cycle once
            canon = tuple(cyc[k:-1] + cyc[:k] + [cyc[k]])
            if canon not in cycles:
                cycles.append(canon)
        seen.update(path)
    return cycles


def topological_order(u: Uncertainty) -> list[str]:
    """Drivers and condition rows, each after its driver (assumes no cycles)."""
    parents = {d.name: d.driver for d in u.drivers} | {c.condition: c.driver for c in u.conditions}
    order: list[str] = []
    done: set[str] = set()

    def visit(n: str) -> None:
        if n in done:
            return
        p = parents.get(n)
        if p is not None and p in parents:
            visit(p)
        done.add(n)
        order.append(n)

    for d in u.drivers:
        visit(d.name)
    for c in u.conditions:
        visit(c.condition)
    return order


def _check_date(where: Where, i: int, d: DateDistribution, horizon_end: date | None) -> list[Problem]:
    out: list[Problem] = []
    f = ("date",)
    if d.distribution in ("triangular", "uniform"):
        for name in ("earliest", "latest") + (("mode",) if d.distribution == "triangular" else ()):
            if getattr(d, name) is None:
                out.append(Problem(f"a {d.distribution} date needs '{name}'", **where(TABLE_CONDITIONS, i, *f, name)))
        if out:
            return out
        assert d.earliest is not None and d.latest is not None
        if d.earliest >= d.latest:
            out.append(
                Problem(
                    f"impossible date range: earliest {d.earliest} is not before latest {d.latest}",
                    hint="give earliest < latest",
                    **where(TABLE_CONDITIONS, i, *f, "latest"),
                )
            )
        if d.distribution == "triangular" and d.mode is not None and not (d.earliest <= d.mode <= d.latest):
            out.append(
                Problem(
                    f"impossible date range: mode {d.mode} is outside {d.earliest}..{d.latest}",
                    hint="give earliest <= mode <= latest",
                    **where(TABLE_CONDITIONS, i, *f, "mode"),
                )
            )
    else:
        if not d.dates:
            out.append(
                Problem("an empirical date distribution needs 'dates'", **where(TABLE_CONDITIONS, i, *f, "dates"))
            )
        if d.weights and len(d.weights) != len(d.dates):
            out.append(
                Problem(
                    f"{len(d.weights)} weight(s) for {len(d.dates)} date(s)",
                    hint="one weight per date, or none for equal weights",
                    **where(TABLE_CONDITIONS, i, *f, "weights"),
                )
            )
        elif d.weights and sum(d.weights) <= 0:
            out.append(
                Problem(
                    "the weights sum to 0",
                    hint="give at least one positive weight",
                    **where(TABLE_CONDITIONS, i, *f, "weights"),
                )
            )
        if len(set(d.dates)) != len(d.dates):
            out.append(Problem("a date is given twice", **where(TABLE_CONDITIONS, i, *f, "dates")))
    if d.mode is not None and d.distribution != "triangular":
        out.append(
            Problem(
                f"'mode' is only used by a triangular date, not {d.distribution}",
                **where(TABLE_CONDITIONS, i, *f, "mode"),
            )
        )
    return out


def _check_condition_rows(u: Uncertainty, conditions: dict[str, str], w: Where) -> tuple[list[Problem], dict[str, int]]:
    """The condition rows: one per known base condition, the ceasefire certain; and the row of
    each condition (for the later checks)."""
    out: list[Problem] = []
    rows: dict[str, int] = {}
    for i, c in enumerate(u.conditions):
        if c.condition in rows:
            out.append(
                Problem(
                    f"condition {c.condition!r} has two uncertainty rows (also row "
                    f"{rows[c.condition] + 1} of the section)",
                    hint="keep one",
                    **w(TABLE_CONDITIONS, i, "condition"),
                )
            )
        rows.setdefault(c.condition, i)
        if c.condition not in conditions:
            out.append(
                Problem(
                    f"unknown condition {c.condition!r}",
                    hint=_hint(c.condition, conditions),
                    **w(TABLE_CONDITIONS, i, "condition"),
                )
            )
        elif conditions[c.condition]:
            out.append(
                Problem(
                    f"condition {c.condition!r} is derived ({conditions[c.condition]}); give the "
                    "uncertainty of the conditions it is built from",
                    **w(TABLE_CONDITIONS, i, "condition"),
                )
            )
        if c.condition == CEASEFIRE and c.probability != 1.0:
            out.append(
                Problem(
                    "the analysis is conditional on a ceasefire: its probability must be 1",
                    hint="give the uncertainty of its date with 'date:' instead",
                    **w(TABLE_CONDITIONS, i, "probability"),
                )
            )
        if c.date is not None:
            out += _check_date(w, i, c.date, None)
    return out, rows


def _check_drivers(u: Uncertainty, conditions: dict[str, str], w: Where) -> list[Problem]:
    """Driver rows: no condition's name, no name twice."""
    out: list[Problem] = []
    for i, d in enumerate(u.drivers):
        if d.name in conditions:
            out.append(
                Problem(
                    f"driver {d.name!r} has the name of a condition",
                    hint="give it a condition row instead, or another name",
                    **w(TABLE_DRIVERS, i, "name"),
                )
            )
        if sum(1 for x in u.drivers if x.name == d.name) > 1 and i == next(
            j for j, x in enumerate(u.drivers) if x.name == d.name
        ):
            out.append(Problem(f"driver {d.name!r} is defined twice", **w(TABLE_DRIVERS, i, "name")))
    return out


def _check_driven(u: Uncertainty, nodes: set[str], w: Where) -> list[Problem]:
    """A row with a driver names a known one and says P(holds | driver does not hold)."""
    out: list[Problem] = []
    driven: tuple[tuple[str, Sequence[ConditionUncertainty | Driver]], ...] = (
        (TABLE_CONDITIONS, u.conditions),
        (TABLE_DRIVERS, u.drivers),
    )
    for table, items in driven:
        for i, row in enumerate(items):
            if row.driver is None:
                if row.probability_if_not is not None:
                    out.append(
                        Problem(
                            "'probability_if_not' without a 'driver'",
                            hint="name the driver, or drop probability_if_not",
                            **w(table, i, "probability_if_not"),
                        )
                    )
                continue
            if row.driver not in nodes:
                out.append(
                    Problem(f"unknown driver {row.driver!r}", hint=_hint(row.driver, nodes), **w(table, i, "driver"))
                )
            if row.probability_if_not is None:
                out.append(
                    Problem(
                        f"a row driven by {row.driver!r} needs 'probability_if_not'",
                        hint="P(holds | driver does not hold), in [0, 1]",
                        **w(table, i, "probability_if_not"),
                    )
                )
    return out


def _check_cycles(u: Uncertainty, rows: dict[str, int], names: set[str], w: Where) -> list[Problem]:
    out: list[Problem] = []
    parents = {d.name: d.driver for d in u.drivers} | {c.condition: c.driver for c in u.conditions}
    for cyc in driver_cycles(parents):
        first = cyc[0]
        table, i = (
            (TABLE_DRIVERS, [d.name for d in u.drivers].index(first))
            if first in names
            else (TABLE_CONDITIONS, rows[first])
        )
        out.append(
            Problem(
                f"cyclic drivers: {' -> '.join(cyc)}",
                hint="a driver must not depend on itself",
                **w(table, i, "driver"),
            )
        )
    return out


def _check_participation(u: Uncertainty, nations: set[str], w: Where) -> list[Problem]:
    """Participation rows: one per pledging nation, possible ranges, matching weights."""
    out: list[Problem] = []
    seen_n: set[str] = set()
    for i, p in enumerate(u.participation):
        if p.nation in seen_n:
            out.append(Problem(f"nation {p.nation} has two participation rows", **w(TABLE_PARTICIPATION, i, "nation")))
        seen_n.add(p.nation)
        if p.nation not in nations:
            out.append(
                Problem(
                    f"nation {p.nation} pledges nothing in the scenario",
                    hint=_hint(p.nation, nations),
                    **w(TABLE_PARTICIPATION, i, "nation"),
                )
            )
        if p.distribution in ("uniform", "triangular") and p.low is not None and p.high is not None:
            if p.low > p.high or (p.distribution == "uniform" and p.low == p.high):
                out.append(
                    Problem(
                        f"impossible range: low {p.low} is not below high {p.high}", **w(TABLE_PARTICIPATION, i, "high")
                    )
                )
            if p.mode is not None and not p.low <= p.mode <= p.high:
                out.append(Problem(f"mode {p.mode} is outside {p.low}..{p.high}", **w(TABLE_PARTICIPATION, i, "mode")))
        if p.distribution == "discrete":
            if p.weights and len(p.weights) != len(p.values):
                out.append(
                    Problem(
                        f"{len(p.weights)} weight(s) for {len(p.values)} value(s)",
                        **w(TABLE_PARTICIPATION, i, "weights"),
                    )
                )
            elif p.weights and sum(p.weights) <= 0:
                out.append(Problem("the weights sum to 0", **w(TABLE_PARTICIPATION, i, "weights")))
    return out


def _check_sources(u: Uncertainty, w: Where) -> list[Problem]:
    """Warnings: a choice (I) in a section not marked illustrative; a row without a source."""
    out: list[Problem] = []
    if not u.illustrative:
        for i, c in enumerate(u.conditions):
            if c.evidence == "I":
                out.append(
                    Problem(
                        "the section is not marked illustrative but this number is a choice (I)",
                        hint="mark the section 'illustrative: true' or give evidence R/A with a source",
                        severity="warning",
                        **w(TABLE_CONDITIONS, i, "evidence"),
                    )
                )
    sourced: tuple[tuple[str, Sequence[_Sourced]], ...] = (
        (TABLE_CONDITIONS, u.conditions),
        (TABLE_DRIVERS, u.drivers),
        (TABLE_PARTICIPATION, u.participation),
    )
    for table, rows_of in sourced:
        for i, sourced_row in enumerate(rows_of):
            if not sourced_row.source.strip():
                out.append(
                    Problem(
                        "no source given",
                        hint="say where the number comes from ('illustrative: <why>' for a choice)",
                        severity="warning",
                        **w(table, i, "source"),
                    )
                )
    return out


def check_uncertainty(
    u: Uncertainty,
    *,
    conditions: dict[str, str],
    nations: set[str],
    where: Where | None = None,
) -> list[Problem]:
    """Check the section against the scenario.

    ``conditions`` maps every condition name of the scenario to its expression ('' = base);
    ``nations`` are the nations that pledge; ``where(table, index, *field)`` locates a row.
    """
    w = where or _default_where
    out, rows = _check_condition_rows(u, conditions, w)
    names = {d.name for d in u.drivers}
    out += _check_drivers(u, conditions, w)
    out += _check_driven(u, names | set(rows), w)
    out += _check_cycles(u, rows, names, w)
    out += _check_participation(u, nations, w)
    out += _check_sources(u, w)
    return out
