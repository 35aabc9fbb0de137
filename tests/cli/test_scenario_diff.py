"""`coalition scenario diff`: the revision diff from the command line, through the same service
(coalition.scenario.revdiff) and releasability as the API and the dashboard; bad revisions end
with a message and exit 2, never a traceback."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from api.factories import tiny_scenario
from api.harness import Service, build_service
from coalition.auth.schemas import Principal, Role
from coalition.cli.main import app
from coalition.scenario import store
from coalition.scenario.rules import EditPledge, SetAssumptions

runner = CliRunner()
CANARY_NOTICE = 47  # France's restricted value (nowhere else in the tiny scenario)


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Service, str]]:
    """The tiny scenario (default): 1 stored; 2 France's notice 20 -> 47; 3 a British set."""
    d = tmp_path_factory.mktemp("diffcli")
    url = f"sqlite:///{d / 'coalition.db'}"
    s = build_service(url, d)
    fra = next(p for p in tiny_scenario().pledges if p.nation == "FRA")
    steps = ((Principal(user_id=None, name="f", nation="FRA", roles=frozenset({Role.PLANNER})),
              EditPledge(pledge=fra.model_copy(update={"notice_days": CANARY_NOTICE}))),
             (Principal(user_id=None, name="g", nation="GBR", roles=frozenset({Role.PLANNER})),
              SetAssumptions(name="gbr-view", assumptions=("ceasefire=2026-07-01",))))
    for rev, (who, change) in enumerate(steps, start=1):
        with s.db() as db:
            sid, _head = store.scenario_header(db, ref="tiny")
            store.edit(db, sid, rev, change, who)
    yield s, url
    s.app.state.coalition.runs.shutdown()
    s.app.state.coalition.engine.dispose()


def cli(s: Service, url: str, user: str | None, *args: str):  # type: ignore[no-untyped-def]
    env = {"COLUMNS": "200", "COALITION_DATABASE_URL": url, "COALITION_TOKEN": ""}
    if user:
        env["COALITION_TOKEN"] = s.tokens[user]
    return runner.invoke(app, ["scenario", "diff", *args], env=env)


@pytest.mark.parametrize("user", ["hq-planner", "gbr-planner", "fra-planner"])
def test_json_is_the_api_answer_for_the_same_reader(svc, user: str) -> None:  # type: ignore[no-untyped-def]
    s, url = svc
    r = cli(s, url, user, "tiny", "--from", "1", "--to", "3", "--json", "-")
    assert r.exit_code == 0, r.output
    api = s.client(user).get("/api/scenarios/tiny/diff", params={"from": 1, "to": 3})
    assert api.status_code == 200, api.text
    assert json.loads(r.stdout) == api.json()
    seen = "FRA-inf" in r.stdout
    assert seen == (user != "gbr-planner"), r.stdout  # the canary: never the UK's to read


def test_rich_output_shows_fields_before_and_after(svc) -> None:  # type: ignore[no-untyped-def]
    s, url = svc
    hq = cli(s, url, "hq-planner", "db:tiny", "--from", "1", "--to", "3")
    assert hq.exit_code == 0, hq.output
    row = next(line for line in hq.stdout.splitlines() if "notice_days" in line)
    assert "FRA-inf" in hq.stdout and "20" in row and str(CANARY_NOTICE) in row
    assert "gbr-view" in hq.stdout and "left out" not in hq.stdout
    gbr = cli(s, url, "gbr-planner", "tiny", "--from", "1", "--to", "3")
    assert gbr.exit_code == 0, gbr.output
    assert "gbr-view" in gbr.stdout and "left out" in gbr.stdout  # the partial note
    assert "FRA-inf" not in gbr.stdout and "notice_days" not in gbr.stdout
    assert str(CANARY_NOTICE) not in gbr.stdout
    default = cli(s, url, "hq-planner", "tiny")  # the head against the revision before
    assert "revision 2 → 3" in default.stdout and "FRA-inf" not in default.stdout


@pytest.mark.parametrize("args, message", [
    (("tiny", "--to", "9"), "no revision 9 (revisions are 1..3)"),
    (("tiny", "--from", "4", "--to", "1"), "no revision 4"),
    (("nope",), "nope"),
    (("tiny@2",), "names a revision"),
    (("tiny", "--from", "0"), "--from"),
    (("tiny", "--to", "x"), "--to"),
])
def test_bad_input_exits_2_with_a_message(svc, args: tuple[str, ...], message: str) -> None:  # type: ignore[no-untyped-def]
    s, url = svc
    r = cli(s, url, "gbr-planner", *args)
    assert r.exit_code == 2, (r.exit_code, r.output)
    assert message in " ".join(r.output.split()), r.output
    assert "Traceback" not in r.output


def test_no_token_is_refused(svc) -> None:  # type: ignore[no-untyped-def]
    s, url = svc
    r = cli(s, url, None, "tiny")
    assert r.exit_code == 2 and "--token" in r.output, r.output
