"""Redaction of aggregate outputs (plans, gap pictures) to what a principal may see (pure).

Aggregates are coalition-wide: everyone sees which requirement lines are filled and where the
gaps are. The *detail* that identifies another nation's pledge (its id, units, the nation behind
a unit line, the alternatives considered) is replaced by ``RESTRICTED`` unless the pledge is
visible to the principal through the scoping function. Which pledges are visible is decided by
the caller through :func:`coalition.auth.scope.restrict`; this module only applies the answer.
"""

from __future__ import annotations

from typing import Any

RESTRICTED = "(restricted)"


def redact_plan(plan: dict[str, Any], *, visible_pledges: set[str], hidden_pledges: set[str],
                visible_nations: set[str] | None) -> dict[str, Any]:
    """Return a copy of a plan JSON with restricted detail removed.

    ``visible_nations`` None means every nation (HQ staff).
    """
    out = dict(plan)
    lines = []
    for line in plan.get("unit_lines", []):
        if line.get("pledge") in visible_pledges:
            lines.append(line)
        else:
            lines.append({**line, "nation": RESTRICTED, "pledge": RESTRICTED, "unit": RESTRICTED,
                          "restricted": True})
    out["unit_lines"] = lines
    assignments = []
    for a in plan.get("assignments", []):
        if a.get("pledge") not in visible_pledges:
            continue
        alts = [
            alt if alt.get("pledge") in visible_pledges
            else {**alt, "pledge": RESTRICTED, "nation": RESTRICTED,
                  "why_not": scrub_ids(alt.get("why_not", ""), hidden_pledges)}
            for alt in a.get("alternatives", [])
        ]
        assignments.append({**a, "alternatives": alts})
    out["assignments"] = assignments
    if visible_nations is not None:
        out["rotations"] = [r for r in plan.get("rotations", [])
                            if r.get("nation") in visible_nations]
    out["active_pledges"] = [p for p in plan.get("active_pledges", []) if p in visible_pledges]
    out["inactive_pledges"] = [p for p in plan.get("inactive_pledges", [])
                               if p in visible_pledges]
    out["gaps"] = [
        {**g, "reasons": [{**r, "message": scrub_ids(r.get("message", ""), hidden_pledges)}
                          for r in g.get("reasons", [])]}
        for g in plan.get("gaps", [])
    ]
    out["warnings"] = [scrub_ids(w, hidden_pledges) for w in plan.get("warnings", [])]
    out["redacted"] = True
    return out


def scrub_ids(text: str, hidden: set[str]) -> str:
    """Replace every hidden id that appears as a word in ``text`` by RESTRICTED."""
    if not hidden or not text:
        return text
    out = []
    for w in text.split(" "):
        core = w.strip("'\",.;:()[]")
        out.append(w.replace(core, RESTRICTED) if core and core in hidden else w)
    return " ".join(out)
