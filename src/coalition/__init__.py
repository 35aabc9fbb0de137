"""coalition: plan and run a multinational reassurance force.

Conditional pledges become a feasible, time-phased force (``scenario``, ``conditions``,
``forcegen``, ``planner``); protected depots follow the ammunition-safety rules (``depots``);
custody of every weapon is proven by a signed Merkle log (``ledger``); a CLI, REST API and
dashboard share the same services.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
