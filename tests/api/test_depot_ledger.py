"""The API's depot check and placements count the custody ledger's holdings: stock received
through the ledger into a storehouse up to near its NEQ limit is reported by
``GET /api/depots/{id}/check`` and keeps a placement proposal out of that storehouse."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

Q = "?scenario=paris-2026"
HOUSE, LIMIT = "VIN-ECM1", 12000.0  # HD 1.1 licence of the storehouse (the scenario's layout)


@dataclass
class App:
    app: object
    tokens: dict[str, str]

    def api(self, user: str) -> TestClient:
        return TestClient(self.app, base_url="https://testserver",
                          headers={"Authorization": f"Bearer {self.tokens[user]}"})


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    from api.harness import init_ledger
    from coalition.api import create_app
    from coalition.auth import service
    from coalition.auth.schemas import UserCreate
    from coalition.settings import Settings
    from coalition.store.db import transaction

    data = tmp_path_factory.mktemp("depot-ledger")
    settings = Settings(database_url=f"sqlite:///{data / 'coalition.db'}", data_dir=data,
                        rate_limit_per_minute=0, secret_key="test-secret")
    application = create_app(settings)
    tokens = {}
    with transaction(application.state.coalition.session_factory) as db:
        for name, nation, role in (("gbr-depot", "GBR", "depot-officer"), ("hq", "HQ", "admin")):
            user = service.create_user(db, data=UserCreate(name=name, nation=nation, roles=[role]))
            tokens[name] = service.issue_token(db, user=user)[1]
    init_ledger(application, data)
    yield App(application, tokens)
    application.state.coalition.engine.dispose()


def _neq(report: dict, house: str) -> float:
    """The storehouse's aggregated HD 1.1 NEQ (what its HD 1.1 licence limits)."""
    row = next(r for r in report["storehouses"] if r["storehouse"] == house)
    return float(row["aggregate"]["licence_neq"].get("1.1", 0.0))


def _receive(app: App, manifest: str, lot: str, units: int) -> None:
    events = [
        {"type": "manifest", "payload": {"manifest": manifest, "origin": "GBR-HOME-DEPOT",
                                         "destination": "UA-VINNYTSIA/DEP-VIN", "receiver": "GBR",
                                         "lots": [{"lot": lot, "item_type": "proj-155-he", "quantity": units,
                                                   "neq_kg": 10.8, "hazard": "1.1D"}]}},
        {"type": "dispatch", "payload": {"manifest": manifest}},
        {"type": "receipt", "payload": {"manifest": manifest, "location": f"UA-VINNYTSIA/DEP-VIN/{HOUSE}",
                                        "lots": [{"lot": lot, "quantity": units}]}}]
    resp = app.api("gbr-depot").post("/api/custody-events", json={"events": events})
    assert resp.status_code == 201, resp.text


def test_ledger_stock_near_the_limit_is_checked_and_kept_out_of_placements(app: App) -> None:
    c = app.api("gbr-depot")
    before = c.get(f"/api/depots/DEP-VIN/check{Q}").json()
    scenario_neq = _neq(before, HOUSE)
    # the scenario's stock alone leaves room for 100 more projectiles (1,080 kg) in the igloo
    free = LIMIT - scenario_neq
    assert free >= 1080.0
    units = int((free - 60.0) // 10.8)  # received through the ledger: within 60 kg of the limit
    _receive(app, "M-GBR-NEAR-1", "GBR-155-NEAR-1", units)
    after = c.get(f"/api/depots/DEP-VIN/check{Q}").json()
    assert _neq(after, HOUSE) == pytest.approx(scenario_neq + units * 10.8)
    assert LIMIT - _neq(after, HOUSE) < 60.0 + 10.8  # not room for 10 more
    # a proposal for 100 more cannot go into that storehouse any more: elsewhere, and safe
    for method in ("first-fit", "optimise"):
        out = c.post(f"/api/depots/DEP-VIN/placements{Q}",
                     json={"lines": [{"lot": "VIN-155-A01", "quantity": 100}], "method": method}).json()
        assert out["units_placed"] == 100, out
        assert not [x for x in out["placed"] if x["storehouse"] == HOUSE], (method, out["placed"])
        assert out["check_after"]["new_errors"] == []
    # the ledger's own lot can be proposed too (the catalogue knows the ledger's lots)
    own = c.post(f"/api/depots/DEP-VIN/placements{Q}",
                 json={"lines": [{"lot": "GBR-155-NEAR-1", "quantity": 10}], "method": "first-fit"})
    assert own.status_code == 200, own.text


def test_adding_ledger_stock_never_turns_a_violation_compliant(app: App) -> None:
    """Monotonicity over the shared holdings: the scenario's lines are never dropped, so a depot
    breaking a rule on them alone still breaks it with the ledger's stock added."""
    from coalition.depots.rules import check_depot
    from coalition.depots.schemas import StockLine
    from coalition.inventory.safety import depot_stock
    from coalition.ledger.sample import ledger_network
    from coalition.scenario.service import load_scenario
    from coalition.store.db import transaction

    sc = load_scenario()
    d = sc.depots.depot("DEP-VIN")
    with transaction(app.app.state.coalition.session_factory) as db:  # type: ignore[attr-defined]
        stock = depot_stock(db, ledger_network(sc.depots), d)
    assert stock.ledger, "the ledger holds stock in the depot (the test is not vacuous)"
    assert all(line in stock.lines for line in sc.depots.stock_of(d))
    overfull = [*sc.depots.stock_of(d), StockLine(storehouse="VIN-ECM2", lot="VIN-155-A02", quantity=700)]
    assert check_depot(d, overfull, sc.depots.catalogue).errors, "the scenario alone breaks a rule"
    for n in range(0, len(stock.ledger) + 1):
        with_ledger = check_depot(d, [*overfull, *stock.ledger[:n]], stock.catalogue)
        assert with_ledger.errors, n
