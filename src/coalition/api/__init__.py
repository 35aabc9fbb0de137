"""The REST API: ``create_app(settings)`` builds the FastAPI application."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["create_app"]

if TYPE_CHECKING:
    from fastapi import FastAPI

    from coalition.settings import Settings


def create_app(settings: Settings, **kwargs: Any) -> FastAPI:
    from coalition.api.app import create_app as _create

    return _create(settings, **kwargs)
