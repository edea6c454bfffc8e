"""feeds.yaml: validate it and edit it in place keeping its comments; never write an invalid file, never fetch a URL."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import io
import os
import stat
import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Protocol, TypeVar, get_args, get_origin
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
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark, MarkedYAMLError, YAMLError
from ruamel.yaml.tokens import CommentToken

from bot.errors import ConfigError, DuplicateFeedError, UnknownFeedError
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

# Admin-facing wording for pydantic's error types; the others keep pydantic's message.
_MESSAGES = {
    "missing": "this key is required",
    "model_type": "must be a mapping of keys (like `url: https://…`)",
    "dict_type": "must be a mapping of keys",
    "tuple_type": "must be a list",
    "bool_type": "must be true or false",
    "int_type": "must be a whole number",
    "string_type": "must be text",
}


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

    url: StrictStr
    title: Title | None = None
    lang: LangCode | None = None
    interval: StrictInt | None = None
    enabled: StrictBool = True

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

    summarizer: ModelRef | None = None
    translation: ModelRef | None = None  # a pattern: {src} and {tgt} become language codes
    translation_overrides: dict[LanguagePair, ModelRef] = Field(default_factory=dict)  # "it-en" -> model
    # A multi-target model's target-language token, per pair: "en-pt" -> ">>pob<<" (Brazilian Portuguese).
    translation_tokens: dict[LanguagePair, TargetToken] = Field(default_factory=dict)
    translation_fallback: ModelRef | None = None  # any language -> English, when no pair model fits

    @field_validator("translation")
    @classmethod
    def _valid_pattern(cls, pattern: str | None) -> str | None:
        if pattern is not None and not ("{src}" in pattern and "{tgt}" in pattern):
            raise ValueError("must contain {src} and {tgt}, like Helsinki-NLP/opus-mt-{src}-{tgt}")
        return pattern


class WatchName(_Section):
    """One item of `watchlist:`: a name, or `{name: ..., aliases: [...]}` for the other ways stories write it."""

    name: EntityName
    aliases: tuple[EntityName, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _plain_name(cls, value: object) -> object:
        return {"name": value} if isinstance(value, str) else value

    def spellings(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


class ContentSettings(_Section):
    """`settings:`: what the bot offers, independent of where it runs."""

    languages: tuple[LangCode, ...] = DEFAULT_LANGUAGES
    models: ModelSettings = ModelSettings()
    watchlist: tuple[WatchName, ...] = ()

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

    settings: ContentSettings = ContentSettings()
    feeds: tuple[FeedEntry, ...] = ()

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


# --- loading and error reporting -------------------------------------------------------------------------------------


def load_feed_list(path: str | os.PathLike[str]) -> FeedList:
    """Read and validate the feed list; any problem is a ConfigError naming the file, the line and the key."""
    name = str(path)
    return _validate(_parse(_read(Path(path), name), name, _yaml()), name)


def _yaml() -> YAML:
    # Round-trip mode keeps comments, key order, quoting and line numbers. A fresh instance per call: not thread-safe.
    yaml = YAML()
    yaml.indent(mapping=2, sequence=4, offset=2)  # the layout of the shipped feeds.yaml
    yaml.width = 4096  # never fold a long URL or title onto two lines
    yaml.preserve_quotes = True
    return yaml


def _missing(name: str) -> ConfigError:
    return ConfigError(
        f"the feed list {name} does not exist: create it (start from feeds.yaml in the newsbot sources) "
        f"or point {FEEDS_ENV} at it"
    )


def _read(path: Path, name: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as e:
        raise _missing(name) from e
    except UnicodeDecodeError as e:
        raise ConfigError(f"{name}: not UTF-8 text ({e.reason} at byte {e.start})") from e
    except OSError as e:
        raise ConfigError(f"cannot read {name}: {e.strerror or e}") from e


def _parse(text: str, name: str, yaml: YAML) -> CommentedMap:
    try:
        doc = yaml.load(text)
    except MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f", line {mark.line + 1}" if mark is not None else ""
        detail = "; ".join(part for part in (e.context, e.problem) if part)
        raise ConfigError(f"{name}{where}: not valid YAML: {detail}") from e
    except YAMLError as e:
        raise ConfigError(f"{name}: not valid YAML: {e}") from e
    if not isinstance(doc, CommentedMap):
        found = "nothing" if doc is None else f"a {type(doc).__name__}"
        raise ConfigError(f"{name}, line 1: expected a mapping with the keys settings: and feeds:, found {found}")
    return doc


def _validate(doc: CommentedMap, name: str) -> FeedList:
    try:
        return FeedList.model_validate(doc)
    except ValidationError as e:
        problems = []
        for error in e.errors(include_url=False):
            loc = _location(error)
            problems.append(f"{name}, line {_line(doc, loc)}, {_key_path(loc)}: {_describe(error, loc)}")
        raise ConfigError("\n".join(problems)) from e


def _location(error: ErrorDetails) -> tuple[str | int, ...]:
    # "[key]" marks an error about a mapping's key rather than its value; the key is already in the path.
    loc = tuple(part for part in error["loc"] if part != "[key]")
    ctx = error.get("ctx", {})
    if "item" in ctx:  # a list-level check pointing at one of its items
        loc += (ctx["item"],)
        if "key" in ctx:
            loc += (ctx["key"],)
    return loc


def _line(doc: Any, loc: Sequence[str | int]) -> int:
    """1-based line of the deepest node along `loc` that the document has (a missing key: its parent's line)."""
    line = 0
    node = doc
    for part in loc:
        if isinstance(node, CommentedMap) and part in node:
            line = node.lc.key(part)[0]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
            line = node.lc.item(part)[0]
        else:
            break
        node = node[part]
    return line + 1


def _key_path(loc: Sequence[str | int]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "(top level)"


def _describe(error: ErrorDetails, loc: Sequence[str | int]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        return f"unknown key (allowed here: {', '.join(allowed)})" if allowed else "unknown key"
    if kind == "value_error":
        return str(error.get("ctx", {}).get("error", error["msg"]))
    message = _MESSAGES.get(kind, error["msg"])
    value = error.get("input")
    if kind in _MESSAGES and isinstance(value, str | int | float | bool):
        message += f" (got {value!r})"
    return message


def _allowed_keys(loc: Sequence[str | int]) -> list[str]:
    """The keys the schema accepts at `loc`, found by walking the models along it."""
    model: type[BaseModel] | None = FeedList
    for part in loc:
        if model is None:
            break
        if isinstance(part, str):
            field = model.model_fields.get(part)
            model = _model_in(field.annotation) if field is not None else None
    return list(model.model_fields) if model is not None else []


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if get_origin(annotation) is None and isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return next((m for m in map(_model_in, get_args(annotation)) if m is not None), None)


# --- editing ---------------------------------------------------------------------------------------------------------

_T = TypeVar("_T")


def add_feed(
    path: str | os.PathLike[str],
    url: str,
    title: str | None = None,
    lang: str | None = None,
    interval: int | None = None,
    *,
    enabled: bool = True,
    allow_file: bool = False,
) -> FeedEntry:
    """Append a feed and return it; DuplicateFeedError when its URL is listed already, ConfigError if invalid."""
    entry = _new_entry(url, title, lang, interval, enabled, allow_file=allow_file)
    name = str(path)

    def change(doc: CommentedMap, current: FeedList) -> FeedEntry:
        _refuse_listed(doc, current, entry.url, name)
        _append_item(_feeds_of(doc), _item(entry))
        return entry

    return _edit(path, change)


def ensure_not_listed(path: str | os.PathLike[str], url: str) -> None:
    """Raise DuplicateFeedError when `url` (compared normalised) is listed: a caller can refuse before fetching it."""
    name = str(path)
    doc = _parse(_read(Path(path), name), name, _yaml())
    _refuse_listed(doc, _validate(doc, name), url.strip(), name)


def add_feeds(path: str | os.PathLike[str], feeds: Iterable[FeedLike], *, allow_file: bool = False) -> list[AddResult]:
    """Append many feeds in one edit (an OPML import): an invalid or already-listed feed skips only itself.

    Returns one result per feed, in order. Intervals are not imported: new feeds poll at the default.
    """
    candidates = list(feeds)

    def change(doc: CommentedMap, current: FeedList) -> list[AddResult]:
        listed = {normalize_url(feed.url): feed.url for feed in current.feeds}
        results = []
        for feed in candidates:
            try:
                entry = _new_entry(feed.url, feed.title, feed.lang, None, feed.enabled, allow_file=allow_file)
            except ConfigError as e:
                results.append(AddResult(feed.url, error=str(e)))
                continue
            key = normalize_url(entry.url)
            if key in listed:
                results.append(AddResult(feed.url, error=f"already in the feed list as {listed[key]}"))
                continue
            listed[key] = entry.url
            _append_item(_feeds_of(doc), _item(entry))
            results.append(AddResult(entry.url, entry=entry))
        return results

    return _edit(path, change)


def remove_feed(path: str | os.PathLike[str], url: str) -> FeedEntry:
    """Remove the feed with this URL (compared normalised) and return it; UnknownFeedError when there is none."""
    name = str(path)

    def change(doc: CommentedMap, current: FeedList) -> FeedEntry:
        index = _index_or_fail(current, url, name)
        feeds = doc["feeds"]
        # Comment lines after the removed item introduce what follows it (a section heading): keep them.
        lines = _take_trailing_comment(feeds[index])
        del feeds[index]
        if index > 0:
            _give_trailing_comment(feeds[index - 1], lines)
        elif feeds:
            _give_leading_comment(feeds, lines)
        else:
            _give_comment_after(doc, "feeds", lines)
        return current.feeds[index]

    return _edit(path, change)


def set_enabled(path: str | os.PathLike[str], url: str, enabled: bool) -> FeedEntry:
    """Pause (False) or resume (True) the feed with this URL and return it; UnknownFeedError when there is none."""
    name = str(path)

    def change(doc: CommentedMap, current: FeedList) -> FeedEntry:
        index = _index_or_fail(current, url, name)
        item = doc["feeds"][index]
        if "enabled" in item:
            item["enabled"] = enabled
        elif not enabled:  # absent means enabled: only pausing needs the key
            _set_last_key(item, "enabled", False)
        return current.feeds[index].model_copy(update={"enabled": enabled})

    return _edit(path, change)


def _new_entry(
    url: str, title: str | None, lang: str | None, interval: int | None, enabled: bool, *, allow_file: bool
) -> FeedEntry:
    try:
        check_feed_url(url, allow_file=allow_file)
        given = {"url": url, "title": title, "lang": lang, "interval": interval, "enabled": enabled}
        return FeedEntry.model_validate({key: value for key, value in given.items() if value is not None})
    except ValidationError as e:
        problems = "; ".join(f"{_key_path(_location(err))}: {_describe(err, _location(err))}" for err in e.errors())
        raise ConfigError(f"cannot add {url}: {problems}") from e
    except ValueError as e:
        raise ConfigError(f"cannot add {url}: {e}") from e


def _refuse_listed(doc: CommentedMap, current: FeedList, url: str, name: str) -> None:
    index = current._index(url)
    if index is not None:
        line = doc["feeds"].lc.item(index)[0] + 1
        raise DuplicateFeedError(f"{url} is already in {name} (line {line}, as {current.feeds[index].url})")


def _index_or_fail(current: FeedList, url: str, name: str) -> int:
    index = current._index(url)
    if index is None:
        raise UnknownFeedError(f"no feed with the URL {url} in {name}")
    return index


def _item(entry: FeedEntry) -> CommentedMap:
    # Defaults are left out so the new item reads like the hand-written ones.
    return CommentedMap(entry.model_dump(exclude_defaults=True))


def _feeds_of(doc: CommentedMap) -> CommentedSeq:
    feeds = doc.get("feeds")
    if feeds is None:
        feeds = doc["feeds"] = CommentedSeq()
    feeds.fa.set_block_style()  # `feeds: []` would otherwise grow as one long flow-style line
    return feeds


def _edit(path: str | os.PathLike[str], change: Callable[[CommentedMap, FeedList], _T]) -> _T:
    """Under a lock: load, check the file as it is, apply `change`, check the result, replace the file atomically."""
    name = str(path)
    target = Path(path).resolve()  # through a symlink: replace the file it points to, not the link
    with _locked(target, name):
        yaml = _yaml()
        text = _read(target, name)
        doc = _parse(text, name, yaml)
        current = _validate(doc, name)  # a file with a mistake is the admin's to fix: never rewrite it
        result = change(doc, current)
        out = io.StringIO()
        yaml.dump(doc, out)
        edited = out.getvalue()
        # Validate the very text that will be written, so the file on disk is never one that fails to load.
        _validate(_parse(edited, f"{name} (after the edit)", yaml), f"{name} (after the edit)")
        if edited != text:
            _write_atomic(target, edited, name)
    return result


@contextlib.contextmanager
def _locked(target: Path, name: str) -> Iterator[None]:
    # Edits replace the file (a new inode), so they lock a sibling that is never replaced; reads need no lock.
    lock = target.with_name(f".{target.name}.lock")
    try:
        fd = os.open(lock, os.O_RDONLY | os.O_CREAT, 0o644)
    except FileNotFoundError as e:
        raise _missing(name) from e
    except OSError as e:
        raise ConfigError(f"cannot lock {name} ({lock}): {e.strerror or e}") from e
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _write_atomic(target: Path, text: str, name: str) -> None:
    """Replace `target` by `text` so a reader (or a crash) sees the old file or the new one, never a part of one."""
    tmp: str | None = None
    try:
        before = target.stat()
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fchmod(f.fileno(), stat.S_IMODE(before.st_mode))
            with contextlib.suppress(PermissionError):
                # An edit run as root must not hand the admin's file over to root.
                os.fchown(f.fileno(), before.st_uid, before.st_gid)
            os.fsync(f.fileno())
        os.replace(tmp, target)
        tmp = None
        directory = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(directory)  # make the rename itself durable
        finally:
            os.close(directory)
    except OSError as e:
        # Docker's single-file bind mounts refuse a rename over them; say what to do instead.
        hint = "; mount the directory that holds it, not the file alone" if e.errno == errno.EBUSY else ""
        raise ConfigError(f"cannot write {name}: {e.strerror or e}{hint}") from e
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


# --- keeping comments in place ----------------------------------------------------------------------------------------
# ruamel attaches the comment lines between two items to the last value before them. Whoever edits next to such lines
# moves them, or a section heading would end up inside the wrong feed or vanish with a removed one.


def _take_trailing_comment(mapping: CommentedMap) -> str:
    """Detach the whole comment lines after `mapping`'s last value (keeping its end-of-line comment) and return them."""
    if not mapping:
        return ""
    slot = mapping.ca.items.get(next(reversed(mapping)))
    token = slot[2] if slot and len(slot) > 2 else None
    if token is None:
        return ""
    eol, newline, lines = token.value.partition("\n")
    if not lines:
        return ""
    if eol:
        token.value = eol + newline
    else:
        slot[2] = None
    return str(lines)


def _give_trailing_comment(mapping: CommentedMap, lines: str) -> None:
    """Attach comment `lines` after the last value of `mapping`."""
    if not lines:
        return
    slot = mapping.ca.items.setdefault(next(reversed(mapping)), [None, None, None, None])
    if slot[2] is None:
        slot[2] = CommentToken("\n" + lines, CommentMark(0))
    else:
        slot[2].value += lines


def _give_leading_comment(seq: CommentedSeq, lines: str) -> None:
    """Put comment `lines` before the first item of `seq`."""
    if not lines:
        return
    token = CommentToken(lines, CommentMark(0))
    if seq.ca.comment is None:
        seq.ca.comment = [None, [token]]
    elif seq.ca.comment[1] is None:
        seq.ca.comment[1] = [token]
    else:
        seq.ca.comment[1].append(token)


def _give_comment_after(doc: CommentedMap, key: str, lines: str) -> None:
    """Put comment `lines` after `key`'s value, an empty list: before the next key, or at the end of the document."""
    if not lines:
        return
    token = CommentToken(lines, CommentMark(0))
    keys = list(doc)
    later = keys[keys.index(key) + 1 :]
    if later:
        slot = doc.ca.items.setdefault(later[0], [None, None, None, None])
        slot[1] = [token, *(slot[1] or [])]
    else:
        if doc.ca.comment is None:
            doc.ca.comment = [None, None]  # ruamel emits `end` only when this is set
        doc.ca.end = [token, *(doc.ca.end or [])]


def _append_item(seq: CommentedSeq, item: CommentedMap) -> None:
    if seq:
        _give_trailing_comment(item, _take_trailing_comment(seq[-1]))
    seq.append(item)


def _set_last_key(mapping: CommentedMap, key: str, value: Any) -> None:
    lines = _take_trailing_comment(mapping)
    mapping[key] = value
    _give_trailing_comment(mapping, lines)
