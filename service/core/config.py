"""Settings: read once from the environment, validated, frozen.

Every setting has a safe default so `qujat serve` works on a laptop with nothing configured;
production sets QUJAT_DATABASE_URL (PostgreSQL), QUJAT_PUBLIC_BASE_URL and the trust folder.
QUJAT_TESTING_FAULTS exists for tests only (see service.core.faults).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit


class SettingsError(ValueError):
    """A setting that is present but unusable; names the variable."""


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 1) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be on or off, got {raw!r}")


def _hours(env: Mapping[str, str], name: str) -> tuple[dt.time, dt.time]:
    raw = env.get(name) or "09:00-18:00"
    try:
        opens, closes = (dt.time.fromisoformat(part.strip()) for part in raw.split("-"))
    except ValueError:
        raise SettingsError(f"{name} must look like 09:00-18:00, got {raw!r}") from None
    if opens >= closes:
        raise SettingsError(f"{name}: working hours must open before they close, got {raw!r}")
    return opens, closes


# module constants, not `cls.<field>`: a slotted dataclass's class attributes are descriptors
DEFAULT_PUBLIC_BASE_URL = "http://127.0.0.1:8000"
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
DEFAULT_RATE_LIMIT_STORAGE = ""  # a counters file in the data dir, shared by the workers
DEFAULT_VERIFY_RATE_LIMIT = "60 per minute"  # per client, over every public route
DEFAULT_NCALAYER_URL = "wss://127.0.0.1:13579/"  # NCALayer's own WebSocket on the signer's PC
DEFAULT_UPLOAD_MAX_BYTES = 10 * 1024 * 1024  # upload-to-verify: a PDF and its .p7s


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path = Path("var")
    database_url: str = ""
    # where document files go: "filesystem" (<data_dir>/objects, one machine) or "postgresql"
    # (the database's `objects` table, shared by every machine; see service.registry.storage)
    storage: str = "filesystem"
    public_base_url: str = DEFAULT_PUBLIC_BASE_URL
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    trust_dir: Path | None = None
    # signatures: "require" (default) | "soft-fail" | "off" (development only)
    revocation_mode: str = "require"
    # download due CRLs and ask OCSP while checking (signing.revocation); off: the folder as is
    revocation_fetch: bool = True
    rate_limit_storage: str = DEFAULT_RATE_LIMIT_STORAGE
    verify_rate_limit: str = DEFAULT_VERIFY_RATE_LIMIT
    upload_max_bytes: int = DEFAULT_UPLOAD_MAX_BYTES
    # deadlines and e-mail delivery; the sender thread is on by default only from
    # the environment (`qujat serve`), so that apps built in tests never start one
    working_hours: tuple[dt.time, dt.time] = (dt.time(9), dt.time(18))
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_user: str = ""
    smtp_password: str = ""
    mail_from: str = "qujat@localhost"
    mail_sender: bool = False
    # /metrics: the bearer token a scrape must send; empty: loopback clients only
    metrics_token: str = ""
    # webhooks (service.webhooks): the delivery thread of `qujat serve`, the seconds one POST
    # may take, and whether a URL may resolve to a loopback/private/link-local address
    webhook_sender: bool = False
    webhook_timeout: float = 10.0
    webhook_allow_private: bool = False
    # signing invitations: a link lives this many days; a signer who has not signed gets a
    # reminder after this many working days, at most this many times; the page's NCALayer
    invitation_days: int = 7
    signing_reminder_days: int = 1
    signing_reminder_max: int = 3
    ncalayer_url: str = DEFAULT_NCALAYER_URL
    # test-only failure points (service.core.faults); empty in production
    testing_faults: str = ""

    def __post_init__(self) -> None:
        if not self.database_url:
            object.__setattr__(
                self, "database_url", f"sqlite:///{(self.data_dir / 'qujat.sqlite3').resolve()}"
            )
        if self.storage not in ("filesystem", "postgresql"):
            raise SettingsError(
                f"QUJAT_STORAGE must be filesystem or postgresql, got {self.storage!r}"
            )
        if self.storage == "postgresql" and not self.database_url.startswith("postgresql"):
            raise SettingsError(
                "QUJAT_STORAGE=postgresql keeps the documents in the database: "
                "QUJAT_DATABASE_URL must name a PostgreSQL database (postgresql+psycopg://…)"
            )
        parts = urlsplit(self.public_base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise SettingsError(
                f"QUJAT_PUBLIC_BASE_URL must be an http(s) URL, got {self.public_base_url!r}"
            )
        object.__setattr__(self, "public_base_url", self.public_base_url.rstrip("/"))

    @property
    def storage_dir(self) -> Path:
        return self.data_dir / "objects"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        trust = env.get("QUJAT_TRUST_DIR")
        return cls(
            data_dir=Path(env.get("QUJAT_DATA_DIR", "var")),
            database_url=env.get("QUJAT_DATABASE_URL", ""),
            storage=env.get("QUJAT_STORAGE") or "filesystem",
            public_base_url=env.get("QUJAT_PUBLIC_BASE_URL", DEFAULT_PUBLIC_BASE_URL),
            max_body_bytes=_int(env, "QUJAT_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES),
            trust_dir=Path(trust) if trust else None,
            revocation_mode=env.get("QUJAT_REVOCATION") or "require",
            revocation_fetch=_flag(env, "QUJAT_REVOCATION_FETCH", True),
            rate_limit_storage=env.get("QUJAT_RATE_LIMIT_STORAGE", DEFAULT_RATE_LIMIT_STORAGE),
            verify_rate_limit=env.get("QUJAT_VERIFY_RATE_LIMIT") or DEFAULT_VERIFY_RATE_LIMIT,
            upload_max_bytes=_int(env, "QUJAT_UPLOAD_MAX_BYTES", DEFAULT_UPLOAD_MAX_BYTES),
            working_hours=_hours(env, "QUJAT_WORKING_HOURS"),
            smtp_host=env.get("QUJAT_SMTP_HOST") or "127.0.0.1",
            smtp_port=_int(env, "QUJAT_SMTP_PORT", 25),
            smtp_starttls=_flag(env, "QUJAT_SMTP_STARTTLS", False),
            smtp_user=env.get("QUJAT_SMTP_USER", ""),
            smtp_password=env.get("QUJAT_SMTP_PASSWORD", ""),
            mail_from=env.get("QUJAT_MAIL_FROM") or "qujat@localhost",
            mail_sender=_flag(env, "QUJAT_MAIL_SENDER", True),
            metrics_token=env.get("QUJAT_METRICS_TOKEN", ""),
            webhook_sender=_flag(env, "QUJAT_WEBHOOK_SENDER", True),
            webhook_timeout=float(_int(env, "QUJAT_WEBHOOK_TIMEOUT", 10)),
            webhook_allow_private=_flag(env, "QUJAT_WEBHOOK_ALLOW_PRIVATE", False),
            invitation_days=_int(env, "QUJAT_INVITATION_DAYS", 7),
            signing_reminder_days=_int(env, "QUJAT_SIGNING_REMINDER_DAYS", 1),
            signing_reminder_max=_int(env, "QUJAT_SIGNING_REMINDER_MAX", 3, minimum=0),
            ncalayer_url=env.get("QUJAT_NCALAYER_URL") or DEFAULT_NCALAYER_URL,
            testing_faults=env.get("QUJAT_TESTING_FAULTS", ""),
        )

    def replace(self, **changes: object) -> Settings:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]
