"""audit package: the hash-chained, checkpointed audit log of the service."""
