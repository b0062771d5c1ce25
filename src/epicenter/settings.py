"""Settings, declared once with defaults and help.

Precedence: CLI flag (passed as keyword arguments) > environment (``EPICENTER_*``) >
``epicenter.toml`` (in the working directory, or the file named by ``EPICENTER_CONFIG``) >
the defaults below. Every command reads settings through :func:`load_settings`.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


def _config_file() -> Path:
    return Path(os.environ.get("EPICENTER_CONFIG", "epicenter.toml"))


class Settings(BaseSettings):
    """Every tunable of the platform, with its default and what it means."""

    model_config = SettingsConfigDict(env_prefix="EPICENTER_", extra="ignore")

    home: Path = Field(
        Path("./epicenter-data"),
        description="Data home: holds the warehouse (raw/, curated/, quarantine/, catalog).",
    )
    engine: Literal["duckdb", "spark"] = Field(
        "duckdb", description="Query engine: embedded DuckDB (default) or Apache Spark."
    )
    spark_master: str = Field(
        "local[2]", description="Spark master URL (local mode here, a cluster URL in production)."
    )
    secret_file: Path | None = Field(
        None,
        description="File with the pseudonymisation secret (>= 32 bytes). Default: "
        "~/.config/epicenter/secret, generated on first use with 0600 permissions. "
        "Kept outside the warehouse on purpose.",
    )
    timezone: str = Field("Asia/Shanghai", description="Local time zone of delivered times.")
    threads: int = Field(2, description="Worker threads for the embedded engine.")
    memory_limit: str = Field("8GB", description="Memory cap for the embedded engine (spills beyond).")
    ping_pong_seconds: int = Field(
        120, description="Cell dwell derivation: drop flips to another cell shorter than this."
    )
    ping_gap_minutes: int = Field(
        30, description="Cell dwell derivation: a gap longer than this between pings ends a dwell."
    )
    min_cell_count: int = Field(
        5, description="Small-count suppression: aggregates below this are shown as '<k'."
    )
    contact_profile: str = Field("default", description="Close-contact rule profile name or YAML path.")
    service_host: str = Field("127.0.0.1", description="Dashboard/API bind address.")
    service_port: int = Field(8765, description="Dashboard/API port.")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=_config_file())
        return (init_settings, env_settings, toml)

    @cached_property
    def warehouse(self):  # noqa: ANN201 - avoid import cycle in the annotation
        from epicenter.warehouse import Warehouse

        return Warehouse(self.home)


def load_settings(**overrides: Any) -> Settings:
    """Settings with CLI overrides on top; ``None`` values mean 'flag not given'."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
