"""depots package."""
