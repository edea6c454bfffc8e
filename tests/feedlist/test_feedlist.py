"""feeds.yaml: the shipped file, validation errors that point at a line and key, and edits that keep comments."""

from __future__ import annotations

import errno
import os
import stat
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from ruamel.yaml.comments import CommentedMap

from bot.config import load_settings
from bot.errors import ConfigError, DuplicateFeedError, UnknownFeedError
from bot.feedlist import edit as feedlist_edit
from bot.feedlist.edit import add_feed, add_feeds, ensure_not_listed, remove_feed, set_enabled
from bot.feedlist.engine import engine_config
from bot.feedlist.load import load_feed_list
from bot.feedlist.opml import OpmlFeed
from bot.feedlist.schema import FeedEntry, normalize_url
from summarizer.types import EngineConfig
from tests.corpora import ROOT

SHIPPED = ROOT / "feeds.yaml"

SMALL = """\
# the admin's notes
settings:
  languages: [en, it]  # what /lang offers
feeds:
  # --- first section ---
  - url: https://a.example/feed
    title: A  # keep me
  - url: https://b.example/feed
    title: B

  # --- second section ---
  - url: https://c.example/feed
    lang: it
"""


@pytest.fixture
def small(tmp_path: Path) -> Path:
    path = tmp_path / "feeds.yaml"
    path.write_text(SMALL)
    return path


def urls(path: Path) -> list[str]:
    return [feed.url for feed in load_feed_list(path).feeds]


# --- the shipped file ------------------------------------------------------------------------------------------------


def test_shipped_feed_list_validates_and_covers_the_main_languages() -> None:
    feed_list = load_feed_list(SHIPPED)

    enabled = [feed for feed in feed_list.feeds if feed.enabled]
    assert 20 <= len(enabled) <= 35
    assert {"en", "it", "de", "fr", "es"} <= {feed.lang for feed in enabled}
    assert all(feed.url.startswith("https://") and feed.title for feed in feed_list.feeds)
    assert feed_list.settings.languages == ("en", "it", "de", "fr", "es", "pt", "ru", "ja", "zh")
    assert {"OpenAI", "Anthropic", "Google DeepMind", "Nvidia"} <= {w.name for w in feed_list.settings.watchlist}


def test_shipped_file_is_in_the_layout_edits_write(tmp_path: Path) -> None:
    """A command's edit changes only the lines it must: the writer's layout is the shipped file's layout."""
    path = tmp_path / "feeds.yaml"
    original = SHIPPED.read_text()
    path.write_text(original)

    add_feed(path, "https://new.example/feed", "New", "en")

    assert path.read_text() == original + "  - url: https://new.example/feed\n    title: New\n    lang: en\n"


# --- validation errors name the file, the line and the key -----------------------------------------------------------

BAD_FILES = [
    pytest.param(
        "feeds:\n  - url: https://a.example/\n    intervall: 60\n",
        3,
        "feeds[0].intervall",
        "unknown key",
        id="unknown-key",
    ),
    pytest.param(
        "feeds:\n  - url: https://a.example/\n    interval: -5\n",
        3,
        "feeds[0].interval",
        "between 10",
        id="negative-interval",
    ),
    pytest.param(
        "feeds:\n  - url: https://a.example/\n    interval: soon\n",
        3,
        "feeds[0].interval",
        "whole number",
        id="wrong-type",
    ),
    pytest.param(
        "feeds:\n  - url: https://a.example/\n    enabled: yes\n",
        3,
        "feeds[0].enabled",
        "true or false",
        id="yes-is-not-a-bool",
    ),
    pytest.param("feeds:\n  - url: ftp://a.example/feed\n", 2, "feeds[0].url", "http:// or https://", id="bad-scheme"),
    pytest.param("feeds:\n  - url: a.example/feed\n", 2, "feeds[0].url", "http:// or https://", id="no-scheme"),
    pytest.param("feeds:\n  - title: no url\n", 2, "feeds[0].url", "required", id="missing-url"),
    pytest.param("feeds:\n  - https://a.example/feed\n", 2, "feeds[0]", "mapping", id="bare-url-item"),
    pytest.param(
        "feeds:\n  - url: https://a.example/feed\n  - url: HTTPS://A.example:443/feed#top\n",
        3,
        "feeds[1].url",
        "already listed as feeds[0]",
        id="duplicate-url",
    ),
    pytest.param("feeds:\n  - url: https://a.example/\n    lang: jp\n", 3, "feeds[0].lang", "ISO 639-1", id="bad-lang"),
    pytest.param(
        "settings:\n  languages: [en, it, cn]\nfeeds: []\n",
        2,
        "settings.languages[2]",
        "ISO 639-1",
        id="bad-offered-lang",
    ),
    pytest.param(
        "settings:\n  languages:\n    - it\n    - de\n", 2, "settings.languages", "must include 'en'", id="no-pivot"
    ),
    pytest.param(
        "settings:\n  languages:\n    - en\n    - it\n    - it\n",
        5,
        "settings.languages[2]",
        "listed twice",
        id="repeated-lang",
    ),
    pytest.param(
        "settings:\n  watchlist:\n    - OpenAI\n    - openai\n",
        4,
        "settings.watchlist[1]",
        "listed twice",
        id="repeated-name",
    ),
    pytest.param(
        "settings:\n  watchlist:\n    - name: Google DeepMind\n      aliases: [DeepMind]\n    - deepmind\n",
        5,
        "settings.watchlist[1]",
        "'deepmind' is listed twice (also item 0)",
        id="alias-repeated-as-name",
    ),
    pytest.param(
        "settings:\n  watchlist:\n    - name: Google DeepMind\n      alias: [DeepMind]\n",
        4,
        "settings.watchlist[0].alias",
        "allowed here: name, aliases",
        id="typo-in-alias-key",
    ),
    pytest.param(
        "settings:\n  model:\n    summarizer: x\n",
        2,
        "settings.model",
        "allowed here: languages, models, watchlist",
        id="typo-section",
    ),
    pytest.param(
        "settings:\n  models:\n    translation_overrides:\n      it-en: a\n      it-xx: b\n",
        5,
        "settings.models.translation_overrides.it-xx",
        "language pair",
        id="bad-pair",
    ),
    pytest.param(
        "settings:\n  models:\n    translation: opus-{src}\n",
        3,
        "settings.models.translation",
        "{tgt}",
        id="bad-pattern",
    ),
    pytest.param(
        "feeds:\n  - url: https://a.example/\n    title: '  '\n", 3, "feeds[0].title", "empty", id="blank-title"
    ),
    pytest.param("feeds:\n  - url: https://a.example/\n  url: x\n", 3, "", "not valid YAML", id="yaml-syntax"),
    pytest.param(
        "feeds:\n  - {url: https://a.example/, url: https://b.example/}\n",
        2,
        "",
        "duplicate key",
        id="yaml-duplicate-key",
    ),
    pytest.param("- url: https://a.example/\n", 1, "", "expected a mapping", id="top-level-list"),
    pytest.param("", 1, "", "found nothing", id="empty-file"),
]


@pytest.mark.parametrize(("text", "line", "key", "message"), BAD_FILES)
def test_bad_file_error_names_file_line_and_key(tmp_path: Path, text: str, line: int, key: str, message: str) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(text)

    with pytest.raises(ConfigError) as caught:
        load_feed_list(path)

    error = str(caught.value)
    assert error.startswith(f"{path}, line {line}")
    if key:  # YAML syntax errors come before any key is known
        assert f", {key}: " in error
    assert message in error


def test_every_problem_is_reported_on_its_own_line(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text("feeds:\n  - url: https://a.example/\n    lang: xx\n  - url: https://b.example/\n    interval: 1\n")

    with pytest.raises(ConfigError) as caught:
        load_feed_list(path)

    lines = str(caught.value).splitlines()
    assert [line.split(":")[0] for line in lines] == [
        f"{path}, line 3, feeds[0].lang",
        f"{path}, line 5, feeds[1].interval",
    ]


def test_missing_file_names_the_path_and_the_variable(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"

    with pytest.raises(ConfigError, match="NEWSBOT_FEEDS") as caught:
        load_feed_list(path)
    assert str(path) in str(caught.value)

    with pytest.raises(ConfigError, match="NEWSBOT_FEEDS"):
        add_feed(path, "https://a.example/feed")
    assert not path.exists()


def test_empty_feeds_key_means_no_feeds(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text("settings:\n  watchlist: [OpenAI]\nfeeds:\n")

    assert load_feed_list(path).feeds == ()
    add_feed(path, "https://a.example/feed")
    assert path.read_text() == "settings:\n  watchlist: [OpenAI]\nfeeds:\n  - url: https://a.example/feed\n"


# --- URLs -------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "normal"),
    [
        ("HTTPS://Example.COM/Feed", "https://example.com/Feed"),
        ("https://example.com:443/feed", "https://example.com/feed"),
        ("http://example.com:80/feed", "http://example.com/feed"),
        ("http://example.com:8080/feed", "http://example.com:8080/feed"),
        ("https://example.com", "https://example.com/"),
        ("https://example.com/feed#latest", "https://example.com/feed"),
        ("https://example.com/feed/", "https://example.com/feed/"),  # a trailing slash stays significant
        ("https://example.com/feed?b=2&a=1", "https://example.com/feed?b=2&a=1"),
        ("https://[::1]:443/feed", "https://[::1]/feed"),
        ("  https://example.com/feed  ", "https://example.com/feed"),
    ],
)
def test_normalize_url(url: str, normal: str) -> None:
    assert normalize_url(url) == normal


# --- editing ----------------------------------------------------------------------------------------------------------


def test_add_feed_appends_and_keeps_comments(small: Path) -> None:
    entry = add_feed(small, " https://d.example/feed ", "D", "DE", 600)

    assert entry == FeedEntry(url="https://d.example/feed", title="D", lang="de", interval=600)
    assert entry.poll_interval(900) == 600
    assert load_feed_list(small).feeds[0].poll_interval(900) == 900
    assert (
        small.read_text() == SMALL + "  - url: https://d.example/feed\n    title: D\n    lang: de\n    interval: 600\n"
    )


def test_add_keeps_comment_lines_that_end_the_list_at_the_end(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text("feeds:\n  - url: https://a.example/feed\n# end of the list\n")

    add_feed(path, "https://b.example/feed", enabled=False)

    assert path.read_text() == (
        "feeds:\n  - url: https://a.example/feed\n"
        "  - url: https://b.example/feed\n    enabled: false\n"
        "# end of the list\n"
    )


@pytest.mark.parametrize(
    "url",
    ["https://a.example/feed", "HTTPS://A.EXAMPLE/feed", "https://a.example:443/feed#x", " https://a.example/feed"],
)
def test_duplicate_add_is_refused_and_changes_nothing(small: Path, url: str) -> None:
    with pytest.raises(DuplicateFeedError, match=r"already in .*line 6, as https://a.example/feed"):
        add_feed(small, url)
    assert small.read_text() == SMALL


def test_ensure_not_listed_refuses_before_any_fetch(small: Path) -> None:
    ensure_not_listed(small, "https://d.example/feed")
    with pytest.raises(DuplicateFeedError, match=r"line 8, as https://b.example/feed"):
        ensure_not_listed(small, "https://B.example/feed#x")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"url": "ftp://d.example/feed"}, "http:// or https://"),
        ({"url": "file:///srv/feed.xml"}, "command line only"),
        ({"url": "https://d.example/feed", "lang": "xx"}, "lang: 'xx' is not an ISO 639-1"),
        ({"url": "https://d.example/feed", "interval": 5}, "interval: must be between"),
        ({"url": "https://d.example/feed", "title": "two\nlines"}, "title: must be a single line"),
    ],
)
def test_invalid_add_is_refused_and_the_file_is_untouched(small: Path, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        add_feed(small, **kwargs)  # type: ignore[arg-type]
    assert small.read_text() == SMALL


def test_file_urls_are_added_only_when_allowed(small: Path) -> None:
    add_feed(small, "file:///srv/feeds/local.xml", allow_file=True)

    assert urls(small)[-1] == "file:///srv/feeds/local.xml"


def test_remove_feed_keeps_the_heading_of_the_next_section(small: Path) -> None:
    removed = remove_feed(small, "https://B.example/feed")

    assert removed.title == "B"
    assert small.read_text() == SMALL.replace("  - url: https://b.example/feed\n    title: B\n", "")


def test_remove_first_feed_keeps_the_comments_around_it(small: Path) -> None:
    remove_feed(small, "https://a.example/feed")
    remove_feed(small, "https://b.example/feed")

    assert small.read_text() == (
        "# the admin's notes\nsettings:\n  languages: [en, it]  # what /lang offers\nfeeds:\n"
        "  # --- first section ---\n\n  # --- second section ---\n  - url: https://c.example/feed\n    lang: it\n"
    )


def test_removing_the_last_feed_keeps_what_follows_the_list(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text("feeds:\n  - url: https://a.example/feed\n# later sections\nsettings:\n  languages: [en]\n")

    remove_feed(path, "https://a.example/feed")

    assert load_feed_list(path).feeds == ()
    assert "# later sections\nsettings:\n" in path.read_text()


def test_removing_the_only_feed_keeps_the_comments_after_it(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text("settings:\n  languages: [en]\nfeeds:\n  - url: https://a.example/feed\n# the end\n")

    remove_feed(path, "https://a.example/feed")

    assert path.read_text() == "settings:\n  languages: [en]\nfeeds: []\n# the end\n"


def test_remove_unknown_feed_is_a_clear_error(small: Path) -> None:
    with pytest.raises(UnknownFeedError, match=rf"no feed with the URL https://z.example/feed in {small}"):
        remove_feed(small, "https://z.example/feed")
    with pytest.raises(UnknownFeedError):
        set_enabled(small, "https://z.example/feed", False)
    assert small.read_text() == SMALL


def test_disable_and_enable_toggle_the_flag_and_keep_comments(small: Path) -> None:
    paused = set_enabled(small, "https://b.example/feed", False)

    assert not paused.enabled
    assert [feed.enabled for feed in load_feed_list(small).feeds] == [True, False, True]
    # The new key goes inside the item, above the next section's heading.
    assert "    title: B\n    enabled: false\n\n  # --- second section ---\n" in small.read_text()

    assert set_enabled(small, "https://b.example/feed", True).enabled
    assert [feed.enabled for feed in load_feed_list(small).feeds] == [True, True, True]
    assert small.read_text() == SMALL.replace("    title: B\n", "    title: B\n    enabled: true\n")


def test_disabling_the_item_with_an_end_of_line_comment_keeps_it(small: Path) -> None:
    set_enabled(small, "https://a.example/feed", False)

    assert "    title: A  # keep me\n    enabled: false\n  - url: https://b.example/feed\n" in small.read_text()


def test_an_edit_that_changes_nothing_does_not_rewrite_the_file(small: Path) -> None:
    before = small.stat().st_mtime_ns
    os.utime(small, ns=(before - 10**9, before - 10**9))

    set_enabled(small, "https://a.example/feed", True)  # absent means enabled already

    assert small.stat().st_mtime_ns == before - 10**9


def test_add_feeds_reports_each_feed(small: Path) -> None:
    results = add_feeds(
        small,
        [
            OpmlFeed("https://d.example/feed", "D", "de"),
            OpmlFeed("https://A.example/feed", "A again"),  # already listed
            OpmlFeed("gopher://e.example/"),
            OpmlFeed("https://f.example/feed", enabled=False),
            OpmlFeed("https://d.example:443/feed#dup", "D twice"),  # repeated in the import
            OpmlFeed("file:///etc/passwd"),
        ],
    )

    assert [(r.url, r.entry is not None) for r in results] == [
        ("https://d.example/feed", True),
        ("https://A.example/feed", False),
        ("gopher://e.example/", False),
        ("https://f.example/feed", True),
        ("https://d.example:443/feed#dup", False),
        ("file:///etc/passwd", False),
    ]
    assert results[1].error == "already in the feed list as https://a.example/feed"
    assert "http:// or https://" in (results[2].error or "")
    assert "command line only" in (results[5].error or "")
    assert urls(small)[-2:] == ["https://d.example/feed", "https://f.example/feed"]
    assert not load_feed_list(small).feeds[-1].enabled


# --- never a bad file on disk -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "edit",
    [
        lambda path: add_feed(path, "https://d.example/feed"),
        lambda path: remove_feed(path, "https://a.example/feed"),
        lambda path: set_enabled(path, "https://a.example/feed", False),
        lambda path: add_feeds(path, [OpmlFeed("https://d.example/feed")]),
    ],
    ids=["add", "remove", "disable", "import"],
)
def test_a_bad_file_is_never_edited(tmp_path: Path, edit: Callable[[Path], object]) -> None:
    path = tmp_path / "feeds.yaml"
    bad = "feeds:\n  - url: https://a.example/feed\n    interval: -1  # the admin's mistake\n"
    path.write_text(bad)
    before = path.stat().st_mtime_ns

    with pytest.raises(ConfigError, match=rf"{path}, line 3, feeds\[0\].interval"):
        edit(path)

    assert path.read_text() == bad
    assert path.stat().st_mtime_ns == before


def test_a_result_that_fails_validation_is_not_written(small: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Stand-in for a bug in the editing code: the safety net must still refuse to write.
    monkeypatch.setattr(feedlist_edit, "_item", lambda entry: CommentedMap(url=entry.url, colour="red"))

    with pytest.raises(ConfigError, match=r"\(after the edit\), line 15, feeds\[3\]\.colour: unknown key"):
        add_feed(small, "https://d.example/feed")

    assert small.read_text() == SMALL


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), r"cannot write .*: No space left on device$"),
        (OSError(errno.EBUSY, "Device or resource busy"), r"busy; mount the directory that holds it"),
    ],
)
def test_a_failed_write_leaves_the_original_and_no_temporary_file(
    small: Path, monkeypatch: pytest.MonkeyPatch, error: OSError, message: str
) -> None:
    def fail(src: object, dst: object) -> None:
        raise error

    monkeypatch.setattr(feedlist_edit.os, "replace", fail)

    with pytest.raises(ConfigError, match=message):
        add_feed(small, "https://d.example/feed")

    assert small.read_text() == SMALL
    assert sorted(p.name for p in small.parent.iterdir()) == sorted([small.name, f".{small.name}.lock"])


def test_an_edit_keeps_the_file_mode_and_a_symlink(tmp_path: Path, small: Path) -> None:
    small.chmod(0o640)
    link = tmp_path / "link.yaml"
    link.symlink_to(small)

    add_feed(link, "https://d.example/feed")

    assert link.is_symlink()
    assert stat.S_IMODE(small.stat().st_mode) == 0o640
    assert urls(small)[-1] == "https://d.example/feed"


def test_concurrent_edits_lose_nothing(small: Path) -> None:
    def add_many(prefix: str) -> None:
        for i in range(8):
            add_feed(small, f"https://{prefix}.example/{i}")

    threads = [threading.Thread(target=add_many, args=(name,)) for name in ("x", "y")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(urls(small)) == 3 + 16


# --- engine configuration ---------------------------------------------------------------------------------------------


def test_engine_config_takes_content_from_the_file_and_deployment_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(
        "settings:\n  languages: [en, it]\n  models:\n    summarizer: /models/sum\n"
        "    translation_overrides:\n      IT-en: /models/it-en\nfeeds: []\n"
    )
    monkeypatch.setenv("NEWSBOT_BACKEND", "extractive")
    monkeypatch.setenv("NEWSBOT_MODEL_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("NEWSBOT_QUANTIZE", "0")
    monkeypatch.setenv("NEWSBOT_TORCH_THREADS", "3")

    config = engine_config(load_feed_list(path), load_settings())

    assert config.backend == "extractive"
    assert config.model_dir == tmp_path / "models"
    assert (config.quantize, config.torch_threads) == (False, 3)
    assert config.languages == ("en", "it")
    assert config.summarizer_model == "/models/sum"
    assert config.translation_overrides == {"it-en": "/models/it-en"}
    assert config.translation_model_pattern == EngineConfig().translation_model_pattern
    assert config.fallback_to_english_model == EngineConfig().fallback_to_english_model
