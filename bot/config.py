"""One typed Settings object built from the environment; the only module that reads os.environ."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.errors import ConfigError

DEFAULT_TELEGRAM_API = "https://api.telegram.org/bot"
USER_AGENT = "newsbot/0.1 (+https://github.com/newsbot/newsbot; self-hosted RSS reader)"


class Settings(BaseSettings):
    """Every setting has the environment name fixed in DESIGN.md (case-insensitive aliases are not accepted)."""

    model_config = SettingsConfigDict(case_sensitive=True, extra="ignore", populate_by_name=True)

    telegram_bot_token: str | None = Field(default=None, alias="TELEGRAM_BOT_TOKEN", repr=False)
    telegram_api_base_url: str = Field(default=DEFAULT_TELEGRAM_API, alias="TELEGRAM_API_BASE_URL")
    db: Path = Field(default=Path("./data/newsbot.db"), alias="NEWSBOT_DB")
    feeds: Path = Field(default=Path("./feeds.yaml"), alias="NEWSBOT_FEEDS")
    admin_ids: Annotated[frozenset[int], NoDecode] = Field(default=frozenset(), alias="NEWSBOT_ADMIN_IDS")
    backend: Literal["ctranslate2", "transformers", "extractive"] = Field(
        default="ctranslate2", alias="NEWSBOT_BACKEND"
    )
    model_dir: Path = Field(default=Path("./models"), alias="NEWSBOT_MODEL_DIR")
    allow_private_urls: bool = Field(default=False, alias="NEWSBOT_ALLOW_PRIVATE_URLS")
    poll_interval: int = Field(default=900, ge=10, alias="NEWSBOT_POLL_INTERVAL")
    webhook_url: str | None = Field(default=None, alias="NEWSBOT_WEBHOOK_URL")
    webhook_listen: str = Field(default="127.0.0.1:8443", alias="NEWSBOT_WEBHOOK_LISTEN")
    # Telegram sends it with every update; unset: one is generated at the first start and kept in the database.
    webhook_secret: str | None = Field(
        default=None, alias="NEWSBOT_WEBHOOK_SECRET", repr=False, pattern=r"^[A-Za-z0-9_-]{1,256}$"
    )
    qa_model: str | None = Field(default=None, alias="NEWSBOT_QA_MODEL")
    # `run` and `poll` fetch the configured models that are missing, in the background; the Docker image has them.
    auto_download: bool = Field(default=True, alias="NEWSBOT_AUTO_DOWNLOAD")

    # Not fixed by DESIGN.md; tuning knobs with safe defaults.
    fetch_timeout: float = Field(default=20.0, gt=0, alias="NEWSBOT_FETCH_TIMEOUT")
    max_feed_bytes: int = Field(default=10 * 1024 * 1024, gt=0, alias="NEWSBOT_MAX_FEED_BYTES")
    max_redirects: int = Field(default=5, ge=0, alias="NEWSBOT_MAX_REDIRECTS")
    per_host_concurrency: int = Field(default=2, ge=1, alias="NEWSBOT_PER_HOST_CONCURRENCY")
    max_failures: int = Field(default=10, ge=1, alias="NEWSBOT_MAX_FAILURES")
    extract_articles: bool = Field(default=True, alias="NEWSBOT_EXTRACT_ARTICLES")
    torch_threads: int | None = Field(default=None, ge=1, alias="NEWSBOT_TORCH_THREADS")
    quantize: bool = Field(default=True, alias="NEWSBOT_QUANTIZE")
    # Which embedder indexes stories for /ask (see README: measured on tests/data/qa).
    embedder: Literal["e5", "minilm"] = Field(default="e5", alias="NEWSBOT_EMBEDDER")
    digest_max_stories: int = Field(default=15, ge=1, le=50, alias="NEWSBOT_DIGEST_MAX_STORIES")
    # Telegram's flood limits: about 30 messages a second in all, one a second per chat, 20 a minute per group.
    send_rate: float = Field(default=25.0, gt=0, alias="NEWSBOT_SEND_RATE")
    chat_rate: float = Field(default=1.0, gt=0, alias="NEWSBOT_CHAT_RATE")
    group_rate: float = Field(default=20.0, gt=0, alias="NEWSBOT_GROUP_RATE")  # per minute
    # Stories, their vectors, search rows and translations, and delivered messages older than this are deleted.
    retention_days: int = Field(default=90, ge=1, alias="NEWSBOT_RETENTION_DAYS")
    # Fair use: /ask and /digest per user, in the `limits` library's notation ("10/minute", "100/hour").
    user_limit: str = Field(default="10/minute", alias="NEWSBOT_USER_LIMIT")
    # `newsbot health` calls the bot unhealthy when its last heartbeat (written every 30 s) is older than this.
    heartbeat_max_age: int = Field(default=180, ge=10, alias="NEWSBOT_HEARTBEAT_MAX_AGE")

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(int(part) for part in value.replace(" ", "").split(",") if part)
        return value

    @field_validator("webhook_url")
    @classmethod
    def _https_only(cls, value: str | None) -> str | None:
        if value is not None and not value.lower().startswith("https://"):
            raise ValueError("Telegram sends webhooks to https:// URLs only")
        return value

    @field_validator("webhook_listen")
    @classmethod
    def _host_and_port(cls, value: str) -> str:
        listen_address(value)
        return value

    @field_validator("user_limit")
    @classmethod
    def _a_rate(cls, value: str) -> str:
        from limits import parse

        try:
            parse(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a rate like 10/minute or 100/hour") from None
        return value

    @field_validator("telegram_bot_token", "webhook_url", "webhook_secret", "qa_model", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value


def listen_address(value: str) -> tuple[str, int]:
    """NEWSBOT_WEBHOOK_LISTEN as (host, port): `127.0.0.1:8443`, `[::1]:8443`, `0.0.0.0:80`."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536 or not host:
        raise ValueError(f"{value!r} is not host:port, like 127.0.0.1:8443")
    return host.strip("[]"), int(port)


def load_settings(**overrides: object) -> Settings:
    """Build Settings from the environment (plus explicit overrides), turning validation errors into ConfigError."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as e:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in e.errors(include_url=False)
        )
        raise ConfigError(f"invalid environment settings: {problems}") from e
