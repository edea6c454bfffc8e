"""`newsbot summarize URL [--lang] [--json]`: the bot's link summary on the command line, with the same refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from bot.cli import app
from tests.httpserver import FeedServer, Route
from tests.pages import italian_article_page, read_italian_article


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "feeds.yaml").write_text("settings:\n  languages: [en, it]\nfeeds: []\n", encoding="utf-8")
    return {
        "NEWSBOT_FEEDS": str(tmp_path / "feeds.yaml"),
        "NEWSBOT_DB": str(tmp_path / "newsbot.db"),
        "NEWSBOT_BACKEND": "extractive",
        "NEWSBOT_ALLOW_PRIVATE_URLS": "1",
        "NEWSBOT_AUTO_DOWNLOAD": "0",
    }


def newsbot(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(app, list(args), env=env)


def test_a_page_summarized_as_json_and_as_text(env: dict[str, str], feed_server: FeedServer) -> None:
    feed_server.routes["/a"] = Route(body=italian_article_page(), content_type="text/html")
    url = feed_server.url("/a")
    shown = json.loads(newsbot(env, "summarize", url, "--lang", "it", "--json").stdout)
    assert shown["title"] == read_italian_article().title and shown["link"] == url
    assert (shown["lang"], shown["translated"]) == ("it", True) and shown["summary"].startswith("Anthropic")
    text = newsbot(env, "summarize", url)  # English: the extractive backend does not translate
    assert text.exit_code == 0 and "not translated, original in it" in text.stdout
    assert url in text.stdout.splitlines()
    assert len(feed_server.requests("/a")) == 1  # the second came from the cache


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("file:///etc/passwd", "I can only summarize http:// and https:// links"),
        ("{server}/missing", "That page was not found on its site"),
    ],
)
def test_a_page_that_cannot_be_summarized_is_one_clear_error(
    env: dict[str, str], feed_server: FeedServer, url: str, says: str
) -> None:
    result = newsbot(env, "summarize", url.format(server=feed_server.url("")))
    assert result.exit_code == 1 and type(result.exception) is SystemExit
    assert says in " ".join(result.output.split()) and "Traceback" not in result.output


def test_an_unknown_language_is_refused(env: dict[str, str]) -> None:
    result = newsbot(env, "summarize", "https://example.com/a", "--lang", "xx")
    assert result.exit_code == 1 and "'xx' is not one of the languages in feeds.yaml: en, it" in result.output
