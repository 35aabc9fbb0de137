"""Releasability of analysis results: what a reader sees of a Monte Carlo, withdrawal, hedge or
discovery summary (pure: a stored summary and a reader view in, the reader's summary out).

The policy is the one of derived data (docs/access-control.md, "Derived data";
:mod:`coalition.planner.releasability`): of pledges a reader may not see, it learns per
requirement line only whether the coalition fills it, never a count. An analysis is many
plans, so for a reader who cannot see every pledge (``view.complete`` is false):

* **Monte Carlo**: per line and reporting day a *band* - ``always`` (filled in every world),
  ``never`` or ``sometimes`` - and nothing else. A fill probability is withheld: with a
  participation distribution it is a function of other nations' pledged units (e.g.
  P(round(share x U) >= need) differs for U = 3, 4 and 5 units), so it would let a reader
  recover a restricted count. Coverage, shortfall, convergence and timing are counts: withheld.
* **Withdrawal**: the N-1 / N-2 rows whose withdrawn nations are all nations the reader sees in
  full (its own, and nations that released every pledge to it), with the lines that would
  break (a yes/no per line under that what-if, like ``coalition_filled``), sorted by nation,
  not by damage (the order would rank them). Coverage changes, objectives, bounds, ``fill_in``,
  worst-k and Shapley values are functions of every nation's pledges: withheld.
* **Hedge**: the reader's own (visible) pledges' first-wave commitments; costs, VSS, EVPI and
  the per-line totals (which sum hidden units) are withheld.
* **Discovery**: the boxes (their conditions, densities and coverages are computed over every
  nation's pledges): withheld.

An allow-list, not a deny-list: any field not named here (a section added later) is withheld
from a partial view and listed in ``withheld``. A reader who sees every pledge gets the summary
as stored, with ``"redacted": false``.
"""

from __future__ import annotations

from typing import Any

from coalition.planner.releasability import BASIS, ReaderView

# about the question asked, not the answer: kept as they are
HEADER = frozenset(
    {
        "version",
        "kind",
        "scenario",
        "illustrative",
        "uncertainty_illustrative",
        "option",
        "method",
        "seed",
        "samples",
        "exact",
        "evaluation",
        "nominal_c_day",
        "assumptions",
        "complete",
        "k",
        "baseline_world",
        "mip_gap",
        "threshold",
        "metric",
        "quick",
        "delay",
    }
)
# rebuilt for the reader by kind
CUT = {
    "montecarlo": frozenset({"lines", "warnings"}),
    "withdrawal": frozenset({"nations", "n_1", "n_2", "warnings"}),
    "hedge": frozenset({"first_wave_by_nation", "warnings"}),
    "discover": frozenset(),
}
PARTIAL_WARNING = (
    "redacted: figures computed over other nations' pledges are withheld from you (see "
    "'withheld'); the results depend on the scenario's uncertainty set and its evidence labels"
)


def band(p: float | None) -> str | None:
    """``always`` / ``never`` / ``sometimes`` for a fill probability (None: not needed)."""
    if p is None:
        return None
    if p >= 1.0:
        return "always"
    if p <= 0.0:
        return "never"
    return "sometimes"


def _montecarlo(summary: dict[str, Any]) -> dict[str, Any]:
    lines = []
    for ln in summary.get("lines", []):
        days = {}
        for d, cell in (ln.get("by_day") or {}).items():
            days[d] = {"band": band(cell.get("p") if isinstance(cell, dict) else None)}
        lines.append({"line": ln.get("line"), "by_day": days})
    return {"lines": lines}


def _withdrawal_row(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "nations": list(row.get("nations", [])),
        "lines_broken": list(row.get("lines_broken", [])),
        "lines_broken_days": list(row.get("lines_broken_days", [])),
    }


def _withdrawal(summary: dict[str, Any], view: ReaderView) -> dict[str, Any]:
    seen = view.nations

    def rows(key: str) -> list[dict[str, Any]]:
        keep = [_withdrawal_row(r) for r in summary.get(key, []) if r.get("nations") and set(r["nations"]) <= seen]
        return sorted(keep, key=lambda r: r["nations"])

    return {
        "nations": sorted(n for n in summary.get("nations", []) if n in seen),
        "n_1": rows("n_1"),
        "n_2": rows("n_2"),
    }


def _hedge(summary: dict[str, Any], view: ReaderView) -> dict[str, Any]:
    return {
        "first_wave_by_nation": [
            dict(r) for r in summary.get("first_wave_by_nation", []) if r.get("pledge") in view.visible
        ]
    }


def summary_for(summary: dict[str, Any], view: ReaderView) -> dict[str, Any]:
    """A stored analysis summary as this reader may see it (see the module's policy)."""
    if view.complete:
        return {**summary, "redacted": False}
    kind = str(summary.get("kind", ""))
    cut = CUT.get(kind, frozenset())
    out: dict[str, Any] = {k: v for k, v in summary.items() if k in HEADER}
    if kind == "montecarlo":
        out.update(_montecarlo(summary))
    elif kind == "withdrawal":
        out.update(_withdrawal(summary, view))
    elif kind == "hedge":
        out.update(_hedge(summary, view))
    out["warnings"] = [PARTIAL_WARNING]
    out["withheld"] = sorted(k for k in summary if k not in HEADER and k not in cut)
    out["redacted"] = True
    out["basis"] = BASIS
    return out


__all__ = ["HEADER", "band", "summary_for"]
