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
        environment), then ``overrides``; a ``data_dir`` override also places the default
        database in it (unless ``COALITION_DATABASE_URL`` or a ``database_url`` override says
        where). A malformed value is an :class:`InputError` naming the variable."""
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
        if overrides.get("data_dir") is not None and not os.environ.get("COALITION_DATABASE_URL"):
            # a data dir given in code (a command's --data-dir) moves the default database with it
            values["database_url"] = f"sqlite:///{Path(str(overrides['data_dir'])) / 'coalition.db'}"
        for name, env in VARIABLES.items():
            if name not in values and os.environ.get(env):  # empty = unset: the default
                values[name] = _value(name, env)
        values.update(overrides)
        return cls.model_validate(values)


#: The variable each setting is read from (:meth:`Settings.from_env`); the settings missing here
#: (max_upload_bytes, cpu_workers, cpu_time_limit_s) have none and are set in code only.
VARIABLES: dict[str, str] = {
    "data_dir": "COALITION_DATA_DIR",
    "database_url": "COALITION_DATABASE_URL",
    "scenario": "COALITION_SCENARIO",
    "secret_key": "COALITION_SECRET_KEY",
    "executor": "COALITION_EXECUTOR",
    "plan_workers": "COALITION_PLAN_WORKERS",
    "plan_quota": "COALITION_PLAN_QUOTA",
    "plan_time_limit_max": "COALITION_PLAN_TIME_LIMIT_MAX",
    "session_idle_minutes": "COALITION_SESSION_IDLE_MINUTES",
    "session_absolute_hours": "COALITION_SESSION_ABSOLUTE_HOURS",
    "rate_limit_per_minute": "COALITION_RATE_LIMIT_PER_MINUTE",
    "rate_limit_burst": "COALITION_RATE_LIMIT_BURST",
    "trust_file": "COALITION_TRUST_FILE",
    "demo_passphrase": "COALITION_DEMO_PASSPHRASE",
    "witnesses": "COALITION_WITNESSES",
    "backdate_tolerance_s": "COALITION_BACKDATE_TOLERANCE_S",
    "witness_quorum": "COALITION_WITNESS_QUORUM",
    "insecure_cookies": "COALITION_INSECURE_COOKIES",
    "key_passphrase": "COALITION_KEY_PASSPHRASE",
    "pkcs11_pin": "COALITION_PKCS11_PIN",
    "token": "COALITION_TOKEN",
}


_INTS = frozenset(
    {
        "plan_workers",
        "plan_quota",
        "session_idle_minutes",
        "session_absolute_hours",
        "rate_limit_per_minute",
        "rate_limit_burst",
        "backdate_tolerance_s",
        "witness_quorum",
    }
)
_SECRETS = frozenset({"key_passphrase", "pkcs11_pin", "token"})


def _value(name: str, env: str) -> object:
    """Setting ``name`` from its (non-empty) variable ``env``."""
    text = os.environ[env]
    if name in _INTS:
        return _int(env)
    if name == "plan_time_limit_max":
        return _float(env)
    if name == "trust_file":
        return Path(text)
    if name == "witnesses":
        return tuple(w for w in text.split(",") if w.strip())
    if name == "insecure_cookies":
        return text == "1"
    if name in _SECRETS:
        return SecretStr(text)
    return text


def _variable_text(name: str, value: object) -> str:
    """A setting's value as its variable holds it ("" = unset: the default)."""
    if value is None:
        return ""
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, tuple):
        if any("," in str(v) for v in value):
            raise InputError([Problem(f"setting {name}: an entry holds a comma", field=name)])
        return ",".join(str(v) for v in value)
    if isinstance(value, Path):
        return str(value.expanduser().absolute())
    return str(value)


def worker_environment(settings: Settings) -> dict[str, str]:
    """The ``COALITION_*`` variables from which :meth:`Settings.from_env` in another process
    builds ``settings`` again. A setting that has no variable and is not at its default cannot
    be handed over: an :class:`InputError` naming it (never a worker with other settings)."""
    fixed = [
        name
        for name, field in Settings.model_fields.items()
        if name not in VARIABLES and getattr(settings, name) != field.default
    ]
    if fixed:
        raise InputError(
            [
                Problem(
                    f"setting {name} has no COALITION_* variable, so worker processes cannot be given it",
                    field=name,
                    hint="leave it at its default or run one worker process",
                )
                for name in fixed
            ]
        )
    return {env: _variable_text(name, getattr(settings, name)) for name, env in VARIABLES.items()}


def export_to_workers(settings: Settings) -> None:
    """Put ``settings`` into this process's environment, which worker processes it starts
    inherit (``coalition serve --workers N``: each uvicorn worker calls ``Settings.from_env()``).
    The one place the package writes the environment."""
    os.environ.update(worker_environment(settings))


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
