"""The dashboard's custody pages and the placement that records stock, against a real app on the
embedded scenario with the sample custody history (real SQLite, real signatures): accepting a
placement appends the signed events once and the depot's stock shows them; a stale proposal and
a second submission append nothing; transfers need a second officer; a count by the custodian
is refused; the reconciliation and every list, filter and count show a nation only what it may
see (the canary: Germany's events never reach a British page)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

SCENARIO = Path(__file__).resolve().parents[2] / "src/coalition/scenario/data/paris-2026"
USERS = {"gbr-depot": ("GBR", "depot-officer"), "gbr-depot2": ("GBR", "depot-officer"),
         "fra-depot": ("FRA", "depot-officer"), "pol-depot": ("POL", "depot-officer"),
         "deu-depot": ("DEU", "depot-officer"), "hq-inspector": ("HQ", "inspector"),
         "hq-admin": ("HQ", "admin"), "gbr-viewer": ("GBR", "viewer")}
# Germany's restricted records in the sample history: its manifest and serials
CANARIES = ("M-DEU-0001", "DEU-MANPADS", "DEU-HOME-DEPOT")


class App:
    def __init__(self, app: object, tokens: dict[str, str]) -> None:
        self.app, self.tokens = app, tokens

    def browser(self, user: str) -> TestClient:
        c = TestClient(self.app, base_url="https://testserver")
        page = c.get("/login")
        c.post("/login", data={"token": self.tokens[user], "csrf": csrf(page.text)},
               follow_redirects=False)
        return c

    def api(self, user: str) -> TestClient:
        return TestClient(self.app, base_url="https://testserver",
                          headers={"Authorization": f"Bearer {self.tokens[user]}"})


def csrf(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, "no CSRF field on the page"
    return m.group(1)


def hidden(html: str, name: str) -> str:
    import html as h

    m = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert m, f"no field {name}"
    return h.unescape(m.group(1))


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    from api.harness import init_ledger
    from coalition.api import create_app
    from coalition.auth import service
    from coalition.auth.schemas import UserCreate
    from coalition.settings import Settings
    from coalition.store.db import transaction

    data = tmp_path_factory.mktemp("custody")
    settings = Settings(database_url=f"sqlite:///{data / 'coalition.db'}", data_dir=data,
                        rate_limit_per_minute=0, secret_key="test-secret")
    application = create_app(settings)
    tokens = {}
    with transaction(application.state.coalition.session_factory) as db:
        for name, (nation, role) in USERS.items():
            user = service.create_user(db, data=UserCreate(name=name, nation=nation, roles=[role]))
            tokens[name] = service.issue_token(db, user=user)[1]
    init_ledger(application, data)
    yield App(application, tokens)
    application.state.coalition.engine.dispose()


def _propose(c: TestClient, manifest: str = "M-GBR-VIN-0001", origin: str = "GBR-HOME-DEPOT",
             text: str | None = None) -> str:
    page = c.get("/depots/DEP-VIN/placement")
    body = (text if text is not None else (SCENARIO / "sample-consignment.csv").read_text()).encode()
    resp = c.post("/depots/DEP-VIN/placement", data={"csrf": csrf(page.text), "manifest": manifest,
                                                     "origin": origin, "method": "first-fit"},
                  files={"consignment": ("consignment.csv", body, "text/csv")})
    assert resp.status_code == 200, resp.text[:2000]
    return resp.text


def _accept(c: TestClient, proposal: str, **change: str) -> object:
    form = {k: hidden(proposal, k) for k in ("csrf", "consignment", "lines", "manifest", "origin",
                                             "basis")}
    return c.post("/depots/DEP-VIN/placement/accept", data={**form, **change})


def _ledger_size(app: App) -> int:
    status = app.api("hq-admin").get("/api/ledger/health")
    return int(status.json()["events"])


def test_a_placement_that_breaks_a_safety_rule_now_is_refused(app: App) -> None:
    c = app.browser("gbr-depot")
    proposal = _propose(c, manifest="M-GBR-VIN-0004", text="lot,item,quantity\nVIN-DEMO-Q01,demo-charge,10\n")
    size = _ledger_size(app)
    # 1.1 demolition charges sent back into the 1.4-only fuze container: re-checked, refused
    resp = _accept(c, proposal, lines=json.dumps([["VIN-CNT1", "VIN-DEMO-Q01", 10]]))
    assert resp.status_code == 422
    assert "safety rule" in resp.text
    assert _ledger_size(app) == size


def test_accepting_a_placement_records_the_stock_once(app: App) -> None:
    c = app.browser("gbr-depot")
    before = c.get("/depots").text
    assert 'data-source="ledger"' not in before
    proposal = _propose(c)
    placed = json.loads(hidden(proposal, "lines"))
    assert placed
    size = _ledger_size(app)
    resp = _accept(c, proposal)
    assert resp.status_code == 200, resp.text[:3000]
    assert 'data-testid="accepted"' in resp.text
    assert _ledger_size(app) == size + 3  # manifest, dispatch, receipt with the placement
    # the depot page shows the new stock, from the ledger, storehouse by storehouse
    after = c.get("/depots").text
    for house, lot, qty in placed:
        assert re.search(rf'<tr data-source="ledger"><td>{house}</td><td>{lot}</td><td class="num">'
                         rf'{qty:,}</td>', after), (house, lot, qty)
    # the API's inventory agrees: GBR holds exactly the placed quantities at DEP-VIN
    inv = app.api("gbr-depot").get("/api/inventory", params={"by": ["storehouse", "status"]}).json()
    held = {r["storehouse"]: r for r in inv["items"] if r.get("storehouse", "").startswith("VIN-")}
    assert set(held) == {h for h, _l, _q in placed}
    # a second submission of the same form appends nothing and says why, on the page
    again = _accept(c, proposal)
    assert again.status_code == 409
    assert "already in the custody ledger" in again.text and 'data-testid="problem"' in again.text
    assert _ledger_size(app) == size + 3


def test_a_stale_proposal_is_refused_with_the_consignment_kept(app: App) -> None:
    c = app.browser("gbr-depot")
    text = "lot,item,quantity\nVIN-556-S01,ctg-556,1000\n"
    stale = _propose(c, manifest="M-GBR-VIN-0002", text=text)
    fresh = _propose(c, manifest="M-GBR-VIN-0003", text="lot,item,quantity\nVIN-556-S02,ctg-556,1000\n")
    assert _accept(c, fresh).status_code == 200  # the stock changes under the first proposal
    size = _ledger_size(app)
    resp = _accept(c, stale)
    assert resp.status_code == 409
    assert "stock changed since this proposal" in resp.text
    assert 'data-testid="repropose-form"' in resp.text and "VIN-556-S01" in resp.text
    assert _ledger_size(app) == size
    # a forged basis (the digest of the stock now) still meets the safety gate and the ledger
    forged = _accept(c, stale, basis=hidden(_propose(c, manifest="M-GBR-VIN-0009", text=text), "basis"),
                     lines=json.dumps([["VIN-CNT1", "VIN-556-S01", 1000]]))
    # (the fuze container is full: the lines sent back are never trusted)
    assert forged.status_code == 422 and "safety rule" in forged.text
    assert _ledger_size(app) == size


def test_bad_consignment_note_fields_come_back_inline(app: App) -> None:
    c = app.browser("gbr-depot")
    page = c.get("/depots/DEP-VIN/placement")
    body = (SCENARIO / "sample-consignment.csv").read_bytes()
    resp = c.post("/depots/DEP-VIN/placement", data={"csrf": csrf(page.text), "manifest": "bad ref!",
                                                     "origin": "GBR-HOME-DEPOT"},
                  files={"consignment": ("c.csv", body, "text/csv")})
    assert resp.status_code == 422
    assert 'data-testid="error-manifest"' in resp.text and 'value="bad ref!"' in resp.text
    assert 'value="GBR-HOME-DEPOT"' in resp.text and "Traceback" not in resp.text


def _api_event(app: App, user: str, events: list[dict]) -> dict:
    resp = app.api(user).post("/api/custody-events", json={"events": events})
    assert resp.status_code == 201, resp.text
    return resp.json()


def test_a_transfer_needs_another_officer_and_is_then_recorded(app: App) -> None:
    # GBR's own serial held at DEP-VIN (a serial-only consignment: no explosives)
    _api_event(app, "gbr-depot", [
        {"type": "manifest", "payload": {"manifest": "M-GBR-T1", "origin": "GBR-HOME-DEPOT",
                                         "destination": "UA-VINNYTSIA/DEP-VIN", "receiver": "GBR",
                                         "serials": [{"serial": "GBR-RADIO-0001", "item_type": "RADIO"}]}},
        {"type": "dispatch", "payload": {"manifest": "M-GBR-T1"}},
        {"type": "receipt", "payload": {"manifest": "M-GBR-T1", "location": "UA-VINNYTSIA/DEP-VIN/VIN-AG1",
                                        "serials": ["GBR-RADIO-0001"]}}])
    one, two = app.browser("gbr-depot"), app.browser("gbr-depot2")
    page = one.get("/custody/transfers")
    assert 'data-testid="transfer-form"' in page.text
    bad = one.post("/custody/transfers", data={"csrf": csrf(page.text), "serials": "GBR-RADIO-0001",
                                               "lot": "X", "quantity": "many", "to": "UA-VINNYTSIA/DEP-VIN/VIN-ECM1"})
    assert bad.status_code == 422 and 'data-testid="error-quantity"' in bad.text
    assert "GBR-RADIO-0001" in bad.text  # the input is kept
    resp = one.post("/custody/transfers", data={"csrf": csrf(page.text), "serials": "GBR-RADIO-0001",
                                                "to": "UA-VINNYTSIA/DEP-VIN/VIN-ECM1", "note": "to the igloo"},
                    follow_redirects=False)
    assert resp.status_code == 303
    tid = int(re.search(r"done=(\d+)", resp.headers["location"]).group(1))
    mine = one.get("/custody/transfers").text
    assert f'data-testid="approve-{tid}"' not in mine  # the requester is not offered the approval
    assert 'data-testid="own-request"' in mine
    forced = one.post(f"/custody/transfers/{tid}/approve", data={"csrf": csrf(mine)})
    assert forced.status_code == 403 and "separation of duties" in forced.text
    size = _ledger_size(app)
    theirs = two.get("/custody/transfers").text
    assert f'data-testid="approve-{tid}"' in theirs
    ok = two.post(f"/custody/transfers/{tid}/approve", data={"csrf": csrf(theirs)}, follow_redirects=False)
    assert ok.status_code == 303
    assert _ledger_size(app) == size + 1
    twice = two.post(f"/custody/transfers/{tid}/approve", data={"csrf": csrf(theirs)})
    assert twice.status_code == 409 and _ledger_size(app) == size + 1
    t = app.api("gbr-depot").get("/api/transfers").json()["items"]
    row = next(x for x in t if x["id"] == tid)
    assert row["approved_by"] == "gbr-depot2" and row["status"] == "approved"
    # France sees neither the request nor the form's approve button for it
    assert f"transfer-{tid}" not in app.browser("fra-depot").get("/custody/transfers").text
    # an inspector of HQ may not request: no form
    assert 'data-testid="transfer-form"' not in app.browser("hq-inspector").get("/custody/transfers").text


def test_a_count_by_the_custodian_is_refused_and_another_nations_is_reconciled(app: App) -> None:
    fra = app.browser("fra-depot")
    page = fra.get("/custody/stocktakes")
    size = _ledger_size(app)
    refused = fra.post("/custody/stocktakes", data={"csrf": csrf(page.text), "location": "UA-LVIV/LV-D1/SH-1",
                                                    "lots": "FRA-155-2026-A, 1"})
    assert refused.status_code == 403 and "separation of duties" in refused.text
    assert 'value="UA-LVIV/LV-D1/SH-1"' in refused.text and _ledger_size(app) == size
    pol = app.browser("pol-depot")
    page = pol.get("/custody/stocktakes")
    bad = pol.post("/custody/stocktakes", data={"csrf": csrf(page.text), "location": "UA-LVIV/LV-D1/SH-2",
                                                "lots": "GBR-556-2026-A twelve"})
    assert bad.status_code == 422 and 'data-testid="error-lots"' in bad.text
    resp = pol.post("/custody/stocktakes", data={"csrf": csrf(page.text), "location": "UA-LVIV/LV-D1/SH-2",
                                                 "lots": "GBR-556-2026-A, 12"}, follow_redirects=False)
    assert resp.status_code == 303
    seq = int(resp.headers["location"].rsplit("/", 1)[1])
    assert _ledger_size(app) == size + 1
    # HQ sees the comparison; the counter (POL holds no title there) sees it withheld
    hq = app.browser("hq-inspector").get(f"/custody/stocktakes/{seq}").text
    assert re.search(r'data-finding="(short|over|ok)"><td>UA-LVIV/LV-D1/SH-2</td><td>GBR-556-2026-A', hq)
    own = pol.get(f"/custody/stocktakes/{seq}").text
    assert 'data-testid="recon-withheld"' in own and 'data-finding=' not in own
    gbr = app.browser("gbr-depot").get(f"/custody/stocktakes/{seq}").text
    assert "GBR-556-2026-A" in gbr and 'data-finding=' in gbr


def test_germanys_events_reach_no_british_page_filter_or_count(app: App) -> None:
    from coalition.ledger.models import LedgerEventRef
    from coalition.store.db import transaction

    with transaction(app.app.state.coalition.session_factory) as db:
        deu = sorted({int(s) for s in db.query(LedgerEventRef.seq).filter(
            LedgerEventRef.ref == "M:M-DEU-0001").all() for s in s})
    assert deu, "the sample history has Germany's manifest"
    hq = app.browser("hq-inspector")
    assert "M-DEU-0001" in hq.get(f"/custody/events/{deu[0]}").text  # the canary is real
    gbr = app.browser("gbr-depot")
    pages = ["/custody", "/custody?nation=DEU", "/custody?type=manifest",
             "/custody?location=UA-LVIV/LV-D1/ARMOURY", "/custody?since=2026-03-20&until=2026-03-27",
             "/custody/transfers", "/custody/stocktakes", "/custody/checkpoints", "/ledger",
             "/ledger?nation=DEU", "/depots", "/inspector"]
    pages += [f"/custody/stocktakes/{s}" for s in range(1, 30)]
    for path in pages:
        resp = gbr.get(path)
        for canary in CANARIES:
            assert canary not in resp.text, (path, canary)
    # a serial Germany holds title to: the filter finds only the events Britain may see (the
    # Polish count Britain's items are also in), as the API answers, never Germany's own
    api = app.api("gbr-depot").get("/api/custody-events", params={"ref": "S:DEU-MANPADS-0001"}).json()
    text = gbr.get("/custody?ref=S:DEU-MANPADS-0001").text
    shown = {int(x) for x in re.findall(r'<tr data-seq="(\d+)"', text)}
    assert shown == {e["seq"] for e in api["items"]} and not shown & set(deu)
    assert re.search(rf'data-testid="events-total">\({api["total"]} event', text)
    for path in ("/custody?nation=DEU", "/custody?ref=M:M-DEU-0001"):
        text = gbr.get(path).text
        assert re.search(r'data-testid="events-total">\(0 events', text), path
        table = text[text.index('data-testid="custody-events"'):text.index("</table>")]
        assert "<tr data-seq" not in table and not any(c in table for c in CANARIES), path
        assert not any(c in text.replace(path.split("=", 1)[1], "") for c in CANARIES
                       if c not in path), path
    # the filter on the ARMOURY shows only events Britain may see, and the count is theirs
    armoury = gbr.get("/custody?location=UA-LVIV/LV-D1/ARMOURY").text
    shown = set(re.findall(r'<tr data-seq="(\d+)"', armoury))
    assert shown and not shown & {str(s) for s in deu}
    for seq in deu:
        assert gbr.get(f"/custody/events/{seq}").status_code == 404
        assert gbr.get(f"/custody/checkpoints?seq={seq}").status_code == 404
        assert gbr.get("/custody/events/999999").status_code == 404  # the same as an unknown id


def test_checkpoint_and_a_checked_proof(app: App) -> None:
    c = app.browser("gbr-depot")
    page = c.get("/custody/checkpoints")
    resp = c.post("/custody/checkpoints", data={"csrf": csrf(page.text)}, follow_redirects=False)
    assert resp.status_code == 303
    view = c.get(resp.headers["location"] + "&seq=1")
    assert 'data-testid="checkpoint-note"' in view.text and 'data-testid="proof-checked"' in view.text
    api = app.api("gbr-depot").get("/api/ledger/proofs/inclusion/1").json()
    for h in api["log_path"]:
        assert h in view.text
    cp = int(re.search(r"checkpoint=(\d+)", resp.headers["location"]).group(1))
    _api_event(app, "gbr-depot", [{"type": "suspension", "payload": {
        "lot": "GBR-155-2026-A", "suspended": True, "reason": "after the checkpoint"}}])
    later = _ledger_size(app)
    after = c.get(f"/custody/checkpoints?checkpoint={cp}&seq={later}")
    assert after.status_code == 422 and 'data-testid="error-seq"' in after.text and "came later" in after.text
    bad = c.get("/custody/checkpoints?seq=abc")
    assert bad.status_code == 422 and 'data-testid="error-seq"' in bad.text and 'value="abc"' in bad.text
    # a viewer sees the checkpoints but is offered no signing
    assert 'data-testid="checkpoint-form"' not in app.browser("gbr-viewer").get("/custody/checkpoints").text


def test_event_filters_page_and_reject_bad_dates_inline(app: App) -> None:
    hq = app.browser("hq-inspector")
    first = hq.get("/custody").text
    total = int(re.search(r'data-testid="events-total">\((\d+)', first).group(1))
    seen: list[str] = re.findall(r'<tr data-seq="(\d+)"', first)
    page = first
    while 'rel="next"' in page:
        nxt = re.search(r'href="([^"]+)" rel="next"', page).group(1).replace("&amp;", "&")
        page = hq.get(nxt).text
        seen += re.findall(r'<tr data-seq="(\d+)"', page)
    assert len(seen) == total == len(set(seen))
    receipts = hq.get("/custody?type=receipt&since=2026-03-10&until=2026-03-10").text
    assert re.search(r'data-testid="events-total">\(2 events', receipts)
    bad = hq.get("/custody?since=10/03/2026")
    assert bad.status_code == 422 and 'data-testid="error-since"' in bad.text
    assert 'value="10/03/2026"' in bad.text


def test_custody_pages_in_french_show_no_english_ui_string(app: App) -> None:
    from dashboard.test_i18n import _translations, visible_text

    english = [m.id for m in _translations().values()
               if isinstance(m.id, str) and "%" not in m.id and len(m.id.split()) >= 2
               and m.string != m.id]
    for user in ("gbr-depot", "hq-inspector"):
        c = app.browser(user)
        for path in ("/custody", "/custody?since=x", "/custody/events/1", "/custody/transfers",
                     "/custody/stocktakes", "/custody/stocktakes/20", "/custody/checkpoints?seq=1",
                     "/custody/checkpoints?checkpoint=1", "/ledger", "/depots",
                     "/depots/DEP-VIN/placement"):
            resp = c.get(path, params={"lang": "fr"})
            if resp.status_code in (403, 404):  # the placement page: the depot nation's officers
                continue
            assert '<html lang="fr">' in resp.text, (user, path)
            text = visible_text(resp.text)
            shown = [e for e in english if re.search(rf"(?<!\w){re.escape(e)}(?!\w)", text)]
            assert not shown, (user, path, shown)


def test_hq_is_not_offered_an_acceptance_it_cannot_sign(app: App) -> None:
    c = app.browser("hq-admin")
    proposal = _propose(c, manifest="M-HQ-1", text="lot,item,quantity\nVIN-556-H01,ctg-556,10\n")
    assert 'data-testid="hq-cannot-accept"' in proposal and 'data-testid="accept-form"' not in proposal
    from coalition.dashboard.placements import fingerprint
    from coalition.inventory.safety import depot_holdings
    from coalition.ledger.sample import ledger_network
    from coalition.scenario.service import load_scenario
    from coalition.store.db import transaction

    with transaction(app.app.state.coalition.session_factory) as db:  # the stock now, as the page
        scenario, held, _cat = depot_holdings(db, ledger_network(load_scenario(None).depots),
                                              "UA-VINNYTSIA", "DEP-VIN")
    size = _ledger_size(app)
    forced = c.post("/depots/DEP-VIN/placement/accept", data={
        "csrf": csrf(proposal), "consignment": "lot,item,quantity\nVIN-556-H01,ctg-556,10\n",
        "lines": json.dumps([["VIN-STK1", "VIN-556-H01", 10]]), "manifest": "M-HQ-1",
        "origin": "HQ-STORE", "basis": fingerprint([*scenario, *held])})
    assert forced.status_code == 409 and "HQ accounts cannot" in forced.text
    assert _ledger_size(app) == size


def test_two_simultaneous_acceptances_append_once(app: App) -> None:
    import threading

    c1, c2 = app.browser("gbr-depot"), app.browser("gbr-depot2")
    text = "lot,item,quantity\nVIN-556-C01,ctg-556,100\n"
    p1 = _propose(c1, manifest="M-GBR-VIN-CC1", text=text)
    p2 = _propose(c2, manifest="M-GBR-VIN-CC1", text=text)
    size = _ledger_size(app)
    codes: list[int] = []
    start = threading.Barrier(2)

    def go(c: TestClient, proposal: str) -> None:
        start.wait()
        codes.append(_accept(c, proposal).status_code)  # type: ignore[attr-defined]

    threads = [threading.Thread(target=go, args=a) for a in ((c1, p1), (c2, p2))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(codes) == [200, 409], codes
    assert _ledger_size(app) == size + 3
