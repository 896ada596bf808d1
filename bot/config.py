"""Configuration: one TOML file read once at start; CONSULTBOT_* environment variables win."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from storage.db import is_postgres_url, redacted

ENV_PREFIX = "CONSULTBOT_"
ENV_DELIMITER = "__"
LANGUAGES = ("es", "en", "fr")
DEFAULT_BASE_URL = "https://api.telegram.org/bot"
TELEGRAM_HOST = "api.telegram.org"
# @BotFather's tokens: the bot's numeric id, a colon, 35 characters of the URL-safe alphabet.
TOKEN_SHAPE = re.compile(r"^\d+:[A-Za-z0-9_-]{35}$")
# Telegram's documented limits (core.telegram.org/bots/faq): ~30 messages/s for bulk notices,
# 1,000/s with paid broadcasts, about one message per second into one chat.
TELEGRAM_RATE = 30.0
TELEGRAM_PAID_RATE = 1000.0
TELEGRAM_CHAT_INTERVAL = 1.0


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_http_url(value: str, field: str) -> str:
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValueError(f"{field} must be an http(s) URL, got {value!r}")
    return value


class TelegramConfig(Section):
    token: SecretStr
    base_url: str = DEFAULT_BASE_URL
    base_file_url: str | None = None
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    webhook_secret_token: SecretStr | None = None
    poll_timeout: float = Field(default=10.0, ge=0)

    @field_validator("token")
    @classmethod
    def _token_not_empty(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("token is empty")
        return value

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        return _check_http_url(value, "base_url")

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        return None if value is None else _check_http_url(value, "webhook_url")

    @model_validator(mode="after")
    def _webhook_needs_url(self) -> TelegramConfig:
        if self.mode == "webhook" and self.webhook_url is None:
            raise ValueError("webhook mode needs webhook_url")
        return self

    def file_url(self) -> str:
        """The base URL for file downloads, derived the way python-telegram-bot does."""
        if self.base_file_url:
            return self.base_file_url
        return self.base_url.removesuffix("/bot") + "/file/bot"


class StorageConfig(Section):
    """Where consultbot keeps everything: an SQLite file (`path`), or PostgreSQL (`url`).

    When both are set, `url` wins, so CONSULTBOT_STORAGE__URL moves a configured deployment.
    """

    path: Path = Path("consultbot.db")
    url: str | None = None

    @field_validator("url")
    @classmethod
    def _postgres_url(cls, value: str | None) -> str | None:
        if value is not None and not is_postgres_url(value):
            raise ValueError("url must start with postgresql:// (for SQLite, set path)")
        return value

    @property
    def target(self) -> str:
        """What storage opens: the PostgreSQL URL when set, else the SQLite file."""
        return self.url or str(self.path)

    @property
    def shown(self) -> str:
        """Where the data lives, as logs name it (a URL without its password)."""
        return str(self.path) if self.url is None else redacted(self.url)


class AdminsConfig(Section):
    user_ids: tuple[int, ...] = ()
    chat_id: int | None = None


class ProgrammeConfig(Section):
    name: str = "Consulta a la diáspora"
    # Who asks: the welcome and the privacy notice name this institution, so a member knows whose
    # consultation it is before giving anything (issue 21, "trust").
    institution: str = Field(
        default=(
            "Consejo Nacional para la Protección y Desarrollo de la Persona Migrante y su Familia"
            " (CONMIGRANTE)"
        ),
        min_length=1,
        max_length=200,
    )
    default_language: Literal["es", "en", "fr"] = "es"
    default_time_zone: str = "America/El_Salvador"
    privacy_notice_version: str = "2026-11"
    rounds: tuple[str, ...] = ("Round 1: diagnosis",)
    thematic_groups: tuple[str, ...] = (
        "investment-remittances",
        "consular-services",
        "civic-participation",
        "protection",
        "skills-knowledge",
        "return-reintegration",
    )
    sectors: tuple[str, ...] = (
        "government",
        "private",
        "civil-society",
        "academia",
        "diaspora-association",
    )
    # Results and exports hide any cell with fewer respondents than this (and what reveals it).
    min_cell: int = Field(default=5, ge=1, le=100)

    @field_validator("default_time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return check_time_zone(value)


class DeliveryConfig(Section):
    # Telegram: ~30/s, 1,000/s with paid broadcasts; higher values only make sense off Telegram.
    rate_per_second: float = Field(default=30.0, gt=0, le=10000)
    per_chat_interval_seconds: float = Field(default=1.0, ge=0)
    paid_broadcasts: bool = False
    max_attempts: int = Field(default=5, ge=1, le=50)
    retry_base_seconds: float = Field(default=2.0, gt=0, le=600)
    max_in_flight: int = Field(default=32, ge=1, le=256)


class LoggingConfig(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class Config(BaseSettings):
    """The whole configuration; environment variables (CONSULTBOT_SECTION__KEY) beat the file."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=ENV_DELIMITER,
        extra="forbid",
        frozen=True,
    )

    telegram: TelegramConfig
    storage: StorageConfig = StorageConfig()
    admins: AdminsConfig = AdminsConfig()
    programme: ProgrammeConfig = ProgrammeConfig()
    delivery: DeliveryConfig = DeliveryConfig()
    logging: LoggingConfig = LoggingConfig()


def on_telegram(config: Config) -> bool:
    """Whether the bot talks to Telegram's own Bot API (not the emulator or a local server)."""
    return urlparse(config.telegram.base_url).hostname == TELEGRAM_HOST


def telegram_problems(config: Config) -> list[str]:
    """What Telegram itself would refuse or punish, one line each (never quoting the token).

    Checked only against api.telegram.org: the emulator and a local Bot API server take other
    tokens and rates (tests and benchmarks rely on that), and database-only commands do not
    use the token at all, so `run` and `check-config` ask for these checks (load_config's
    for_telegram).
    """
    if not on_telegram(config):
        return []
    found = []
    token = config.telegram.token.get_secret_value().strip()
    if not TOKEN_SHAPE.fullmatch(token):
        found.append(
            "telegram.token: not a token from @BotFather (digits, a colon, then 35 letters,"
            " digits, _ or -)"
        )
    delivery = config.delivery
    limit = TELEGRAM_PAID_RATE if delivery.paid_broadcasts else TELEGRAM_RATE
    if delivery.rate_per_second > limit:
        why = "paid broadcasts" if delivery.paid_broadcasts else "without paid_broadcasts = true"
        found.append(
            f"delivery.rate_per_second: {delivery.rate_per_second:g} is above Telegram's"
            f" {limit:,.0f} messages per second {why}"
        )
    if delivery.per_chat_interval_seconds < TELEGRAM_CHAT_INTERVAL:
        found.append(
            f"delivery.per_chat_interval_seconds: {delivery.per_chat_interval_seconds:g} is under"
            " Telegram's one message per second into one chat"
        )
    return found


def warnings(config: Config) -> list[str]:
    """Settings that are valid but probably not what the operator wants."""
    found = []
    if config.telegram.mode == "webhook" and config.telegram.webhook_secret_token is None:
        found.append(
            "telegram.webhook_secret_token is not set: anyone can post updates to the webhook"
        )
    if not config.admins.user_ids:
        found.append("admins.user_ids is empty: nobody can grant roles")
    return found


def check_time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {value!r} (use an IANA name like America/Chicago)"
        ) from None
    return value


class ConfigError(Exception):
    """The configuration cannot be used; ``problems`` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _config_with_file_values(data: dict[str, Any], environ: Mapping[str, str]) -> Config:
    """Build Config with file values as the lowest-priority source, below the environment."""

    class _Loaded(Config):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            environment = EnvSettingsSource(
                settings_cls,
                env_prefix=ENV_PREFIX,
                env_nested_delimiter=ENV_DELIMITER,
                case_sensitive=False,
            )
            environment.env_vars = {
                key.lower(): value
                for key, value in environ.items()
                if key.upper().startswith(ENV_PREFIX) and key.upper() != ENV_PREFIX + "CONFIG"
            }
            return (environment, init_settings)

    return _Loaded(**data)


def _describe(error: Any) -> str:
    location = ".".join(str(part) for part in error["loc"])
    kind = error["type"]
    if kind == "missing":
        return f"{location}: missing (required)"
    if kind == "extra_forbidden":
        return f"{location}: unknown key"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{location}: {message}"


def load_config(
    path: Path | None, environ: Mapping[str, str] | None = None, for_telegram: bool = False
) -> Config:
    """Read the TOML file (if any), apply environment overrides, validate; raise ConfigError.

    for_telegram adds what Telegram would refuse (the token's shape, its rate limits).
    """
    environ = os.environ if environ is None else environ
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError([f"{path}: file not found"]) from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError([f"{path}: not valid TOML ({exc})"]) from None
    try:
        config = _config_with_file_values(data, environ)
    except ValidationError as exc:
        raise ConfigError([_describe(error) for error in exc.errors()]) from None
    problems = telegram_problems(config) if for_telegram else []
    if problems:
        raise ConfigError(problems)
    return config
