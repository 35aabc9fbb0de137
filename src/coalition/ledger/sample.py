"""The ILLUSTRATIVE sample custody history of the embedded paris-2026 scenario, and ledger set-up.

``custody/events.jsonl`` (in the scenario folder) tells one invented story end to end: serial
manifests by GBR, FRA and DEU, dispatch, receipts at an FRA-run depot at the Lviv hub with
discrepancies (a goggle short-shipped, one not on the manifest, a lot short, two launchers
quarantined), a mistaken transfer reversed by a correction, issues to Ukrainian brigades
(countersigned by UKR with its own key), expenditure, a destruction, a loss reported late, a return, a lot
suspension and a blind stocktake by a Polish inspector. That depot (LV-D1) is modelled once, in the
scenario's own ``depots.yaml``: one depot model serves the scenario and the ledger. Serials, values
and units are invented; nothing here is a real record.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from coalition.depots.schemas import DepotNetwork
from coalition.inventory.state import SafetyCheck
from coalition.ledger import checkpoints, service
from coalition.ledger.batches import LocalSigner
from coalition.ledger.keyevents import trust_from_keyring
from coalition.ledger.keys import KeyRing
from coalition.ledger.schemas import AppendResult, parse_jsonl
from coalition.ledger.trust import Trust

#: nations of the sample history (actors, witnesses and the Ukrainian end user)
SAMPLE_NATIONS = ("GBR", "FRA", "DEU", "POL", "UKR")
#: (kept for callers) witnesses are now independent processes, none by default
SAMPLE_WITNESSES: tuple[str, ...] = ()


def custody_dir() -> Path:
    from coalition.scenario.service import embedded_path

    return embedded_path() / "custody"


def sample_events_path() -> Path:
    return custody_dir() / "events.jsonl"


def sample_network() -> DepotNetwork:
    """The embedded scenario's depot network, which models the sample history's depot LV-D1."""
    from coalition.scenario.service import load_scenario

    return load_scenario(None).depots


def ledger_network(scenario_network: DepotNetwork | None) -> DepotNetwork:
    """The depot network receipts are checked against: the scenario's, plus the embedded
    scenario's model of any depot (and item type) the sample history uses and the scenario does not
    model. A depot neither models is refused by the safety gate."""
    sample = sample_network()
    if scenario_network is None:
        return sample
    depot_ids = {d.id for d in scenario_network.depots}
    item_ids = {i.id for i in scenario_network.items}
    return DepotNetwork(
        note=scenario_network.note,
        items=(*scenario_network.items, *(i for i in sample.items if i.id not in item_ids)),
        lots=scenario_network.lots,
        depots=(*scenario_network.depots, *(d for d in sample.depots if d.id not in depot_ids)),
        stock=scenario_network.stock,
    )


def load_sample(
    session: Session, *, keyring: KeyRing, safety: SafetyCheck | None, trust: Trust | None = None
) -> AppendResult:
    """Append the sample history (signed from the DEMO key store: both parties of each handover
    sign with their own demo keys) and make a checkpoint. Witnesses are separate processes
    (``coalition witness``); none cosigns the demo unless configured."""
    events = parse_jsonl(sample_events_path().read_text("utf-8"), file=str(sample_events_path()))
    trust = trust or trust_from_keyring(keyring)
    service.register_keys(session, keyring=keyring, trust=trust)
    result = service.append_events(
        session, events=events, signer=LocalSigner(keyring, countersign=True), trust=trust, safety=safety
    )
    checkpoints.make_checkpoint(session, keyring=keyring, origin=trust.origin)
    return result
