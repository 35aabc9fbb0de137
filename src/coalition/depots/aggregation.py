"""Hazard-division aggregation in one potential explosion site (reference §4): the raw hazard
classes of stock and the NEQ a PES presents for quantity-distance and for its licence.

Pure: typed values in, typed values out."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from coalition.depots.rulebook import Resolved, RuleBook, load_rulebook

#: Raw hazard classes of stock, in the column order of the NEQ matrices.
RAW_CLASSES: tuple[str, ...] = ("1.1", "1.2", "1.3", "1.4", "1.4S", "1.5", "1.6")


LICENCE_HDS: tuple[str, ...] = ("1.1", "1.2", "1.3", "1.4")


def raw_class(hd: str, cg: str) -> str:
    return "1.4S" if hd == "1.4" and cg == "S" else hd


@dataclass(frozen=True)
class Aggregate:
    """The NEQ a PES presents for Q-D and for its licence after the aggregation rules."""

    components: tuple[tuple[str, float], ...]  # the aggregated (HD class for Q-D, NEQ kg)
    licence_neq: dict[str, float]  # NEQ counted against each licensed HD (aggregate and each HD's own)
    basis: tuple[str, ...] = ()
    unverified: tuple[str, ...] = ()
    #: what the Q-D check evaluates: the aggregated 1.1 (if any) and EACH HD's own rule on its own
    #: NEQ, with its heavy-case flag; the required distance is the maximum over them (monotone)
    qd_components: tuple[tuple[str, float, bool], ...] = ()

    @property
    def qd_neq(self) -> float:
        return sum(q for _, q in self.components)

    def describe(self) -> str:
        if not self.components:
            return "empty"
        return " + ".join(f"{q:,.0f} kg as HD {c}" for c, q in self.components)


def _convert_to_11(
    records: Sequence[Resolved], n: dict[str, float], heavy_raw: Mapping[str, bool], used: list[Resolved]
) -> bool:
    """Move the NEQ of each record's HD into HD 1.1 (in ``n``), noting the records used; returns
    whether a moved HD was in the heavy case."""
    heavy = False
    for r in records:
        hd = r.record.hd
        if hd and n.get(hd, 0) > 0:
            n["1.1"] += n[hd]
            n[hd] = 0.0
            heavy = heavy or heavy_raw[hd]
            used.append(r)
    return heavy


def _components_without_11(
    n: Mapping[str, float], n14: float, use: Callable[..., None]
) -> tuple[tuple[str, float], ...]:
    """The aggregate's components when no HD 1.1 is present: HD 1.2 and 1.3 apart (the larger
    distance governs), else HD 1.4 and 1.4S."""
    comps = [(h, n[h]) for h in ("1.2", "1.3") if n[h] > 0]
    if len(comps) == 2:
        use("separate-max")
    if comps and n14 > 0:
        use("not-counted-when-mixed", "1.4")
    if not comps:
        comps = [(c, n[c]) for c in ("1.4", "1.4S") if n[c] > 0]
    return tuple(comps)


def aggregate(
    neq_by_hd: Mapping[str, float],
    *,
    underground: bool = False,
    profile: str = "iatg",
    book: RuleBook | None = None,
    heavy_by_hd: Mapping[str, bool] | None = None,
) -> Aggregate:
    """Apply the profile's aggregation records to NEQ by raw class ('1.1'..'1.6', '1.4S').

    Monotone by construction: the aggregated HD 1.1 (when present) is checked together with each
    HD's own NEQ against its own rule and licence, so adding explosives never shortens a required
    distance, never loosens a licence test and never turns a failing check into a passing one."""
    book = book or load_rulebook()
    rules = book.aggregation_rules(profile)
    raw = {c: float(neq_by_hd.get(c, 0.0)) for c in RAW_CLASSES}
    heavy_raw = {c: bool((heavy_by_hd or {}).get(c, False)) and raw[c] > 0 for c in RAW_CLASSES}
    n = dict(raw)
    heavy11 = heavy_raw["1.1"]
    used: list[Resolved] = []

    def use(kind: str, hd: str | None = None) -> None:
        for r in rules.get(kind, []):
            if hd is None or r.record.hd == hd or hd in r.record.hds:
                used.append(r)

    heavy11 = _convert_to_11(rules.get("treat-as-1.1", []), n, heavy_raw, used) or heavy11
    if underground:
        heavy11 = _convert_to_11(rules.get("underground-as-1.1", []), n, heavy_raw, used) or heavy11
    n14 = n["1.4"] + n["1.4S"]
    licence: dict[str, float] = {}
    qd: list[tuple[str, float, bool]] = []
    if n["1.1"] > 0:
        total = n["1.1"]
        summed = [h for r in rules.get("sum-with-1.1", []) for h in r.record.hds if n[h] > 0]
        for h in summed:
            total += n[h]
            heavy11 = heavy11 or heavy_raw[h]
        if summed:
            use("sum-with-1.1")
        components: tuple[tuple[str, float], ...] = (("1.1", total),)
        licence["1.1"] = total
        qd.append(("1.1", total, heavy11))
        for h in ("1.2", "1.3"):  # each HD's own limit still holds inside the aggregate
            if raw[h] > 0:
                licence[h] = raw[h]
        if n14 > 0:
            use("not-counted-when-mixed", "1.4")
    else:
        components = _components_without_11(n, n14, use)
        licence.update({h: q for h, q in components if h in ("1.2", "1.3")})
    if n14 > 0:
        licence["1.4"] = n14
    # each HD's own rule on its own NEQ (1.4 and 1.4S too: "not counted" in the aggregate does not
    # mean that their own minimum distance stops applying)
    for c in ("1.2", "1.3", "1.4", "1.4S"):
        if raw[c] > 0:
            qd.append((c, raw[c], heavy_raw[c]))
    return Aggregate(
        components=components,
        licence_neq=licence,
        basis=tuple(dict.fromkeys(r.label for r in used)),
        unverified=tuple(dict.fromkeys(r.label for r in used if r.unverified)),
        qd_components=tuple(qd),
    )
