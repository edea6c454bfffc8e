"""feeds.yaml edited in place: add, remove, pause and resume feeds keeping the admin's comments, under a lock, with
an atomic replace; the file on disk is never one that fails to load (bot/feedlist/schema.py validates it)."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import io
import os
import stat
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark
from ruamel.yaml.tokens import CommentToken

from bot.errors import ConfigError, DuplicateFeedError, UnknownFeedError
from bot.feedlist.load import (
    describe_error,
    error_location,
    key_path,
    missing_file,
    parse_yaml,
    read_file,
    validate_doc,
    yaml_io,
)
from bot.feedlist.schema import AddResult, FeedEntry, FeedLike, FeedList, check_feed_url, normalize_url

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
    doc = parse_yaml(read_file(Path(path), name), name, yaml_io())
    _refuse_listed(doc, validate_doc(doc, name), url.strip(), name)


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
        problems = "; ".join(
            f"{key_path(error_location(err))}: {describe_error(err, error_location(err))}" for err in e.errors()
        )
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
        yaml = yaml_io()
        text = read_file(target, name)
        doc = parse_yaml(text, name, yaml)
        current = validate_doc(doc, name)  # a file with a mistake is the admin's to fix: never rewrite it
        result = change(doc, current)
        out = io.StringIO()
        yaml.dump(doc, out)
        edited = out.getvalue()
        # Validate the very text that will be written, so the file on disk is never one that fails to load.
        validate_doc(parse_yaml(edited, f"{name} (after the edit)", yaml), f"{name} (after the edit)")
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
        raise missing_file(name) from e
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
