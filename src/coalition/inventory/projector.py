"""The projector: applies custody events to in-memory inventory state, enforcing the invariants.

Pure logic: it never touches the database. The service loads the rows an event batch touches
into a :class:`State`, calls :func:`apply` for each event in order (so later events in a batch see
earlier ones), and writes back what changed. Replaying the whole log through the same function
rebuilds the projection; that is how the rebuild test proves the two agree.

Invariants enforced here, on every write path (single event, bulk import, replay):
- a serial (and a lot) is registered once;
- only the custodian can dispatch, transfer, issue or dispose of an item;
- quantities never go negative (a move takes at most what the source holds);
- a suspended lot cannot be issued;
- a receipt/transfer into a storehouse passes the depot safety check (``State.safety``).

The state and its shared helpers are :mod:`coalition.inventory.state`; the handlers live per event
family in :mod:`coalition.inventory.receiving` (manifest, dispatch, receipt),
:mod:`coalition.inventory.transfers` (transfer, issue, return, loss, disposal, suspension) and
:mod:`coalition.inventory.counts` (count).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from coalition.inventory import schemas as s
from coalition.inventory.counts import _count
from coalition.inventory.receiving import _dispatch, _manifest, _receipt
from coalition.inventory.state import Applied, Event, State
from coalition.inventory.transfers import _disposal, _issue, _loss, _return, _suspension, _transfer

# each handler takes the payload class of its event type (the Event was validated against it)
HANDLERS: dict[str, Callable[[State, Event, Any], Applied]] = {
    "manifest": _manifest,
    "dispatch": _dispatch,
    "receipt": _receipt,
    "transfer": _transfer,
    "issue": _issue,
    "return": _return,
    "count": _count,
    "loss": _loss,
    "disposal": _disposal,
    "suspension": _suspension,
}

__all__ = ["HANDLERS", "apply"]


def apply(state: State, ev: Event) -> Applied:
    """Apply one event; raise :class:`ConflictError` (naming the item) if an invariant breaks."""
    if isinstance(ev.payload, s.CorrectionPayload):
        return Applied(None, {f"E:{ev.payload.reverses}"})
    return HANDLERS[ev.type](state, ev, ev.payload)
