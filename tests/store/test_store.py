"""The store: migrations, feed state, saving decisions idempotently, sources of one story."""

from dataclasses import replace
from datetime import datetime, timedelta

from bot.feeds.dedupe import canonical_url, decide
from bot.feeds.types import ParsedEntry, Validators
from bot.store import Store, open_store

E1 = ParsedEntry(guid="a", url="https://ex.org/a?utm_source=x", title="Alpha", text="alpha body", is_teaser=True)
E2 = ParsedEntry(guid="b", url="https://ex.org/b", title="Beta", text="beta body")


def _poll(store: Store, feed_id: int, entries: list[ParsedEntry], now: datetime, texts=None):  # type: ignore[no-untyped-def]
    known = store.known_sources(feed_id, [e.guid for e in entries])
    urls = store.known_story_urls([u for u in map(canonical_url, (e.url for e in entries)) if u])
    return store.save_entries(feed_id, decide(entries, known, urls), now, texts=texts)


def test_migrations_are_idempotent_and_wal(tmp_path, now: datetime) -> None:  # type: ignore[no-untyped-def]
    first = open_store(tmp_path / "x.db")
    first.close()
    again = open_store(tmp_path / "x.db")
    assert again.db.journal_mode == "wal"
    assert again.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    again.close()


def test_feed_sync_and_state(store: Store, now: datetime) -> None:
    store.sync_feeds(
        [("https://ex.org/feed", "Ex", "en", None, True), ("https://two.org/f", None, None, 60, False)], now
    )
    feeds = store.list_feeds()
    assert [(f.url, f.status) for f in feeds] == [("https://ex.org/feed", "new"), ("https://two.org/f", "paused")]
    feed = feeds[0]
    store.record_fetch_ok(feed.id, now, validators=Validators('"v1"', "Tue"), next_fetch_at=now + timedelta(minutes=15))
    store.record_fetch_error(feed.id, now, message="HTTP 500", error_count=1, next_fetch_at=now, disable=False)
    state = store.get_feed(feed.id)
    assert state is not None and state.status == "error" and state.last_error == "HTTP 500"
    assert state.validators == Validators('"v1"', "Tue")
    store.record_fetch_error(feed.id, now, message="HTTP 500", error_count=10, next_fetch_at=now, disable=True)
    assert store.get_feed(feed.id).status == "disabled"  # type: ignore[union-attr]
    store.reset_feed(feed.id)
    assert store.get_feed(feed.id).status == "ok"  # type: ignore[union-attr]
    assert len(store.feed_errors(feed.id)) == 2
    # Removing a feed from the file hides it; its id stays its own if it comes back.
    store.sync_feeds([("https://two.org/f", None, None, 60, False)], now)
    assert [f.url for f in store.list_feeds()] == ["https://two.org/f"]
    store.sync_feeds([("https://ex.org/feed", "Ex", "en", None, True)], now)
    assert store.get_feed("https://ex.org/feed").id == feed.id  # type: ignore[union-attr]


def test_save_is_idempotent_and_merges_sources(store: Store, now: datetime) -> None:
    store.sync_feeds(
        [("https://one.org/f", None, None, None, True), ("https://two.org/f", None, None, None, True)], now
    )
    one, two = (f.id for f in store.list_feeds())
    counts = _poll(store, one, [E1, E2], now, texts={"a": "the full alpha article"})
    assert (counts.new, counts.unchanged) == (2, 0)
    assert _poll(store, one, [E1, E2], now).unchanged == 2
    # The same article from another feed, under a tracking variant of its URL: one story, two sources.
    other = replace(E1, guid="two-a", url="https://ex.org/a?utm_medium=rss#x")
    assert _poll(store, two, [other], now).merged == 1
    assert store.count_stories() == 2
    story = store.get_story("https://ex.org/a")
    assert story is not None and story.extracted and story.text == "the full alpha article"
    assert sorted(s.feed_id for s in story.sources) == [one, two]
    # A changed headline updates the story; the extracted text survives a teaser that changed.
    later = now + timedelta(hours=1)
    counts = _poll(store, one, [replace(E1, title="Alpha (updated)", text="alpha teaser v2")], later)
    assert counts.updated == 1
    story = store.get_story(story.id)
    assert story is not None and story.title == "Alpha (updated)" and story.text == "the full alpha article"
    assert store.count_stories() == 2


def test_a_feed_whose_guids_change_on_every_poll_keeps_one_story_with_one_source(store: Store, now: datetime) -> None:
    store.sync_feeds(
        [("https://churn.org/f", None, None, None, True), ("https://two.org/f", None, None, None, True)], now
    )
    churn, two = (f.id for f in store.list_feeds())
    for poll in range(10):  # a fresh guid each time (a timestamp, a session id), the same article
        counts = _poll(store, churn, [replace(E2, guid=f"b-{poll}")], now + timedelta(minutes=poll))
        assert (counts.new, counts.merged) == ((1, 0) if poll == 0 else (0, 0))
    assert store.count_stories() == 1
    [story] = [store.get_story("https://ex.org/b")]
    assert story is not None and [(s.feed_id, s.guid) for s in story.sources] == [(churn, "b-9")]
    # A new title under yet another guid updates the story: no twin, still one source.
    counts = _poll(store, churn, [replace(E2, guid="b-10", title="Beta, corrected")], now + timedelta(hours=1))
    assert counts.updated == 1 and store.count_stories() == 1
    story = store.get_story(story.id)
    assert story is not None and story.title == "Beta, corrected" and len(story.sources) == 1
    assert [row[0] for row in store.conn.execute("SELECT title FROM stories_fts")] == ["Beta, corrected"]
    # Another feed carrying the same article is still a second source.
    assert _poll(store, two, [replace(E2, guid="two-b")], now).merged == 1
    story = store.get_story(story.id)
    assert story is not None and sorted(s.feed_id for s in story.sources) == [churn, two]


def test_url_variants_from_seven_feeds_are_one_story(store: Store, now: datetime) -> None:
    variants = [
        "https://www.example.com/news/story",
        "http://example.com/news/story",
        "https://example.com/news/story/",
        "https://example.com/news/story?utm_source=rss",
        "https://example.com/news/story#comments",
        "https://EXAMPLE.com/news/story",
        "http://www.example.com/news/story/?utm_medium=x",
    ]
    store.sync_feeds([(f"https://feed{n}.org/f", None, None, None, True) for n in range(len(variants))], now)
    for feed, url in zip(store.list_feeds(), variants, strict=True):
        _poll(store, feed.id, [ParsedEntry(guid=f"{feed.id}-s", url=url, title="The story", text="body")], now)
    assert store.count_stories() == 1
    story = store.get_story("https://example.com/news/story")
    assert story is not None and len(story.sources) == len(variants)


def test_two_processes_saving_the_same_new_entries_leave_every_story_with_a_source(store: Store, now: datetime) -> None:
    """Both decided before either saved (two `poll --once` at once): a linked entry merges, and an entry without a
    link, which no URL lookup can find, is not left as a second story without a source."""
    store.sync_feeds([("https://ex.org/feed", None, None, None, True)], now)
    [feed] = store.list_feeds()
    entries = [E2, ParsedEntry(guid="no-link", url=None, title="A note without a link", text="note body")]
    first = decide(entries, {}, {})
    second = decide(entries, {}, {})  # the other process saw the same empty store
    assert store.save_entries(feed.id, first, now).new == 2
    counts = store.save_entries(feed.id, second, now)
    assert counts.new == 0
    assert store.count_stories() == 2
    orphans = "SELECT count(*) FROM stories WHERE id NOT IN (SELECT story_id FROM story_sources)"
    assert store.conn.execute(orphans).fetchone()[0] == 0
    assert store.conn.execute("SELECT count(*) FROM stories_fts").fetchone()[0] == 2


def test_the_migration_folds_keys_stored_in_the_old_form(store: Store, now: datetime) -> None:
    from bot.store.migrations import m0014

    store.sync_feeds([("https://ex.org/feed", None, None, None, True)], now)
    [feed] = store.list_feeds()
    _poll(store, feed.id, [E2], now)
    store.conn.execute("UPDATE stories SET url = 'http://www.ex.org/b/'")  # as 0001..0013 would have kept it
    store.conn.commit()
    m0014(store.db)
    assert store.get_story("https://ex.org/b") is not None


def test_a_syndicated_copy_joins_the_story_and_a_short_lookalike_does_not(store: Store, now: datetime) -> None:
    store.sync_feeds(
        [("https://wire.org/f", None, None, None, True), ("https://paper.org/f", None, None, None, True)], now
    )
    wire, paper = (f.id for f in store.list_feeds())
    body = "The agency reported that the new model was trained on licensed data. " * 5
    _poll(store, wire, [ParsedEntry(guid="w1", url="https://wire.org/x", title="Model news", text=body)], now)
    copy = ParsedEntry(guid="p1", url="https://paper.org/y", title="Model news", text=body)
    assert _poll(store, paper, [copy], now).merged == 1
    assert store.count_stories() == 1
    short = [ParsedEntry(guid=f"s{n}", url=f"https://{host}/s", title="Podcast", text="Listen.")
             for n, host in enumerate(("wire.org", "paper.org"))]  # fmt: skip
    _poll(store, wire, short[:1], now)
    _poll(store, paper, short[1:], now)
    assert store.count_stories() == 3  # "Listen." twice is not one article


def test_two_live_entries_of_one_feed_for_one_story_do_not_trade_guids(store: Store, now: datetime) -> None:
    store.sync_feeds([("https://ex.org/feed", None, None, None, True)], now)
    [feed] = store.list_feeds()
    twins = [E2, replace(E2, guid="b-again", url="https://ex.org/b?utm_source=x")]
    _poll(store, feed.id, twins, now)
    for _ in range(3):
        counts = _poll(store, feed.id, twins, now)
        assert (counts.new, counts.merged, counts.updated) == (0, 0, 0)
    story = store.get_story("https://ex.org/b")
    assert story is not None and sorted(s.guid for s in story.sources) == ["b", "b-again"]


def test_an_enrichment_is_stored_once_per_text_and_models_and_never_for_a_gone_story(
    store: Store, now: datetime
) -> None:
    """A job done twice (its worker was thought lost and it was sent again) costs time, not a second write; other
    models' enrichment of the same text replaces it; a result for a story deleted meanwhile is dropped quietly."""
    store.sync_feeds([("https://one.org/f", None, None, None, True)], now)
    feed = store.list_feeds()[0].id
    _poll(store, feed, [E1, E2], now)
    [alpha, beta] = sorted(store.stories_to_enrich(10, now=now, fingerprint="f"), key=lambda s: s.title)
    assert [s.id for s in store.stories_to_enrich(10, now=now, fingerprint="f", besides=[beta.id])] == [alpha.id]
    fields = {"lang": "en", "lang_confidence": 0.9, "title_en": "Alpha", "text_en": "alpha body",
              "summary_en": "alpha", "translated": True, "source_hash": alpha.content_hash}  # fmt: skip
    assert store.save_enrichment(alpha.id, now, models={"summarize": "m1"}, **fields)
    first = store.get_story(alpha.id).enriched_at  # type: ignore[union-attr]
    assert not store.save_enrichment(alpha.id, now + timedelta(minutes=1), models={"summarize": "m1"}, **fields)
    story = store.get_story(alpha.id)
    assert story is not None and story.enriched_at == first
    assert store.save_enrichment(alpha.id, now + timedelta(minutes=2), models={"summarize": "m2"}, **fields)
    story = store.get_story(alpha.id)
    assert story is not None and story.enriched_at != first and story.models == {"summarize": "m2"}
    assert not store.save_enrichment(9999, now, models={"summarize": "m1"}, **fields)  # gone: nothing, no error
