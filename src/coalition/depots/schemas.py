"""Typed values for protected storage facilities (depots).

The depots issue fills this module in: depots at hubs, storehouses (potential explosion sites),
exposed sites, the item catalogue, lots and stock. The scenario embeds a :class:`DepotNetwork`.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class DepotNetwork(BaseModel):
    """Every depot of a scenario with its catalogue and stock (filled in by the depots issue)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
