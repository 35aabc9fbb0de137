"""Run Alembic migrations programmatically (no alembic.ini needed at run time).

Each domain package keeps its own migration branch in ``store/migrations/versions`` with a
``branch_labels`` of its name and ``down_revision = None`` for its first revision, so packages
never fight over one linear chain; :func:`upgrade` applies every head.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

HERE = Path(__file__).parent


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("script_location", str(HERE / "migrations"))
    cfg.set_main_option("version_locations", str(HERE / "migrations" / "versions"))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, target: str = "heads") -> None:
    """Bring the database to the newest schema of every package."""
    command.upgrade(alembic_config(engine), target)


def downgrade(engine: Engine, target: str = "base") -> None:
    command.downgrade(alembic_config(engine), target)
