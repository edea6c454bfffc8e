"""The CLI as an admin uses it: SSRF refusals on `feeds add`, feed list edits and their layout on a terminal, OPML,
poll report, stories JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner, Result

from bot.cli import app
from bot.errors import UnsafeURLError
from bot.feeds.fetch import HttpFetcher
from bot.service import make_service
from tests.httpserver import PUBLIC_IP, FeedServer, Route, public_ip_served_by, redirect, resolver_for
from tests.test_service import make_settings

ROOT = Path(__file__).resolve().parents[1]
RSS = (
    b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Local AI News</title>'
    b"<link>https://ai.example/</link><item><title>Anthropic revoca l'accesso API a OpenAI</title>"
    b"<link>https://ai.example/a?utm_source=rss</link><guid>a-1</guid>"
    b"<description>" + b"Una notizia lunga. " * 40 + b"</description></item></channel></rss>"
)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.delenv("NEWSBOT_ALLOW_PRIVATE_URLS", raising=False)
    (tmp_path / "feeds.yaml").write_text("# my feeds\nfeeds: []\n", encoding="utf-8")
    return {
        "NEWSBOT_FEEDS": str(tmp_path / "feeds.yaml"),
        "NEWSBOT_DB": str(tmp_path / "newsbot.db"),
        "NEWSBOT_EXTRACT_ARTICLES": "0",
        "NEWSBOT_FETCH_TIMEOUT": "5",
    }


def newsbot(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(app, list(args), env=env)


def failed_cleanly(result: Result) -> bool:
    """Exit code 1 through typer.Exit (a one-line message), not an exception escaping with a traceback."""
    return result.exit_code == 1 and type(result.exception) is SystemExit


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "[::1]:{port}", "0x7f000001:{port}"])
def test_add_refuses_private_addresses_without_sending_a_request(
    env: dict[str, str], feed_server: FeedServer, host: str
) -> None:
    feed_server.routes["/feed"] = Route(body=RSS)
    before = Path(env["NEWSBOT_FEEDS"]).read_text()

    result = newsbot(env, "feeds", "add", f"http://{host.format(port=feed_server.port)}/feed")

    assert failed_cleanly(result)
    assert "NEWSBOT_ALLOW_PRIVATE_URLS" in result.output
    assert feed_server.requests() == []
    assert Path(env["NEWSBOT_FEEDS"]).read_text() == before


def test_add_refuses_cloud_metadata_address(env: dict[str, str]) -> None:
    result = newsbot(env, "feeds", "add", "http://169.254.169.254/latest/meta-data/")
    assert result.exit_code == 1 and "NEWSBOT_ALLOW_PRIVATE_URLS" in result.output


async def test_add_refuses_public_url_redirecting_to_private(tmp_path: Path, feed_server: FeedServer) -> None:
    (tmp_path / "feeds.yaml").write_text("feeds: []\n")
    feed_server.routes["/start"] = redirect(feed_server.url("/feed"))
    feed_server.routes["/feed"] = Route(body=RSS)
    fetcher = HttpFetcher(
        allow_private=False,
        resolver=resolver_for({"news.example": [PUBLIC_IP]}),
        connect_to=public_ip_served_by(feed_server.port),
    )
    service = make_service(make_settings(tmp_path, allow_private_urls=False), fetcher=fetcher)
    try:
        with pytest.raises(UnsafeURLError, match="NEWSBOT_ALLOW_PRIVATE_URLS"):
            await service.feeds.add("http://news.example/start")
    finally:
        await service.aclose()
    assert [r.path for r in feed_server.requests()] == ["/start"]
    assert yaml.safe_load((tmp_path / "feeds.yaml").read_text()) == {"feeds": []}


def test_add_with_private_allowed_then_edit_the_list(env: dict[str, str], feed_server: FeedServer) -> None:
    env["NEWSBOT_ALLOW_PRIVATE_URLS"] = "1"
    feed_server.routes["/feed"] = Route(body=RSS)
    url = feed_server.url("/feed")

    added = newsbot(env, "feeds", "add", url, "--lang", "it")
    assert added.exit_code == 0, added.output
    assert "added feed 1: Local AI News" in added.output
    text = Path(env["NEWSBOT_FEEDS"]).read_text()
    assert text.startswith("# my feeds") and url in text

    again = newsbot(env, "feeds", "add", url)
    assert again.exit_code == 1 and "already" in again.output

    listed = json.loads(newsbot(env, "feeds", "list", "--json").stdout)
    [feed] = listed
    for key in ("id", "url", "title", "enabled", "status", "error_count", "last_error", "last_ok_at", "next_fetch_at"):
        assert key in feed
    assert (feed["id"], feed["url"], feed["status"], feed["lang"]) == (1, url, "new", "it")

    assert newsbot(env, "feeds", "disable", "1").exit_code == 0
    assert json.loads(newsbot(env, "feeds", "list", "--json").stdout)[0]["status"] == "paused"
    assert yaml.safe_load(Path(env["NEWSBOT_FEEDS"]).read_text())["feeds"][0]["enabled"] is False
    assert newsbot(env, "feeds", "enable", "1").exit_code == 0
    assert json.loads(newsbot(env, "feeds", "list", "--json").stdout)[0]["enabled"] is True

    unknown = newsbot(env, "feeds", "remove", "99")
    assert unknown.exit_code == 1 and "no feed with id or URL '99'" in unknown.output
    assert newsbot(env, "feeds", "remove", url.replace("http://", "HTTP://") + "#top").exit_code == 0
    assert json.loads(newsbot(env, "feeds", "list", "--json").stdout) == []


def test_feeds_list_on_80_and_120_columns_shows_every_feed_and_every_url_whole(
    env: dict[str, str], feed_server: FeedServer
) -> None:
    env["NEWSBOT_ALLOW_PRIVATE_URLS"] = "1"
    deep = "/feeds/technology/artificial-intelligence/machine-learning/latest-news-and-analysis"
    feed_server.routes[f"{deep}/quiet.xml"] = Route(body=RSS.split(b"<item>")[0] + b"</channel></rss>")
    feed_server.routes[f"{deep}/down.xml"] = Route(status=503)
    feed_server.routes[f"{deep}/gone.xml"] = Route(status=404)
    urls = [feed_server.url(f"{deep}/{name}.xml?format=rss&lang=en") for name in ("quiet", "down", "gone", "never")]
    feeds = [{"url": url, "title": f"A long feed title that says a lot about {url[-25:]}"} for url in urls]
    Path(env["NEWSBOT_FEEDS"]).write_text(yaml.safe_dump({"feeds": feeds[:3]}))
    assert newsbot(env, "poll", "--once").exit_code == 0
    assert newsbot(env, "feeds", "disable", urls[2]).exit_code == 0
    assert newsbot(env, "poll", "--once").exit_code == 0
    listed = yaml.safe_load(Path(env["NEWSBOT_FEEDS"]).read_text())
    Path(env["NEWSBOT_FEEDS"]).write_text(yaml.safe_dump({**listed, "feeds": [*listed["feeds"], feeds[3]]}))
    state = json.loads(newsbot(env, "feeds", "list", "--json").stdout)
    # ok, error (2 failures), paused (1 failure before the pause), new: every URL longer than 120 columns
    assert [(f["status"], f["error_count"]) for f in state] == [("ok", 0), ("error", 2), ("paused", 1), ("new", 0)]
    assert all(len(url) > 120 for url in urls)

    def feeds_list(columns: int) -> list[str]:
        outside = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_") and k != "COLUMNS"}
        command = [sys.executable, "-m", "bot", "feeds", "list"]
        run = subprocess.run(command, cwd=ROOT, env={**outside, **env, "COLUMNS": str(columns)},
                             capture_output=True, text=True, timeout=60, check=True)  # fmt: skip
        return run.stdout.splitlines()

    for columns in (80, 120):
        lines = feeds_list(columns)
        for feed in state:
            assert any(
                line.startswith(f"#{feed['id']}  {feed['status']}  errors: {feed['error_count']}") for line in lines
            ), lines
            assert f"    {feed['url']}" in lines, lines  # whole, on a line of its own
        assert any(line.startswith("    last error: HTTP 503") for line in lines), lines
    wide = feeds_list(400)  # the table stays where it fits
    assert [cell.strip() for cell in wide[1].split("┃")[1:-1]] == [
        "id", "title", "url", "status", "errors", "last ok", "next fetch", "last error", "problems"
    ]  # fmt: skip
    assert all(any(f"│ {feed['url']} " in line for line in wide) for feed in state), wide


def test_add_refuses_bad_schemes_and_non_feeds(env: dict[str, str], feed_server: FeedServer) -> None:
    env["NEWSBOT_ALLOW_PRIVATE_URLS"] = "1"
    feed_server.routes["/page"] = Route(body=b"<html><body><p>hello</p></body></html>", content_type="text/html")
    for bad in ("ftp://example.com/feed", "javascript:alert(1)", feed_server.url("/page")):
        result = newsbot(env, "feeds", "add", bad)
        assert failed_cleanly(result), bad
        assert "error:" in result.output
    assert yaml.safe_load(Path(env["NEWSBOT_FEEDS"]).read_text()) == {"feeds": []}


def test_opml_round_trip_of_100_feeds(env: dict[str, str], tmp_path: Path) -> None:
    outlines = "".join(
        f'<outline type="rss" text="Feed {i}" title="Feed {i}" xmlUrl="https://site{i}.example.org/feed.xml"/>'
        for i in range(100)
    )
    opml = tmp_path / "in.opml"
    opml.write_text(f'<?xml version="1.0"?><opml version="2.0"><head/><body>{outlines}</body></opml>')

    imported = newsbot(env, "feeds", "import-opml", str(opml))
    assert imported.exit_code == 0, imported.output
    assert "imported 100 feeds, skipped 0" in imported.output

    exported = tmp_path / "out.opml"
    assert newsbot(env, "feeds", "export-opml", "-o", str(exported)).exit_code == 0
    assert newsbot(env, "feeds", "import-opml", str(exported)).stdout.strip().endswith("imported 0 feeds, skipped 100")
    reimport = tmp_path / "again.yaml"
    reimport.write_text("feeds: []\n")
    assert newsbot({**env, "NEWSBOT_FEEDS": str(reimport)}, "feeds", "import-opml", str(exported)).exit_code == 0
    assert yaml.safe_load(reimport.read_text()) == yaml.safe_load(Path(env["NEWSBOT_FEEDS"]).read_text())
    assert len(yaml.safe_load(reimport.read_text())["feeds"]) == 100


@pytest.mark.parametrize(
    "payload",
    [
        '<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        '<opml version="2.0"><body><outline xmlUrl="https://a.example/&x;"/></body></opml>',
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + "".join(
            f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">' for i in range(1, 10)
        )
        + ']><opml version="2.0"><body><outline xmlUrl="https://a.example/&lol9;"/></body></opml>',
    ],
    ids=["external-entity", "billion-laughs"],
)
def test_hostile_opml_is_refused_and_reads_nothing(env: dict[str, str], tmp_path: Path, payload: str) -> None:
    opml = tmp_path / "evil.opml"
    opml.write_text(payload)
    before = Path(env["NEWSBOT_FEEDS"]).read_text()
    result = newsbot(env, "feeds", "import-opml", str(opml))
    assert failed_cleanly(result)
    assert "entit" in result.output.lower()
    assert Path(env["NEWSBOT_FEEDS"]).read_text() == before


def test_poll_once_then_stories(env: dict[str, str], feed_server: FeedServer) -> None:
    env["NEWSBOT_ALLOW_PRIVATE_URLS"] = "1"
    feed_server.routes["/feed"] = Route(body=RSS, etag='"1"')
    feed_server.routes["/down"] = Route(status=503, headers={"Retry-After": "120"})
    Path(env["NEWSBOT_FEEDS"]).write_text(
        yaml.safe_dump({"feeds": [{"url": feed_server.url("/feed")}, {"url": feed_server.url("/down")}]})
    )

    polled = newsbot(env, "poll", "--once")
    assert polled.exit_code == 0, polled.output  # a failing feed is reported, not fatal
    assert "2 feeds: 1 new stories, 0 updated, 1 failed" in polled.output
    assert "HTTP 503" in polled.output

    # The table: each link whole on a line of its own, for people and for scripts.
    assert "    https://ai.example/a?utm_source=rss" in newsbot(env, "stories", "list").stdout.splitlines()
    [listed] = json.loads(newsbot(env, "stories", "list", "--json").stdout)
    shown = json.loads(newsbot(env, "stories", "show", str(listed["id"]), "--json").stdout)
    for key in ("id", "url", "title", "lang", "text", "title_en", "summary_en", "sources"):
        assert key in shown
    assert shown["title"] == "Anthropic revoca l'accesso API a OpenAI"
    assert shown["text"].startswith("Una notizia lunga.")
    assert shown["sources"][0]["feed_url"] == feed_server.url("/feed")
    by_url = json.loads(newsbot(env, "stories", "show", "https://AI.example/a?utm_medium=x#c", "--json").stdout)
    assert by_url["id"] == shown["id"]
    missing = newsbot(env, "stories", "show", "12345")
    assert missing.exit_code == 1 and "no story" in missing.output
    unknown = newsbot(env, "stories", "show", str(listed["id"]), "--lang", "xx")
    assert failed_cleanly(unknown) and "'xx' is not an offered language; offered: en, it" in unknown.output
    negative = newsbot(env, "stories", "list", "--limit", "-5")
    assert negative.exit_code == 2 and "greater than or equal to 1" in negative.output  # not "no limit"

    [down] = [f for f in json.loads(newsbot(env, "feeds", "list", "--json").stdout) if f["url"].endswith("/down")]
    assert (down["status"], down["error_count"]) == ("error", 1)
    assert "HTTP 503" in down["last_error"]


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["stories", "list", "--since", "0h"], 2, "is not a duration like 30m"),
        (["stories", "list", "--since", "-5h"], 2, "is not a duration like 30m"),
        (["ask", "   "], 1, "ask needs a question"),
        (["backup", ""], 1, "name the directory to write the backup into"),
        (["models", "download", "--lang", "xx"], 1, "'xx': not among the languages in feeds.yaml"),
        (["digest", "--lang", "xx"], 1, "'xx' is not one of the languages in feeds.yaml"),
        (["trends", "--days", "0"], 2, "greater than or equal to 1"),
        (["feeds", "add", "notaurl"], 1, "must start with http:// or https://"),
        (["stories", "list"], 0, "no stories stored yet: run `newsbot poll --once`"),
        (["feeds", "list"], 0, "no feeds in the feed list yet: add one with `newsbot feeds add URL`"),
    ],
)
def test_careless_input_gets_one_clear_sentence(env: dict[str, str], args: list[str], code: int, says: str) -> None:
    result = newsbot(env, *args)
    assert result.exit_code == code, result.output
    assert says in " ".join(result.output.split()) and "Traceback" not in result.output
    assert code != 1 or failed_cleanly(result)


def test_export_opml_to_a_path_that_cannot_be_written_is_one_clear_error(env: dict[str, str]) -> None:
    result = newsbot(env, "feeds", "export-opml", "-o", "/nonexistent/x.opml")
    assert failed_cleanly(result) and "cannot write '/nonexistent/x.opml': No such file or directory" in result.output


def test_bad_feed_list_is_a_clear_error(env: dict[str, str]) -> None:
    Path(env["NEWSBOT_FEEDS"]).write_text("feeds:\n  - url: https://ok.example/feed\n    intervall: 5\n")
    result = newsbot(env, "feeds", "list")
    assert failed_cleanly(result)
    assert "line 3" in result.output and "intervall" in result.output


def test_markup_in_feed_data_is_printed_as_text(env: dict[str, str], feed_server: FeedServer) -> None:
    env["NEWSBOT_ALLOW_PRIVATE_URLS"] = "1"
    feed_server.routes["/feed"] = Route(
        body=RSS.replace(b"Local AI News", b"[/b] News [video]").replace(
            b"Anthropic revoca", b"[bold]Anthropic[/x] revoca"
        )
    )
    Path(env["NEWSBOT_FEEDS"]).write_text(yaml.safe_dump({"feeds": [{"url": feed_server.url("/feed")}]}))

    polled = newsbot(env, "poll", "--once")
    assert polled.exit_code == 0, polled.output
    assert "[/b] News [video]" in polled.output
    listed = newsbot(env, "stories", "list")
    assert listed.exit_code == 0 and "[bold]Anthropic[/x]" in listed.output
    shown = newsbot(env, "stories", "show", "1")
    assert shown.exit_code == 0 and "[bold]Anthropic[/x] revoca" in shown.output
    removed = newsbot(env, "feeds", "remove", "[/x]")
    assert failed_cleanly(removed) and "'[/x]'" in removed.output


def test_opml_cannot_plant_local_files(env: dict[str, str], tmp_path: Path) -> None:
    opml = tmp_path / "shared.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="2.0"><body>'
        '<outline xmlUrl="file:///home/user/secrets.xml"/><outline xmlUrl="http://127.0.0.1/feed"/>'
        '<outline xmlUrl="https://ok.example/feed"/></body></opml>'
    )
    result = newsbot(env, "feeds", "import-opml", str(opml))
    assert result.exit_code == 0, result.output
    assert "imported 1 feeds, skipped 2" in result.output
    assert [f["url"] for f in yaml.safe_load(Path(env["NEWSBOT_FEEDS"]).read_text())["feeds"]] == [
        "https://ok.example/feed"
    ]
