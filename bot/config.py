"""One typed Settings object built from the environment; the only module that reads os.environ."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.errors import ConfigError

DEFAULT_TELEGRAM_API = "https://api.telegram.org/bot"
USER_AGENT = "newsbot/0.1 (+https://github.com/newsbot/newsbot; self-hosted RSS reader)"


class Settings(BaseSettings):
    """Every setting has the environment name fixed in DESIGN.md (case-insensitive aliases are not accepted)."""

    model_config = SettingsConfigDict(case_sensitive=True, extra="ignore", populate_by_name=True)

    telegram_bot_token: str | None = Field(
        default=None,
        alias="TELEGRAM_BOT_TOKEN",
        description="The bot's token from @BotFather; `newsbot run` refuses to start without it, naming this variable. Never logged.",
        repr=False,
    )
    telegram_api_base_url: str = Field(
        default=DEFAULT_TELEGRAM_API,
        alias="TELEGRAM_API_BASE_URL",
        description="Bot API base in python-telegram-bot's `base_url` form: a local Bot API server (`http://127.0.0.1:8081/bot`) or a test's fake one.",
    )
    db: Path = Field(
        default=Path("./data/newsbot.db"),
        alias="NEWSBOT_DB",
        description="The SQLite database file (WAL: its `-wal` and `-shm` files live beside it).",
    )
    feeds: Path = Field(
        default=Path("./feeds.yaml"),
        alias="NEWSBOT_FEEDS",
        description="The feed list and content settings (feeds.yaml; its keys are listed below).",
    )
    admin_ids: Annotated[frozenset[int], NoDecode] = Field(
        default=frozenset(),
        alias="NEWSBOT_ADMIN_IDS",
        description="Comma-separated Telegram user ids allowed to use the admin commands, in a private chat with the bot.",
    )
    backend: Literal["ctranslate2", "transformers", "extractive"] = Field(
        default="ctranslate2",
        alias="NEWSBOT_BACKEND",
        description="The engine: `ctranslate2` (the models converted at download), `transformers` (the same models on torch) or `extractive` (no weights, never translates).",
    )
    model_dir: Path = Field(
        default=Path("./models"),
        alias="NEWSBOT_MODEL_DIR",
        description="Where models are downloaded to and looked up; a model setting in feeds.yaml may also be a local path.",
    )
    allow_private_urls: bool = Field(
        default=False,
        alias="NEWSBOT_ALLOW_PRIVATE_URLS",
        description="`1` allows feed URLs on loopback and private addresses (intranets, tests); cloud metadata endpoints stay refused.",
    )
    poll_interval: int = Field(
        default=900,
        ge=10,
        alias="NEWSBOT_POLL_INTERVAL",
        description="Seconds between two polls of a feed that sets no `interval` of its own.",
    )
    webhook_url: str | None = Field(
        default=None,
        alias="NEWSBOT_WEBHOOK_URL",
        description="A public `https://` URL Telegram can reach: webhook mode instead of long polling.",
    )
    webhook_listen: str = Field(
        default="127.0.0.1:8443",
        alias="NEWSBOT_WEBHOOK_LISTEN",
        description="`host:port` the webhook server listens on, for a reverse proxy to forward NEWSBOT_WEBHOOK_URL to.",
    )
    webhook_secret: str | None = Field(
        default=None,
        alias="NEWSBOT_WEBHOOK_SECRET",
        repr=False,
        pattern=r"^[A-Za-z0-9_-]{1,256}$",
        description="The secret Telegram sends with every webhook update; unset: one is made at the first start and kept in the database.",
    )
    qa_model: str | None = Field(
        default=None,
        alias="NEWSBOT_QA_MODEL",
        description="A seq2seq model id or path that writes /ask answers from the retrieved passages only, citations kept; unset: answers quote the stories.",
    )
    # `run` and `poll` fetch the configured models that are missing, in the background; the Docker image has them.
    auto_download: bool = Field(
        default=True,
        alias="NEWSBOT_AUTO_DOWNLOAD",
        description="`0` stops `newsbot run` and `poll` from fetching the configured models that are missing at start.",
    )
    mcp_token: SecretStr | None = Field(
        default=None,
        alias="NEWSBOT_MCP_TOKEN",
        repr=False,
        description="The bearer token `newsbot mcp --http` requires on any address but loopback (and on loopback too when set); never logged.",
    )
    broker_url: str | None = Field(
        default=None,
        alias="NEWSBOT_BROKER_URL",
        repr=False,  # it may hold a password
        description="The Redis URL of the Celery broker (`redis://host:6379/0`): model work goes to `newsbot worker` processes on any number of boxes; unset: the model thread of this process, and no Redis is needed.",
    )
    device: Literal["cpu", "cuda"] = Field(
        default="cpu",
        alias="NEWSBOT_DEVICE",
        description="Where this process (`run`, `poll` or `worker`) runs its models: `cpu` (int8), or `cuda` (CTranslate2 `int8_float16`, torch float16, larger batches).",
    )

    # Not fixed by DESIGN.md; tuning knobs with safe defaults.
    fetch_timeout: float = Field(
        default=20.0,
        gt=0,
        alias="NEWSBOT_FETCH_TIMEOUT",
        description="Seconds one feed or article fetch may take in all, redirects included.",
    )
    max_feed_bytes: int = Field(
        default=10 * 1024 * 1024,
        gt=0,
        alias="NEWSBOT_MAX_FEED_BYTES",
        description="Largest feed or article body in bytes, counted after decompression (10 MiB).",
    )
    max_redirects: int = Field(
        default=5,
        ge=0,
        alias="NEWSBOT_MAX_REDIRECTS",
        description="Redirects followed per fetch; the SSRF guard checks every hop.",
    )
    per_host_concurrency: int = Field(
        default=2, ge=1, alias="NEWSBOT_PER_HOST_CONCURRENCY", description="Fetches to one host at the same time."
    )
    max_failures: int = Field(
        default=10,
        ge=1,
        alias="NEWSBOT_MAX_FAILURES",
        description="Failures in a row after which a feed is disabled until `newsbot feeds enable` or /resumefeed.",
    )
    extract_articles: bool = Field(
        default=True,
        alias="NEWSBOT_EXTRACT_ARTICLES",
        description="`0` keeps a teaser feed's own text instead of fetching and extracting the article page.",
    )
    torch_threads: int | None = Field(
        default=None,
        ge=1,
        alias="NEWSBOT_TORCH_THREADS",
        description="torch's threads (transformers backend), or batches run side by side (ctranslate2); unset: one per core.",
    )
    quantize: bool = Field(default=True, alias="NEWSBOT_QUANTIZE", description="int8 models on CPU; `0`: float32.")
    # Which embedder indexes stories for /ask (docs/questions-clusters-trends.md: measured on tests/data/qa).
    embedder: Literal["e5", "minilm"] = Field(
        default="e5",
        alias="NEWSBOT_EMBEDDER",
        description="Embeddings for /ask and clusters: `e5` (multilingual-e5-small, original texts) or `minilm` (all-MiniLM-L6-v2, English pivots).",
    )
    digest_max_stories: int = Field(
        default=15,
        ge=1,
        le=50,
        alias="NEWSBOT_DIGEST_MAX_STORIES",
        description='Stories in one digest; those left out are counted in "…and N more".',
    )
    # Telegram's flood limits: about 30 messages a second in all, one a second per chat, 20 a minute per group.
    send_rate: float = Field(
        default=25.0, gt=0, alias="NEWSBOT_SEND_RATE", description="Messages per second the bot sends in all."
    )
    chat_rate: float = Field(
        default=1.0,
        gt=0,
        alias="NEWSBOT_CHAT_RATE",
        description="Messages per second to one chat, command replies included.",
    )
    group_rate: float = Field(
        default=20.0, gt=0, alias="NEWSBOT_GROUP_RATE", description="Messages per minute to one group."
    )
    retention_days: int = Field(
        default=90,
        ge=1,
        alias="NEWSBOT_RETENTION_DAYS",
        description="Days a story is kept after it was stored; older stories and delivered messages are deleted hourly.",
    )
    user_limit: str = Field(
        default="10/minute",
        alias="NEWSBOT_USER_LIMIT",
        description="How many /ask, /digest, /summarize and private-chat questions and links one user may send, in the `limits` notation: `10/minute`, `100/hour`.",
    )
    heartbeat_max_age: int = Field(
        default=180,
        ge=10,
        alias="NEWSBOT_HEARTBEAT_MAX_AGE",
        description="Seconds after the running bot's last heartbeat (every 30 s) when `newsbot health` calls it down (exit 1).",
    )
    jobs_in_flight: int = Field(
        default=16,
        ge=1,
        alias="NEWSBOT_JOBS_IN_FLIGHT",
        description="With NEWSBOT_BROKER_URL: enrichment batches the main box keeps queued for the workers at once; more are sent as results arrive.",
    )
    job_timeout: int = Field(
        default=900,
        ge=5,
        alias="NEWSBOT_JOB_TIMEOUT",
        description="With NEWSBOT_BROKER_URL: seconds after which a job with no result is sent again (its worker died), and a worker's unacknowledged job goes back to the queue.",
    )

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

    @field_validator(
        "telegram_bot_token", "webhook_url", "webhook_secret", "qa_model", "mcp_token", "broker_url", mode="before"
    )
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
