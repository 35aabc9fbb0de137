"""inventory package: serialised units and ammunition lots, kept as projections of the ledger."""
