"""Compatibility shim: stored scenarios moved to :mod:`coalition.scenario.store` (imported from
here by ``api/routers/depots.py``)."""

from coalition.scenario.store import markings, scenario_header

__all__ = ["markings", "scenario_header"]
