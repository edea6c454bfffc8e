"""Telegram HTML from spans: only safe links become hrefs, and lengths count what Telegram counts."""

from __future__ import annotations

import pytest

from bot.render.spans import Span, fit, pack, safe_href, units
from tests.telegram_html import TELEGRAM_LIMIT, length, parse


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://a.example/x", True),
        ("HTTP://A.example", True),
        ("javascript:alert(1)", False),
        ("JaVaScRiPt:alert(1)", False),
        ("//a.example/x", False),
        ("https:///nohost", False),
        ("https://a.example/ x", False),
        ("https://a.example/\u0000", False),
        ("https://[::1", False),
        ("ftp://a.example/", False),
        ("https://a.example/" + "a" * 3000, False),
    ],
)
def test_safe_href(url: str, ok: bool) -> None:
    assert (safe_href(url) == url) is ok


def test_utf16_length_counts_astral_characters_twice() -> None:
    block = (Span("🤖" * 3000, bold=True),)
    [message] = pack([block])
    text, _ = parse(message)
    assert units("🤖") == 2 and TELEGRAM_LIMIT - 2 <= length(text) <= TELEGRAM_LIMIT
    assert units("".join(s.text for s in fit(block))) <= TELEGRAM_LIMIT
