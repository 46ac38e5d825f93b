"""Settings: read once from the environment, validated, frozen.

Every setting has a safe default so `qujat serve` works on a laptop with nothing configured;
production sets QUJAT_DATABASE_URL (PostgreSQL), QUJAT_PUBLIC_BASE_URL and the trust folder.
"""

from __future__ import annotations

import dataclasses
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


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path = Path("var")
    database_url: str = ""
    public_base_url: str = "http://127.0.0.1:8000"
    max_body_bytes: int = 1024 * 1024
    trust_dir: Path | None = None
    rate_limit_storage: str = "memory://"

    def __post_init__(self) -> None:
        if not self.database_url:
            object.__setattr__(
                self, "database_url", f"sqlite:///{(self.data_dir / 'qujat.sqlite3').resolve()}"
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
            public_base_url=env.get("QUJAT_PUBLIC_BASE_URL", cls.public_base_url),
            max_body_bytes=_int(env, "QUJAT_MAX_BODY_BYTES", cls.max_body_bytes),
            trust_dir=Path(trust) if trust else None,
            rate_limit_storage=env.get("QUJAT_RATE_LIMIT_STORAGE", cls.rate_limit_storage),
        )

    def replace(self, **changes: object) -> Settings:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]
