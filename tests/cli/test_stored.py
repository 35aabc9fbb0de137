"""The CLI and the API see the same stored scenario: db: references in status/gaps/plan,
`scenario push`/`pull` round trip, `pledge transition` through the same service and rules."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.factories import tiny_scenario
from api.harness import Service, build_service, class_db_url
from coalition.cli.main import app
from coalition.scenario.service import load_scenario, save_scenario

runner = CliRunner()


@pytest.fixture(params=["sqlite", "postgresql"])
def svc(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
        ) -> Iterator[tuple[Service, str]]:
    urls = class_db_url(request, tmp_path_factory)
    url = next(urls)
    s = build_service(url, tmp_path_factory.mktemp("data"))
    yield s, url
    s.app.state.coalition.runs.shutdown()
    s.app.state.coalition.engine.dispose()
    next(urls, None)


def cli(url: str, *args: str, token: str | None = None):  # type: ignore[no-untyped-def]
    env = {"COLUMNS": "200", "COALITION_DATABASE_URL": url}
    if token:
        env["COALITION_TOKEN"] = token
    return runner.invoke(app, list(args), env=env)


def plan_pledges(url: str, ref: str, tmp: Path) -> set[str]:
    out = tmp / f"plan-{ref.replace(':', '_').replace('@', '_')}.json"
    r = cli(url, "plan", "--scenario", ref, "--option", "small", "--time-limit", "5",
            "--no-live", "--assume", "ceasefire=2026-06-01", "--json", str(out))
    assert r.exit_code == 0, r.output
    (plan,) = json.loads(out.read_text())["plans"]
    return {u["pledge"] for u in plan["unit_lines"]}


def test_accept_through_the_api_then_the_cli_sees_it(svc, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    s, url = svc
    assert plan_pledges(url, "db:tiny", tmp_path) == {"GBR-inf", "FRA-inf"}
    hq = s.client("hq-planner")
    assert hq.post("/api/pledges/FRA-inf/transition", json={"state": "accepted"},
                   headers={"If-Match": '"1"'}).status_code == 200
    r = cli(url, "status", "--scenario", "db:tiny", "--assume", "ceasefire=2026-06-01",
            "--json", "-")
    assert r.exit_code == 0, r.output
    states = {p["pledge"]: p["state"] for p in json.loads(r.stdout)["pledges"]}
    assert states == {"GBR-inf": "offered", "FRA-inf": "accepted"}
    # Counting accepted pledges only: FRA's is active in the CLI's picture, GBR's not yet.
    r = cli(url, "status", "--scenario", "db:tiny", "--min-state", "accepted",
            "--assume", "ceasefire=2026-06-01", "--json", "-")
    assert r.exit_code == 0, r.output
    status = {p["pledge"]: p["status"] for p in json.loads(r.stdout)["pledges"]}
    assert status == {"GBR-inf": "not-yet", "FRA-inf": "active"}
    # GBR withdraws through the API: the CLI's plan changes; revision 2 still plans as before.
    gbr = s.client("gbr-planner")
    assert gbr.post("/api/pledges/GBR-inf/transition", json={"state": "withdrawn"}).status_code == 200
    assert plan_pledges(url, "db:tiny", tmp_path) == {"FRA-inf"}
    assert plan_pledges(url, "db:tiny@2", tmp_path) == {"GBR-inf", "FRA-inf"}
    sid = hq.get("/api/scenarios/tiny").json()["id"]
    assert plan_pledges(url, f"db:{sid}", tmp_path) == {"FRA-inf"}


def test_pledge_transition_uses_the_same_rules_and_the_api_sees_it(svc) -> None:  # type: ignore[no-untyped-def]
    s, url = svc
    fra, hq = s.tokens["fra-planner"], s.tokens["hq-planner"]
    r = cli(url, "pledge", "transition", "GBR-inf", "withdrawn", "-s", "db:tiny", token=fra)
    assert r.exit_code == 2 and "only GBR (or HQ)" in r.output
    r = cli(url, "pledge", "transition", "FRA-inf", "verified", "-s", "db:tiny", token=fra)
    assert r.exit_code == 2 and "one step at a time" in r.output
    r = cli(url, "pledge", "transition", "FRA-inf", "accepted", "-s", "db:tiny", "--expect",
            "7", token=hq)
    assert r.exit_code == 2 and "revision 1, not 7" in r.output
    r = cli(url, "pledge", "transition", "FRA-inf", "accepted", "-s", "db:tiny", "--expect",
            "1", "--note", "checked", token=hq)
    assert r.exit_code == 0, r.output
    assert "revision 2" in r.output
    api = s.client("fra-planner").get("/api/pledges/FRA-inf")
    assert api.json()["state"] == "accepted" and api.headers["etag"] == '"2"'
    audit = s.client("hq-admin").get("/api/audit", params={"action": "transition"}).json()
    assert [e["user_name"] for e in audit["items"]] == ["hq-planner"]
    r = cli(url, "pledge", "transition", "FRA-inf", "verified", token="coa_forged")
    assert r.exit_code == 2 and "token refused" in r.output


def test_unknown_db_references_are_clean_errors(svc) -> None:  # type: ignore[no-untyped-def]
    _s, url = svc
    for ref, needle in (("db:nope", "scenario 'nope' not found"),
                        ("db:tiny@9", "no revision 9"), ("db:ti ny", "not a stored")):
        r = cli(url, "status", "--scenario", ref)
        assert r.exit_code == 2, r.output
        assert needle in r.output, r.output


def test_push_pull_round_trip_is_lossless(svc, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    s, url = svc
    embedded = load_scenario(None)
    folder = tmp_path / "paris"
    save_scenario(embedded, folder)
    token = s.tokens["hq-planner"]
    r = cli(url, "scenario", "push", str(folder), token=token)
    # paris-2026 is stored by the service on first start: a push of the same document is an
    # import that needs the revision, and changes nothing.
    assert r.exit_code == 2 and "must say which revision" in r.output
    r = cli(url, "scenario", "push", str(folder), "--expect", "1", token=token)
    assert r.exit_code == 0 and "revision 1" in r.output, r.output
    pulled = tmp_path / "pulled"
    r = cli(url, "scenario", "pull", "paris-2026", str(pulled))
    assert r.exit_code == 0, r.output
    assert load_scenario(pulled) == embedded
    # A new scenario pushed, changed through the API, pulled at both revisions.
    tiny = tmp_path / "tiny2"
    save_scenario(tiny_scenario("tiny-two"), tiny)
    r = cli(url, "scenario", "push", str(tiny), token=s.tokens["gbr-planner"])
    assert r.exit_code == 0 and "new scenario: db:tiny-two" in r.output, r.output
    assert s.client("gbr-planner").post("/api/pledges/GBR-inf/transition?scenario=tiny-two",
                                        json={"state": "withdrawn"}).status_code == 200
    for ref, state in (("tiny-two@1", "offered"), ("tiny-two", "withdrawn")):
        out = tmp_path / f"{ref}.json"
        assert cli(url, "scenario", "pull", ref, str(out)).exit_code == 0
        got = load_scenario(out)
        assert got.model_copy(update={"pledges": ()}) == tiny_scenario("tiny-two").model_copy(
            update={"pledges": ()})
        assert {p.id: p.state.value for p in got.pledges}["GBR-inf"] == state
    r = cli(url, "scenario", "list")
    assert r.exit_code == 0 and "tiny-two" in r.output and "paris-2026" in r.output


# --- coalition.cli.stored's references -------------------------------------------------------


def test_db_references_parse_with_an_optional_revision() -> None:
    from coalition.cli.stored import _store_ref, parse_ref
    from coalition.errors import InputError

    assert parse_ref("path/to/folder") is None
    assert parse_ref("db:paris-2026") == ("paris-2026", None)
    assert parse_ref("db:paris-2026@3") == ("paris-2026", 3)
    assert parse_ref("db:7@12") == ("7", 12)
    for bad in ("db:", "db:@3", "db:x@", "db:x@three", "db:a b"):
        with pytest.raises(InputError) as err:
            parse_ref(bad)
        assert err.value.problems[0].field == "--scenario" and "db:KEY or db:ID" in err.value.problems[0].hint, bad
    assert _store_ref("paris-2026@2") == ("paris-2026", 2) and _store_ref("db:k") == ("k", None)
