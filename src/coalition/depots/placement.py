"""Safe placement of an incoming consignment into a depot's storehouses.

Every rule is enforced through one exact incremental state per storehouse (``_Store`` in
:mod:`coalition.depots.placement_state`, with the consignment and result types):
compatibility mixing against what is already there, NEQ after aggregation against the smaller of
the issued licence and the layout's quantity-distance limit (computed by
:mod:`coalition.depots.licence`, which inverts the Q-D check exactly), and floor capacity.

Two methods share that state:

* ``first_fit`` — the baseline: lots in consignment order, each into the first storehouse (in
  depot order) that takes it, splitting a lot only when no storehouse takes all of it.
* ``optimise`` (:mod:`coalition.depots.placement_mip`) — a HiGHS MIP (through
  :mod:`coalition.solvers.highs`) over (mixing key ×
  storehouse) chooses which kinds of ammunition go where, maximising the lots stored, then
  minimising storehouses touched and handling distance (pallet-metres from the receipt point);
  lots are then realised exactly through the state, guided by the MIP's shares, and leftovers
  are filled. The MIP works on mixing keys rather than lot × storehouse pairs so that 10,000
  lots × 200 storehouses stays small. The better
  of the optimised and first-fit results (lexicographic: lots, touched, distance) is returned, so
  the optimiser is never worse than the baseline; the result says which won.

Whatever is not placed is reported with the rule that stops it. The returned placement always
passes :func:`coalition.depots.rules.check_depot` (tested as a property).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from coalition.depots.placement_mip import optimise_from
from coalition.depots.placement_state import Incoming, PlacementResult, Refused, _finish, _prepare, _Problem, _try
from coalition.depots.rulebook import RuleBook, load_rulebook
from coalition.depots.schemas import Catalogue, Depot, StockLine

# ---------------------------------------------------------------------------------------------
# Methods
# ---------------------------------------------------------------------------------------------


def first_fit(prob: _Problem) -> PlacementResult:
    t0 = time.perf_counter()
    stores = prob.fresh()
    placed: dict[tuple[int, int], int] = {}
    for li, lot in enumerate(prob.lots):
        left = prob.want[li]
        whole = next((si for si in range(len(stores)) if _try(stores, lot, si, left) >= left), None)
        order = [whole] if whole is not None else range(len(stores))
        for si in order:
            if left <= 0:
                break
            u = _try(stores, lot, si, left)
            if u > 0:
                stores[si].add(lot, u)
                placed[(li, si)] = placed.get((li, si), 0) + u
                left -= u
    return _finish(prob, stores, placed, "first-fit", t0)


def place(
    depot: Depot,
    catalogue: Catalogue,
    current: Sequence[StockLine],
    consignment: Sequence[Incoming],
    *,
    method: str = "optimise",
    time_limit: float = 20.0,
    book: RuleBook | None = None,
    override_unsurveyed: str | None = None,
) -> PlacementResult:
    """Place ``consignment`` into ``depot``; the result carries the first-fit baseline too.

    A depot with no surveyed exposed sites is refused (nothing placed) unless
    ``override_unsurveyed`` gives the reason and who decided it; the override is logged and
    recorded in the result's notes. Lots with no catalogue entry (unknown classification or NEQ)
    are refused. The result is re-checked through the safety gate before it is returned."""
    import logging

    from coalition.depots.gate import placement_check

    book = book or load_rulebook()
    t0 = time.perf_counter()
    notes: list[str] = []
    if not depot.exposed_sites:
        if not override_unsurveyed:
            refused = [
                Refused(
                    c.lot,
                    c.quantity,
                    "survey",
                    f"depot {depot.id} records no surveyed exposed sites: it is not certified, so nothing "
                    "is placed (an explicit, logged override is needed)",
                )
                for c in consignment
            ]
            return PlacementResult(
                depot.id,
                method,
                [],
                refused,
                0.0,
                0,
                0.0,
                0,
                0.0,
                time.perf_counter() - t0,
                notes=["refused: depot not surveyed"],
            )
        note = (
            f"OVERRIDE: placed into unsurveyed depot {depot.id} without quantity-distance to "
            f"exposed sites: {override_unsurveyed}"
        )
        logging.getLogger("coalition.depots").warning(note)
        notes.append(note)
    prob, unknown = _prepare(depot, catalogue, current, consignment, book)

    def gated(res: PlacementResult) -> PlacementResult:
        """``res`` as the safety gate lets it out: a proposal the gate rejects places nothing
        (never returned unsafe; that would be a bug in the limits above, refused as such)."""
        new_errors, flags = placement_check(depot, catalogue, current, res.lines(), book=book)
        res.flags = flags
        if new_errors:
            reason = "; ".join(f.message for f in new_errors[:5]) + (
                f"; … and {len(new_errors) - 5} more" if len(new_errors) > 5 else ""
            )
            res.refused = [
                Refused(c.lot, c.quantity, "gate", f"the safety gate rejected the proposal: {reason}")
                for c in consignment
            ]
            res.placed, res.units_placed, res.neq_placed_kg, res.lots_stored = [], 0, 0.0, 0.0
        return res

    base = gated(first_fit(prob))  # the baseline is judged by the same gate as the optimiser
    if method == "first-fit":
        best = base
    else:
        opt = gated(optimise_from(prob, time_limit))
        best = opt
        if base.score() > opt.score():
            kept = "first-fit (kept: the optimiser did not improve on it)"
            best = PlacementResult(**{**base.__dict__, "method": kept})
            best.solver_status = opt.solver_status
        best.baseline = base
    best.refused = [*unknown, *best.refused]
    best.notes = [*notes, *best.notes]
    best.seconds = time.perf_counter() - t0
    return best
