"""A summarized page as Telegram HTML blocks: its summary (title, summary, link) with the 📖 button's data, its whole
text (one block per paragraph, long paragraphs cut between words, so bot.render.spans packs them into messages of at
most 4,096 characters split between paragraphs), the one sentence that says why a page could not be summarized, and
the 📖 button's callback data, built and parsed here only. Pure."""

from __future__ import annotations

import re

from bot.i18n import N_, Texts
from bot.render.keyboards import Button
from bot.render.spans import LIMIT, Block, Span, plain, safe_href, units
from bot.service.links import PageView

READ_EMOJI = "📖"
PAGE_PREFIX = "p:"
_PAGE_DATA = re.compile(r"p:([1-9][0-9]{0,17})")  # a page id as callback data: "p:<id>", nothing else
# A paragraph longer than a message is cut into pieces this long at most (room is left for the blank line).
PIECE = LIMIT - 2

# Why a page was not summarized (bot.errors.PageError.kind): one sentence each.
REFUSALS = {
    "not_web": N_("I can only summarize http:// and https:// links, e.g. /summarize https://example.com/news/story"),
    "private": N_("I do not open links to local or private network addresses."),
    "unsafe": N_("I cannot open that link: it is not a valid web address."),
    "not_found": N_("That page was not found on its site (it may have moved or been removed)."),
    "http": N_("The site answered with an error instead of the page; please try again later."),
    "timeout": N_("The site took too long to answer; please try again later."),
    "too_big": N_("That page is too big for me to summarize."),
    "not_html": N_("That link is not a web page, so there is no article to summarize."),
    "no_text": N_("I found no article text on that page to summarize."),
    "unreachable": N_("I could not reach that site; check the link and try again."),
}


def page_data(page_id: int) -> str:
    """The 📖 button's callback data for a summarized page."""
    return f"{PAGE_PREFIX}{page_id}"


def parse_page_data(data: str | None) -> int | None:
    """The page id a 📖 press names, or None for anything that is not exactly "p:<id>" (forged data included)."""
    found = _PAGE_DATA.fullmatch(data or "")
    return int(found.group(1)) if found else None


def read_button(page_id: int, t: Texts) -> Button:
    """The button that opens a page's whole text."""
    return Button(READ_EMOJI + " " + t("Read it all"), page_data(page_id))


def refusal(kind: str, t: Texts) -> str:
    return t(REFUSALS.get(kind, REFUSALS["unreachable"]))


def _untranslated(view: PageView, t: Texts) -> Block:
    lang = view.lang.upper() if view.lang != "und" else "?"
    note = t("Not translated (original in {lang}): no model here translates it into your language.", lang=lang)
    return (Span(note, italic=True),)


def page_summary(view: PageView, t: Texts) -> list[Block]:
    """Title (linked), summary, the link itself; said to be untranslated when it is."""
    link = safe_href(view.link)
    blocks: list[Block] = [(Span(view.title, bold=True, href=link), Span("\n" + view.body))]
    if link:
        blocks.append((Span(link, href=link),))
    if not view.translated:
        blocks.append(_untranslated(view, t))
    return blocks


def page_text(view: PageView, t: Texts) -> list[Block]:
    """The whole text: a head (title, link, untranslated or not), then one block per paragraph."""
    link = safe_href(view.link)
    head: list[Span] = [Span(view.title, bold=True, href=link)]
    if link:
        head.append(Span("\n" + link, href=link))
    blocks: list[Block] = [tuple(head)]
    if not view.translated:
        blocks.append(_untranslated(view, t))
    for paragraph in re.split(r"\n\s*\n", view.body):
        blocks += [plain(piece) for piece in pieces(paragraph.strip())]
    return blocks


def pieces(paragraph: str, limit: int = PIECE) -> list[str]:
    """A paragraph in pieces of at most `limit` UTF-16 units, cut between words (inside one only when a word is
    longer than a piece); nothing is dropped."""
    if units(paragraph) <= limit:
        return [paragraph] if paragraph else []
    out: list[str] = []
    current = ""
    for word in re.findall(r"\S+\s*", paragraph):
        while units(word) > limit:  # a run of text without spaces: cut it where it must be cut
            if current:
                out.append(current.rstrip())
                current = ""
            head = _prefix(word, limit)
            out.append(head)
            word = word[len(head) :]
        if units(current + word.rstrip()) > limit:
            out.append(current.rstrip())
            current = ""
        current += word
    if current.strip():
        out.append(current.rstrip())
    return out


def _prefix(text: str, limit: int) -> str:
    used, end = 0, 0
    for end, char in enumerate(text):
        used += units(char)
        if used > limit:
            return text[:end]
    return text
