"""Compatibility shim: redaction moved to :mod:`coalition.auth.redact` (releasability is the
auth package's concern; the domain query functions use it without importing the API)."""

from coalition.auth.redact import RESTRICTED, redact_plan, scrub_ids

__all__ = ["RESTRICTED", "redact_plan", "scrub_ids"]
