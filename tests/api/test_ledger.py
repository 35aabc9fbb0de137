"""Custody ledger through the API, on the illustrative sample history (23 events): scoping by
acting and title nation, append with separation of duties, transfers needing a second officer,
checkpoints, proofs, inventory and the accountability report."""

from __future__ import annotations

from api.harness import Service, sqlite_svc  # noqa: F401 - the fixture
from api.resources import ResourceTests, Write, assert_error, audit_entries

COUNT = {"events": [{"type": "count", "payload": {"location": "UA-LVIV/LV-D1",
                                                   "serials": ["GBR-ATGM-0007"]}}]}


class TestCustodyEvents(ResourceTests):
    path = "/api/custody-events"
    key = "seq"
    ident = "1"  # a British manifest
    unknown_ident = "999999"
    hidden_ident = "13"  # a German manifest of German items: not the UK's business
    sensitive = True
    # the sample stocktake at LV-D1 is split per title nation (DEU 20, FRA 21, GBR 22): Britain sees its part
    filters = {"type": ("count", {"22"}), "nation": ("DEU", set())}
    writes = (
        Write("POST", "/api/custody-events", COUNT, allowed="gbr-depot",
              forbidden_role="gbr-viewer", expect_status=201, audit_type="custody-event"),
    )


class TestLedgerDuties:
    def test_custodian_cannot_count_its_own_stock(self, svc: Service) -> None:
        # FRA runs the Lviv depot: a French officer may not count there; a British one may.
        err = assert_error(svc.client("fra-depot").post("/api/custody-events", json=COUNT), 403)
        assert "separation of duties" in err["message"]
        resp = svc.client("gbr-depot").post("/api/custody-events", json=COUNT)
        assert resp.status_code == 201, resp.text
        seq = resp.json()["first_seq"]
        event = svc.client("gbr-depot").get(f"/api/custody-events/{seq}").json()
        assert event["nation"] == "GBR" and event["person"] == "gbr-depot"  # from the sign-in

    def test_requester_cannot_approve_transfer(self, svc: Service) -> None:
        body = {"payload": {"serials": ["FRA-OPT-0005"], "to": "UA-LVIV/LV-D1/SH-1"}}
        resp = svc.client("fra-depot").post("/api/transfers", json=body)
        assert resp.status_code == 201, resp.text
        tid = resp.json()["id"]
        err = assert_error(svc.client("fra-depot").post(f"/api/transfers/{tid}/approve"), 403)
        assert "separation of duties" in err["message"]
        assert_error(svc.client("gbr-depot").post(f"/api/transfers/{tid}/approve"), 404)
        ok = svc.client("fra-depot2").post(f"/api/transfers/{tid}/approve")
        assert ok.status_code == 200, ok.text
        approved = ok.json()
        assert approved["status"] == "approved" and approved["approved_by"] == "fra-depot2"
        event = svc.client("hq-admin").get(f"/api/custody-events/{approved['seq']}").json()
        assert event["type"] == "transfer" and event["person"] == "fra-depot2"
        assert_error(svc.client("fra-depot2").post(f"/api/transfers/{tid}/approve"), 409)
        # a transfer cannot bypass the approval by being posted as a plain event
        assert_error(svc.client("fra-depot").post("/api/custody-events", json={
            "events": [{"type": "transfer", "payload": body["payload"]}]}), 409)

    def test_invariant_violation_writes_nothing(self, svc: Service) -> None:
        c = svc.client("hq-admin")
        before = c.get("/api/ledger/health").json()["events"]
        # GBR is not the custodian of the French optics: the ledger refuses the whole batch.
        bad = {"events": [COUNT["events"][0],
                          {"type": "disposal", "payload": {"serials": ["FRA-OPT-0002"],
                                                           "kind": "destroyed"}}]}
        assert_error(svc.client("gbr-depot").post("/api/custody-events", json=bad), 409)
        assert c.get("/api/ledger/health").json()["events"] == before
        err = assert_error(svc.client("gbr-depot").post("/api/custody-events", json={
            "events": [{"type": "count", "payload": {"location": 5}}]}), 422)
        assert err["problems"] and err["problems"][0]["row"] == 1


class TestCheckpointsProofsReports:
    def test_checkpoint_proof_and_health(self, svc: Service) -> None:
        resp = svc.client("hq-inspector").post("/api/ledger/checkpoints")
        assert resp.status_code == 201, resp.text
        cp = resp.json()
        assert svc.client("gbr-viewer").get(f"/api/ledger/checkpoints/{cp['id']}").json() == cp
        # what the API returns is enough to check the log's signature: origin, size, root and the
        # nation-heads line are exactly the signed note text
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        from coalition.ledger.notes import checkpoint_text

        assert cp["heads"] and cp["heads"].startswith("coalition-ledger/nation-heads/v1 ")
        from coalition.ledger.queries import pinned_trust

        key = pinned_trust(svc.app.state.coalition.settings).log_key.public_key  # type: ignore[attr-defined]
        Ed25519PublicKey.from_public_bytes(key).verify(bytes.fromhex(cp["signature"]), checkpoint_text(
            cp["key_id"], cp["size"], bytes.fromhex(cp["root"]), (cp["heads"],)).encode())  # raises if not
        assert_error(svc.client("gbr-viewer").post("/api/ledger/checkpoints"), 403)
        proof = svc.client("gbr-viewer").get("/api/ledger/proofs/inclusion/1").json()
        assert proof["seq"] == 1 and proof["tree_size"] >= 23 and proof["log_path"]
        assert_error(svc.client("gbr-viewer").get("/api/ledger/proofs/inclusion/13"), 404)
        cons = svc.client("gbr-viewer").get("/api/ledger/proofs/consistency",
                                            params={"first": 5, "second": 23}).json()
        assert cons["path"]
        health = svc.client("gbr-viewer").get("/api/ledger/health").json()
        assert health["verified"] is True and health["checkpoint"]["size"] == health["events"]

    def test_inventory_and_accountability_are_per_donor(self, svc: Service) -> None:
        c = svc.client("gbr-viewer")
        inv = c.get("/api/inventory").json()
        assert inv["title_nation"] == "GBR" and inv["items"]
        assert {r["title_nation"] for r in inv["items"]} == {"GBR"}
        assert_error(c.get("/api/inventory", params={"title_nation": "FRA"}), 404)
        hq = svc.client("hq-inspector").get("/api/inventory").json()
        assert {"GBR", "FRA"} <= {r["title_nation"] for r in hq["items"]}
        resp = c.get("/api/reports/accountability", params={"donor": "GBR"})
        assert resp.status_code == 200
        report = resp.json()
        assert report["donor"] == "GBR" and report["items"]
        assert all(i["ref"].startswith("GBR") for i in report["items"])
        assert [e["action"] for e in audit_entries(svc, request_id=resp.headers["x-request-id"])] == ["view"]
        assert_error(c.get("/api/reports/accountability", params={"donor": "FRA"}), 404)


class TestCheckpoints(ResourceTests):
    path = "/api/ledger/checkpoints"
    ident = "1"  # the sample history's cosigned checkpoint
    unknown_ident = "999"
    writes = (
        Write("POST", "/api/ledger/checkpoints", None, allowed="hq-inspector",
              forbidden_role="gbr-viewer", expect_status=201, audit_type="checkpoint"),
    )


# --- coalition.api.routers.ledger's handlers called directly (no HTTP) -----------------------


def test_inventory_and_reports_are_scoped_to_the_readers_nation(sqlite_svc: Service) -> None:  # noqa: F811
    import pytest

    from coalition.api.deps import Ctx
    from coalition.api.routers.ledger import accountability, consistency, inventory
    from coalition.auth import service
    from coalition.auth.scope import OutOfScope
    from coalition.errors import InputError

    svc = sqlite_svc
    with svc.db() as db:
        def ctx(user: str) -> Ctx:
            principal = service.authenticate(db, token=svc.tokens[user])
            return Ctx(state=svc.app.state.coalition, request_id=f"l-{user}", principal=principal, db=db)

        gbr = ctx("gbr-viewer")
        mine = inventory(gbr, by=["title_nation"], title_nation=None)
        assert mine["title_nation"] == "GBR" and all(r.get("title_nation", "GBR") == "GBR" for r in mine["items"])
        with pytest.raises(OutOfScope):
            inventory(gbr, by=["title_nation"], title_nation="FRA")
        hq = inventory(ctx("hq-admin"), by=["title_nation"], title_nation=None)
        assert hq["title_nation"] is None and hq["total"] >= mine["total"]
        with pytest.raises(InputError) as err:
            inventory(gbr, by=["title_nation"], title_nation="XXY")  # not a nation of the coalition
        assert err.value.problems[0].field == "title_nation"
        report = accountability(ctx("gbr-depot"), donor="GBR", as_of=None)
        assert report["donor"] == "GBR" and set(report["delinquency"]) == {
            "monitored", "initial_overdue", "annual_overdue", "late_loss_reports"}
        with pytest.raises(OutOfScope):
            accountability(ctx("gbr-depot"), donor="FRA", as_of=None)
        with pytest.raises(InputError) as err:
            consistency(gbr, first=5, second=2)
        assert err.value.problems[0].field == "first"
