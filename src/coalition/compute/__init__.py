"""Typed adapters over third-party compute libraries (only ``dask.distributed`` today)."""
