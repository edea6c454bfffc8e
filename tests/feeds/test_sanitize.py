"""html_to_text, plain_text and safe_url: what survives as text, what is dropped, which links are kept."""

from __future__ import annotations

import pytest

from bot.feeds.sanitize import html_to_text, one_line, plain_text, safe_url


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("", ""),
        ("   \n ", ""),
        ("Just text", "Just text"),
        ("AT&amp;T &eacute;t&#233; &#x2014; &nbsp;ok", "AT&T été — ok"),
        ("<p>One</p><p>Two</p>", "One\n\nTwo"),
        ("<div>Block<div>nested</div>tail</div>", "Block\n\nnested\n\ntail"),
        ("line<br>break<br/>again", "line\nbreak\nagain"),
        ("para<br><br>graph", "para\n\ngraph"),
        ("<h2>Heading</h2>text <b>bold</b> and <a href='x'>link</a>.", "Heading\n\ntext bold and link."),
        ("<ul><li>one</li><li>two</li></ul>", "one\n\ntwo"),
        ("<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>", "a b\n\nc"),
        ("  lots   of\n\t whitespace  ", "lots of whitespace"),
        ("<p>  spaced  </p>\n\n\n<p> out </p>", "spaced\n\nout"),
        ("<pre>code\n  block</pre>", "code block"),
        ("<!-- a comment -->after", "after"),
        ("<?php echo 1; ?>after", "after"),
        ("<![CDATA[inside]]>after", "after"),
        ("x\x00y\x07z", "xyz"),
        ("<p>unclosed <b>tags <i>everywhere", "unclosed tags everywhere"),
        ("<html><head><title>Page title</title><meta name='x'></head><body><p>Body</p></body></html>", "Body"),
        ("<!DOCTYPE html><html><body>doc</body></html>", "doc"),
        ("<?xml version='1.0' encoding='utf-16'?><p>declared</p>", "declared"),
        ("<div>" * 200 + "deep" + "</div>" * 200, "deep"),
        # libxml2 stops at 256 levels: a hostile nesting costs the text after that point, never a crash.
        ("<p>before</p>" + "<div>" * 3000 + "deep" + "</div>" * 3000, "before"),
    ],
)
def test_html_to_text(html: str, text: str) -> None:
    assert html_to_text(html) == text


@pytest.mark.parametrize(
    "element",
    [
        "script",
        "style",
        "noscript",
        "iframe",
        "object",
        "embed",
        "template",
        "svg",
        "math",
        "textarea",
        "select",
        "button",
    ],
)
def test_dropped_elements_take_their_text_with_them(element: str) -> None:
    html = f"<p>before</p><{element} class='x'>HIDDEN <b>HIDDEN</b></{element}><p>after</p>"
    assert html_to_text(html) == "before\n\nafter"


@pytest.mark.parametrize(
    ("html", "text"),
    [
        # Entity-escaped markup is text to an HTML parser, and becomes literal tags once decoded: those are removed.
        ("safe&lt;script&gt;alert(1)&lt;/script&gt; text", "safealert(1) text"),
        ("&lt;a href=&quot;javascript:alert(1)&quot; onclick=&quot;x()&quot;&gt;link&lt;/a&gt;", "link"),
        ("&amp;lt;script&amp;gt;twice", "&lt;script&gt;twice"),  # double-escaped stays escaped text, which is inert
        ("&lt;!-- hidden --&gt;shown", "shown"),
        ("&lt;scr", "‹scr"),  # an unfinished tag cannot be removed whole, so its `<` is replaced
        ("1 &lt; 2 and 3 &gt; 2", "1 < 2 and 3 > 2"),
        ("<img src=x onerror=alert(1)>caption", "caption"),
        ("<a href='javascript:alert(1)'>click</a>", "click"),
        ("<svg onload=alert(1)><script>alert(2)</script></svg>ok", "ok"),
        ("<scr<script>ipt>alert(1)</script>", "ipt>alert(1)"),
    ],
)
def test_text_cannot_carry_markup(html: str, text: str) -> None:
    assert html_to_text(html) == text


def test_plain_text_keeps_line_and_paragraph_breaks_and_defuses_tags() -> None:
    assert plain_text("first line\nsecond  line\n\n\n  next   paragraph") == "first line\nsecond line\n\nnext paragraph"
    assert plain_text("<script>alert(1)</script> a &amp; b <3") == "alert(1) a &amp; b <3"
    assert plain_text("") == ""


def test_one_line() -> None:
    assert one_line(" a\n\nb\t c ") == "a b c"


@pytest.mark.parametrize(
    ("url", "base", "expected"),
    [
        ("https://a.example/x?y=1#z", None, "https://a.example/x?y=1#z"),
        ("HTTP://A.example/x", None, "http://A.example/x"),
        ("  https://a.example/x  ", None, "https://a.example/x"),
        ("https://a.example/a b", None, "https://a.example/a%20b"),
        ("/path", "https://feed.example/rss/", "https://feed.example/path"),
        ("rel", "https://feed.example/rss/", "https://feed.example/rss/rel"),
        ("//cdn.example/x", "https://feed.example/", "https://cdn.example/x"),
        ("/path", None, None),
        ("javascript:alert(1)", None, None),
        ("javascript:alert(1)", "https://feed.example/", None),
        (" JaVaScRiPt:alert(1)", "https://feed.example/", None),
        ("java\tscript:alert(1)", "https://feed.example/", None),
        ("java\nscript:alert(1)", "https://feed.example/", None),
        ("\x01javascript:alert(1)", "https://feed.example/", None),
        ("vbscript:msgbox", None, None),
        ("data:text/html;base64,PHNjcmlwdD4=", None, None),
        ("file:///etc/passwd", None, None),
        ("ftp://a.example/x", None, None),
        ("mailto:a@b.example", None, None),
        ("http://", None, None),
        ("http:///path-only", None, None),
        ("http://[::1", None, None),
        ("http://a.example:99999/", None, None),
        ("", None, None),
        (None, "https://feed.example/", None),
        ("/x", "javascript:alert(1)", None),
    ],
)
def test_safe_url(url: str | None, base: str | None, expected: str | None) -> None:
    assert safe_url(url, base) == expected
