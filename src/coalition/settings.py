"""Settings: one typed object created at the boundary and passed down.

Nothing in the package reads the environment at import time; ``Settings.from_env()`` is called
by the CLI or the server factory.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError

from coalition.errors import InputError, Problem

DEFAULT_DATA_DIR = Path(".coalition")


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    database_url: str = f"sqlite:///{DEFAULT_DATA_DIR / 'coalition.db'}"
    data_dir: Path = DEFAULT_DATA_DIR
    scenario: str | None = None  # path of a scenario; None = the embedded paris-2026
    secret_key: str | None = None  # session signing for the dashboard; generated when None
    max_upload_bytes: int = 5_000_000
    # Plan runs (coalition.planner.runs): where they run, how many at once, per-nation quota,
    # and the ceiling on a run's solver time whatever the request asks.
    executor: str = "local"  # "local" or "dask://tcp://host:8786"
    plan_workers: int = 1
    plan_quota: int = 1
    plan_time_limit_max: float = 600.0
    session_idle_minutes: int = 30  # a dashboard session unused this long ends
    session_absolute_hours: int = 8  # ... and every session ends this long after sign-in
    cpu_workers: int = 1  # processes for CPU-bound request work (validation of uploads)
    cpu_time_limit_s: float = 20.0  # per request; over it: 503 with Retry-After
    rate_limit_per_minute: int = 120  # expensive requests per token and minute (0: no limit)
    rate_limit_burst: int = 30  # ... of which this many at once
    # custody ledger trust (docs/ledger.md): the pinned trust file, the demo key store's passphrase,
    # independent witnesses (C2SP tlog-witness URLs) and the cosignature quorum coalition-verify needs
    trust_file: Path | None = None  # None = <data_dir>/trust.json
    demo_passphrase: str = "coalition-demo-only"
    witnesses: tuple[str, ...] = ()
    witness_quorum: int = 0
    backdate_tolerance_s: int = 86_400  # an event may be dated at most this long before the last checkpoint
    insecure_cookies: bool = False  # dashboard cookies without the Secure flag (plain-HTTP development)
    # secrets a command may take from the environment instead of a prompt (never printed: SecretStr)
    key_passphrase: SecretStr | None = None  # COALITION_KEY_PASSPHRASE: encrypted key files
    pkcs11_pin: SecretStr | None = None  # COALITION_PKCS11_PIN: a PKCS#11 token's user PIN
    token: SecretStr | None = None  # COALITION_TOKEN: the API token of CLI commands on stored data

    @property
    def demo_keystore(self) -> Path:
        """The ILLUSTRATIVE demo key store: always under the data dir (never the working dir)."""
        return Path(self.data_dir) / "keys"

    @property
    def trust_path(self) -> Path:
        return Path(self.trust_file) if self.trust_file else Path(self.data_dir) / "trust.json"

    def with_overrides(self, **overrides: object) -> Settings:
        """These settings with some fields replaced (e.g. a command's ``--database-url``),
        validated like the rest: a bad value is an :class:`InputError` naming the setting."""
        try:
            return type(self).model_validate({**self.model_dump(), **overrides})
        except ValidationError as exc:
            raise InputError([_env_problem(exc)]) from None

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Settings from ``COALITION_*`` variables (the only place the package reads the
        environment). A malformed value is an :class:`InputError` naming the variable."""
        try:
            return cls._from_env(overrides)
        except ValueError as exc:  # int("x"), float("x") and pydantic's ValidationError
            raise InputError([_env_problem(exc)]) from None

    @classmethod
    def _from_env(cls, overrides: dict[str, object]) -> Settings:
        values: dict[str, object] = {}
        # absolute, so that a command run from another folder finds the same keys and trust file
        data_dir = Path(os.environ.get("COALITION_DATA_DIR", str(DEFAULT_DATA_DIR))).expanduser().absolute()
        values["data_dir"] = data_dir
        values["database_url"] = os.environ.get("COALITION_DATABASE_URL", f"sqlite:///{data_dir / 'coalition.db'}")
        if os.environ.get("COALITION_SCENARIO"):
            values["scenario"] = os.environ["COALITION_SCENARIO"]
        if os.environ.get("COALITION_SECRET_KEY"):
            values["secret_key"] = os.environ["COALITION_SECRET_KEY"]
        for env, name, kind in (
            ("COALITION_EXECUTOR", "executor", str),
            ("COALITION_PLAN_WORKERS", "plan_workers", int),
            ("COALITION_PLAN_QUOTA", "plan_quota", int),
            ("COALITION_PLAN_TIME_LIMIT_MAX", "plan_time_limit_max", float),
        ):
            if os.environ.get(env):
                values[name] = _int(env) if kind is int else _float(env) if kind is float else os.environ[env]
        for key, env in (
            ("session_idle_minutes", "COALITION_SESSION_IDLE_MINUTES"),
            ("session_absolute_hours", "COALITION_SESSION_ABSOLUTE_HOURS"),
            ("rate_limit_per_minute", "COALITION_RATE_LIMIT_PER_MINUTE"),
            ("rate_limit_burst", "COALITION_RATE_LIMIT_BURST"),
        ):
            if os.environ.get(env):
                values[key] = _int(env)
        if os.environ.get("COALITION_TRUST_FILE"):
            values["trust_file"] = Path(os.environ["COALITION_TRUST_FILE"])
        if os.environ.get("COALITION_DEMO_PASSPHRASE"):
            values["demo_passphrase"] = os.environ["COALITION_DEMO_PASSPHRASE"]
        if os.environ.get("COALITION_WITNESSES"):
            values["witnesses"] = tuple(w for w in os.environ["COALITION_WITNESSES"].split(",") if w.strip())
        if os.environ.get("COALITION_BACKDATE_TOLERANCE_S"):
            values["backdate_tolerance_s"] = _int("COALITION_BACKDATE_TOLERANCE_S")
        if os.environ.get("COALITION_WITNESS_QUORUM"):
            values["witness_quorum"] = _int("COALITION_WITNESS_QUORUM")
        if os.environ.get("COALITION_INSECURE_COOKIES"):
            values["insecure_cookies"] = os.environ["COALITION_INSECURE_COOKIES"] == "1"
        for key, env in (
            ("key_passphrase", "COALITION_KEY_PASSPHRASE"),
            ("pkcs11_pin", "COALITION_PKCS11_PIN"),
            ("token", "COALITION_TOKEN"),
        ):
            if os.environ.get(env):
                values[key] = SecretStr(os.environ[env])
        values.update(overrides)
        return cls.model_validate(values)


class _BadVariable(ValueError):
    def __init__(self, env: str, kind: str) -> None:
        super().__init__(env)
        self.env, self.kind = env, kind


def _int(env: str) -> int:
    try:
        return int(os.environ[env])
    except ValueError:
        raise _BadVariable(env, "a whole number") from None


def _float(env: str) -> float:
    try:
        return float(os.environ[env])
    except ValueError:
        raise _BadVariable(env, "a number") from None


def _env_problem(exc: ValueError) -> Problem:
    if isinstance(exc, _BadVariable):
        return Problem(
            f"{exc.env}={os.environ.get(exc.env)!r} is not {exc.kind}",
            field=exc.env,
            hint=f"set {exc.env} to {exc.kind}, or unset it for the default",
        )
    if isinstance(exc, ValidationError) and exc.errors():
        first = exc.errors()[0]
        name = ".".join(str(p) for p in first.get("loc", ()))
        return Problem(f"setting {name}: {first.get('msg', 'invalid')}", field=name)
    return Problem(str(exc), field="environment")
