"""The strict contract of the API, in one place: nation codes checked against the scenario,
unknown query parameters refused, problems named with API field names.

* Nation codes (releasability, user accounts) must be nations of the scenario (ISO 3166 alpha-3)
  or ``HQ`` (``ALL`` where a marking allows it); anything else is 422 naming the field and index.
* A query parameter the route does not declare is 422 naming it (a typo such as
  ``?us_backstop=maybe`` or ``?optoin=`` would otherwise be silently ignored).
* Problems raised by shared (CLI) input resolution name CLI flags (``--option``, ``--assume``);
  :func:`api_fields` renames them to the API's (``option``, ``assume[2]``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from fastapi import Request
from fastapi.dependencies.models import Dependant

from coalition.errors import InputError, Problem, closest
from coalition.scenario.schemas import Scenario


def check_nations(
    codes: Sequence[str],
    sc: Scenario,
    *,
    field: str,
    extra: Iterable[str] = ("HQ",),
    indexed: bool = True,
    file: str | None = None,
) -> None:
    _check(
        {n.code for n in sc.nations} | set(extra),
        codes,
        field=field,
        indexed=indexed,
        file=file,
        of=f"a nation of scenario '{sc.id}'",
    )


def _check(known: set[str], codes: Sequence[str], *, field: str, indexed: bool, file: str | None, of: str) -> None:
    problems = []
    for i, code in enumerate(codes):
        if code not in known:
            guess = closest(code, sorted(known))
            problems.append(
                Problem(
                    f"'{code}' is not {of}",
                    file=file,
                    field=f"{field}[{i}]" if indexed else field,
                    hint=(f"did you mean '{guess}'? " if guess else "") + "valid: " + ", ".join(sorted(known)),
                )
            )
    if problems:
        raise InputError(problems)


def check_nation_param(
    ctx: Any, value: str | None, *, field: str, scenario: str | None = None, extra: Iterable[str] = ("HQ",)
) -> None:
    """A nation query parameter of a scenario's records (e.g. ``/api/pledges?nation=``): a
    nation of that (or the default) scenario, or ``HQ``; 422 naming the parameter otherwise."""
    if value is None:
        return
    from coalition.scenario import store

    _sid, _rev, state = store.current_state(ctx.db, ref=scenario, cache=ctx.state.scenarios)
    check_nations([value], state.scenario, field=field, extra=extra, indexed=False, file="query")


def check_service_nation(ctx: Any, value: str | None, *, field: str, extra: Iterable[str] = ("HQ",)) -> None:
    """A nation query parameter of service-wide records (plan runs, the audit log, the custody
    ledger, inventory): a nation of the default scenario, of a user account or of a ledger
    member's key, or ``HQ``; anything else is 422 naming the parameter (a typo would otherwise
    silently match nothing)."""
    if value is None:
        return
    from coalition.auth.queries import user_nations
    from coalition.errors import NotFoundError
    from coalition.ledger.queries import key_nations
    from coalition.scenario import store

    known = set(extra) | user_nations(ctx.db) | key_nations(ctx.db)
    try:
        _sid, _rev, state = store.current_state(ctx.db, ref=None, cache=ctx.state.scenarios)
        known |= {n.code for n in state.scenario.nations}
    except NotFoundError:  # no default scenario: the accounts and ledger members still count
        pass
    if value not in known:
        _check(
            known,
            [value],
            field=field,
            indexed=False,
            file="query",
            of="a nation of the coalition (the default scenario, user accounts, ledger members)",
        )


def api_fields(exc: InputError, *, assume: Sequence[str] = (), name: str = "assume") -> InputError:
    """The same problems with API field names (``--assume`` -> ``assume[i]``; ``name`` is the
    list's name in this request, e.g. ``assumptions`` in a plan request's body)."""
    out = []
    for p in exc.problems:
        field = p.field
        if field in ("--option", "option"):
            field = "option"
        elif field in ("--at", "at"):
            field = "at"
        elif field in ("--assume", "assume", "assumptions"):
            index = next(
                (i for i, a in enumerate(assume) if f"'{a}'" in p.message or f"'{a.partition('=')[0]}'" in p.message),
                None,
            )
            field = f"{name}[{index}]" if index is not None else name
        out.append(Problem(p.message, p.file, p.row, field, p.hint, p.severity))
    return InputError(out)


_DECLARED: dict[int, frozenset[str]] = {}


def _query_names(dependant: Dependant) -> set[str]:
    names = {q.alias or q.name for q in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def _fair_use(request: Request, route: Any) -> None:
    from coalition.api.errors import EXPENSIVE

    method = request.method.lower()
    if (method, getattr(route, "path", "")) not in EXPENSIVE:
        return
    if method == "get" and "assume" not in request.query_params:
        return  # a gap picture without assumptions is the cached everyday one
    credential = request.headers.get("authorization") or ""
    if not credential and "session" in request.scope:
        credential = "session:" + str(request.session.get("sid", ""))
    request.app.state.coalition.limiter.take(credential or "anonymous")


async def strict_query(request: Request) -> None:
    """Router-level dependency: refuse query parameters the route does not declare, and spend
    the token's fair-use budget on expensive operations (:mod:`coalition.api.ratelimit`)."""
    route: Any = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    _fair_use(request, route)
    declared = _DECLARED.get(id(route))
    if declared is None:
        declared = _DECLARED[id(route)] = frozenset(_query_names(dependant))
    unknown = [k for k in dict.fromkeys(request.query_params.keys()) if k not in declared]
    if unknown:
        raise InputError(
            [
                Problem(
                    f"unknown query parameter '{k}'",
                    file="query",
                    field=k,
                    hint=(f"did you mean '{closest(k, sorted(declared))}'? " if closest(k, sorted(declared)) else "")
                    + (
                        "this route takes: " + ", ".join(sorted(declared))
                        if declared
                        else "this route takes no query parameters"
                    ),
                )
                for k in unknown
            ]
        )
