"""feeds.yaml: its schema and validation; never fetches a URL. Reading the file, with errors that name the line and
key, is bot/feedlist/load.py; editing it in place is bot/feedlist/edit.py."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Protocol
from urllib.parse import urlsplit, urlunsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from summarizer.types import DEFAULT_LANGUAGES

FEEDS_ENV = "NEWSBOT_FEEDS"
MIN_INTERVAL = 10  # the same floor as NEWSBOT_POLL_INTERVAL
MAX_INTERVAL = 7 * 24 * 3600  # a week; larger values are usually milliseconds typed as seconds
MAX_URL_LENGTH = 2048
MAX_TITLE_LENGTH = 300
MAX_NAME_LENGTH = 100
PIVOT_LANGUAGE = "en"

# ISO 639-1 (including the withdrawn "bh"): a typo such as "jp", "cn", "sp" or "ge" is refused, not silently kept.
_ISO_639_1_CODES = (
    "aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz ee el en "
    "eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv "
    "ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne "
    "ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st "
    "su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu"
)
ISO_639_1 = frozenset(_ISO_639_1_CODES.split())

_DEFAULT_PORTS = {"http": 80, "https": 443}

# --- URLs and small values -------------------------------------------------------------------------------------------


def check_feed_url(url: str, *, allow_file: bool = False) -> str:
    """Return `url` without surrounding blanks if it is a well-formed feed URL; else raise ValueError saying why.

    Syntax only: whether the host may be contacted is bot.feeds.urlsafety's call. file:// URLs pass only with
    `allow_file` (the CLI's choice; chat commands never allow them).
    """
    url = url.strip()
    if not url:
        raise ValueError("the URL is empty")
    if len(url) > MAX_URL_LENGTH:
        raise ValueError(f"the URL is longer than {MAX_URL_LENGTH} characters")
    if any(ch.isspace() or unicodedata.category(ch) == "Cc" for ch in url):
        raise ValueError("the URL contains spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port  # urlsplit checks the port only when asked
    except ValueError as e:
        raise ValueError(f"the URL is malformed ({e})") from None
    scheme = parts.scheme.lower()
    if scheme in _DEFAULT_PORTS:
        if not parts.hostname:
            raise ValueError("the URL has no host name")
        if port == 0:
            raise ValueError("the URL has port 0")
    elif scheme == "file":
        if not allow_file:
            raise ValueError("file:// URLs can be added from the command line only")
        if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
            raise ValueError("a file:// URL must name an absolute local path (file:///path/to/feed.xml)")
    else:
        got = f"{scheme}:" if scheme else "no scheme"
        raise ValueError(f"the URL must start with http:// or https:// (got {got})")
    return url


def normalize_url(url: str) -> str:
    """The form feed URLs are compared in: scheme and host lower-case, no default port, no #fragment, "" path = "/".

    The path's trailing slash and the query stay significant: servers may answer `/feed` and `/feed/` differently.
    A string that does not parse as a URL is compared as typed.
    """
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 literal: hostname drops the brackets
        host = f"[{host}]"
    userinfo, at, _ = parts.netloc.rpartition("@")
    netloc = userinfo + at + (host if port is None or port == _DEFAULT_PORTS.get(scheme) else f"{host}:{port}")
    path = parts.path or ("/" if scheme in _DEFAULT_PORTS else "")
    return urlunsplit((scheme, netloc, path, parts.query, ""))


def _check_lang(code: str) -> str:
    code = code.strip().lower()
    if code not in ISO_639_1:
        raise ValueError(f"{code!r} is not an ISO 639-1 language code (two letters, like en, it, de)")
    return code


def _check_text(max_length: int) -> Callable[[str], str]:
    def check(text: str) -> str:
        text = text.strip()
        if not text:
            raise ValueError("is empty (leave the key out instead)")
        if any(unicodedata.category(ch) == "Cc" for ch in text):
            raise ValueError("must be a single line without control characters")
        if len(text) > max_length:
            raise ValueError(f"is longer than {max_length} characters")
        return text

    return check


def _check_model(model: str) -> str:
    model = model.strip()
    if not model:
        raise ValueError("is empty: give a model id or a local path, or leave the key out for the default")
    return model


def _check_pair(pair: str) -> str:
    src, dash, tgt = pair.strip().lower().partition("-")
    if not (dash and src in ISO_639_1 and tgt in ISO_639_1):
        raise ValueError(f"{pair!r} is not a language pair like it-en (two ISO 639-1 codes joined by -)")
    return f"{src}-{tgt}"


LangCode = Annotated[StrictStr, AfterValidator(_check_lang)]
LanguagePair = Annotated[StrictStr, AfterValidator(_check_pair)]
ModelRef = Annotated[StrictStr, AfterValidator(_check_model)]
Title = Annotated[StrictStr, AfterValidator(_check_text(MAX_TITLE_LENGTH))]
EntityName = Annotated[StrictStr, AfterValidator(_check_text(MAX_NAME_LENGTH))]
TargetToken = Annotated[StrictStr, StringConstraints(pattern=r"^>>[A-Za-z_]{2,12}<<$")]


def _repeated(items: Sequence[str], key: Callable[[str], str] = str) -> None:
    """Refuse the second occurrence of an item, pointing the error (ctx "item") at its index so it gets a line."""
    first: dict[str, int] = {}
    for index, item in enumerate(items):
        earlier = first.setdefault(key(item), index)
        if earlier != index:
            raise PydanticCustomError(
                "repeated",
                "'{value}' is listed twice (also item {earlier})",
                {"value": item, "earlier": earlier, "item": index},
            )


# --- the file's schema -----------------------------------------------------------------------------------------------


class _Section(BaseModel):
    # Unknown keys are refused: a typo such as `intervall:` must not be ignored silently.
    model_config = ConfigDict(extra="forbid", frozen=True)


class FeedEntry(_Section):
    """One item of `feeds:`."""

    url: StrictStr = Field(
        description="An RSS, Atom or JSON Feed over http(s), or a local `file:///path` (/addfeed refuses those). Each URL once."
    )
    title: Title | None = Field(default=None, description="Display name; unset: the feed's own title.")
    lang: LangCode | None = Field(
        default=None,
        description="Language hint (ISO 639-1); each story's language is still detected. Unset: the feed's own `<language>`.",
    )
    interval: StrictInt | None = Field(
        default=None,
        description="Seconds between two polls of this feed, 10 to 604800 (a week); unset: NEWSBOT_POLL_INTERVAL.",
    )
    enabled: StrictBool = Field(
        default=True,
        description="`false` pauses the feed (as /pausefeed and `newsbot feeds disable` do); it stays in the list.",
    )

    @field_validator("url")
    @classmethod
    def _valid_url(cls, url: str) -> str:
        # Writing the file needs the host, so it may hold file:// URLs; adding one is refused unless allowed.
        return check_feed_url(url, allow_file=True)

    @field_validator("interval")
    @classmethod
    def _valid_interval(cls, seconds: int | None) -> int | None:
        if seconds is not None and not MIN_INTERVAL <= seconds <= MAX_INTERVAL:
            raise ValueError(f"must be between {MIN_INTERVAL} and {MAX_INTERVAL} seconds (got {seconds})")
        return None if seconds is None else int(seconds)

    def poll_interval(self, default: int) -> int:
        """Seconds between polls: this feed's own `interval`, else `default` (NEWSBOT_POLL_INTERVAL)."""
        return default if self.interval is None else self.interval


class ModelSettings(_Section):
    """`settings.models`: model ids or local paths; an unset key keeps the engine's default."""

    summarizer: ModelRef | None = Field(
        default=None, description="The model that summarizes the English pivot; unset: `sshleifer/distilbart-cnn-12-6`."
    )
    translation: ModelRef | None = Field(
        default=None,
        description="One model for every pair, `{src}` and `{tgt}` replaced by language codes; unset: the checked map.",
    )
    translation_overrides: dict[LanguagePair, ModelRef] = Field(
        default_factory=dict,
        description="One language pair's model (`it-en: /models/my-model`), before `translation` and the map.",
    )
    translation_tokens: dict[LanguagePair, TargetToken] = Field(
        default_factory=dict,
        description='A multi-target model\'s target-language token per pair: `en-pt: ">>pob<<"` for Brazilian Portuguese.',
    )
    translation_fallback: ModelRef | None = Field(
        default=None,
        description="Any language into English when no pair model fits; unset: `Helsinki-NLP/opus-mt-mul-en`.",
    )

    @field_validator("translation")
    @classmethod
    def _valid_pattern(cls, pattern: str | None) -> str | None:
        if pattern is not None and not ("{src}" in pattern and "{tgt}" in pattern):
            raise ValueError("must contain {src} and {tgt}, like Helsinki-NLP/opus-mt-{src}-{tgt}")
        return pattern


class WatchName(_Section):
    """One item of `watchlist:`: a name, or `{name: ..., aliases: [...]}` for the other ways stories write it."""

    name: EntityName = Field(description="A name /trends follows, matched as whole words in any case and any script.")
    aliases: tuple[EntityName, ...] = Field(
        default=(),
        description="Other spellings stories use for it, counted as the name (`DeepMind` for Google DeepMind).",
    )

    @model_validator(mode="before")
    @classmethod
    def _plain_name(cls, value: object) -> object:
        return {"name": value} if isinstance(value, str) else value

    def spellings(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


class ContentSettings(_Section):
    """`settings:`: what the bot offers, independent of where it runs."""

    languages: tuple[LangCode, ...] = Field(
        default=DEFAULT_LANGUAGES,
        description="ISO 639-1 codes a reader may pick with /lang, when a model serves them; must include `en`, the pivot.",
    )
    models: ModelSettings = Field(
        default=ModelSettings(), description="Model ids or local paths; a key left out keeps the engine's default."
    )
    watchlist: tuple[WatchName, ...] = Field(
        default=(),
        description="Names /trends always follows beside the keyphrases it finds: a name, or `{name, aliases}`.",
    )

    @field_validator("languages")
    @classmethod
    def _valid_languages(cls, languages: tuple[str, ...]) -> tuple[str, ...]:
        _repeated(languages)
        if PIVOT_LANGUAGE not in languages:
            raise ValueError(f"must include {PIVOT_LANGUAGE!r}: every story is translated into English first")
        return languages

    @field_validator("watchlist")
    @classmethod
    def _valid_watchlist(cls, names: tuple[WatchName, ...]) -> tuple[WatchName, ...]:
        # Trends match names ignoring case: a spelling under two names would count one mention twice.
        owner: dict[str, int] = {}
        for index, entry in enumerate(names):
            for spelling in entry.spellings():
                earlier = owner.setdefault(spelling.casefold(), index)
                if earlier != index:
                    raise PydanticCustomError(
                        "repeated",
                        "'{value}' is listed twice (also item {earlier})",
                        {"value": spelling, "earlier": earlier, "item": index},
                    )
        return names


class FeedList(_Section):
    """The whole file: content settings and the feeds, in file order."""

    settings: ContentSettings = Field(
        default=ContentSettings(),
        description="Content settings: the languages offered, the models, the trends watchlist.",
    )
    feeds: tuple[FeedEntry, ...] = Field(
        default=(), description="The feeds, in file order; commands append new ones at the end."
    )

    @field_validator("feeds", mode="before")
    @classmethod
    def _empty_key_is_no_feeds(cls, feeds: object) -> object:
        return () if feeds is None else feeds

    @field_validator("feeds")
    @classmethod
    def _unique_urls(cls, feeds: tuple[FeedEntry, ...]) -> tuple[FeedEntry, ...]:
        first: dict[str, int] = {}
        for index, feed in enumerate(feeds):
            earlier = first.setdefault(normalize_url(feed.url), index)
            if earlier != index:
                raise PydanticCustomError(
                    "repeated",
                    "{value} is already listed as feeds[{earlier}]",
                    {"value": feed.url, "earlier": earlier, "item": index, "key": "url"},
                )
        return feeds

    def find(self, url: str) -> FeedEntry | None:
        """The feed whose URL equals `url` once both are normalised (see normalize_url), if any."""
        index = self._index(url)
        return None if index is None else self.feeds[index]

    def _index(self, url: str) -> int | None:
        key = normalize_url(url)
        return next((i for i, feed in enumerate(self.feeds) if normalize_url(feed.url) == key), None)


class FeedLike(Protocol):
    """What importing or exporting a feed needs: a FeedEntry or an OpmlFeed."""

    @property
    def url(self) -> str: ...

    @property
    def title(self) -> str | None: ...

    @property
    def lang(self) -> str | None: ...

    @property
    def enabled(self) -> bool: ...


@dataclass(frozen=True)
class AddResult:
    """What add_feeds did with one feed: `entry` when it was added, else `error` saying why not."""

    url: str
    entry: FeedEntry | None = None
    error: str | None = None
