"""Plain words for the codes the dashboard shows (enum values of the scenario), marked for
translation; the code itself stays available beside the word (a tooltip or a column)."""

from __future__ import annotations

from coalition.dashboard.i18n import N_

WORDS: dict[str, str] = {
    # priorities
    "essential": N_("essential"),
    "important": N_("important"),
    "desirable": N_("desirable"),
    # pledge lifecycle
    "offered": N_("offered"),
    "accepted": N_("accepted"),
    "verified": N_("verified"),
    "committed": N_("committed"),
    "deployed": N_("deployed"),
    "withdrawn": N_("withdrawn"),
    # hubs and rear nodes
    "city": N_("city"),
    "airfield": N_("airfield"),
    "port": N_("port"),
    "hq": N_("headquarters"),
    "logistics": N_("logistics hub"),
    "airport": N_("airport"),
    "base": N_("base"),
    # corridor modes
    "road": N_("road"),
    "rail": N_("rail"),
    "air": N_("air"),
    "sea": N_("sea"),
    # evidence of a fact
    "R": N_("reported"),
    "A": N_("approximate"),
    "U": N_("unknown"),
    "I": N_("illustrative"),
    # plan job states
    "queued": N_("queued"),
    "running": N_("running"),
    "done": N_("done"),
    "failed": N_("failed"),
    "cancelled": N_("cancelled"),
    # solver outcomes
    "optimal": N_("optimal"),
    "feasible": N_("feasible (gap limit reached)"),
    "time-limit": N_("stopped at the time limit (best plan so far)"),
    "interrupted": N_("interrupted (best plan so far)"),
    "infeasible": N_("infeasible"),
    "no-solution": N_("no plan found"),
    "error": N_("solver error"),
    # custody event types
    "manifest": N_("manifest"),
    "dispatch": N_("dispatch"),
    "receipt": N_("receipt"),
    "transfer": N_("transfer"),
    "issue": N_("issue to a unit"),
    "return": N_("return"),
    "count": N_("blind count"),
    "loss": N_("loss report"),
    "disposal": N_("disposal"),
    "suspension": N_("suspension"),
    "correction": N_("correction"),
}


def word(value: object) -> str:
    """The English word for a code (the code itself when it has none); translate it after."""
    text = str(getattr(value, "value", value))
    return WORDS.get(text, text)
