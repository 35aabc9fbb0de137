"""Compatibility shim: the service's tables moved to their domain packages.

``TransferRequest`` now lives in :mod:`coalition.ledger.requests` (imported from here by
``api/routers/ledger.py``); stored scenarios in :mod:`coalition.scenario.models`; plan runs in
:mod:`coalition.planner.runs`.
"""

from coalition.ledger.requests import TransferRequest

__all__ = ["TransferRequest"]
