"""/ask's answer as Telegram HTML blocks: the sentences with their citation numbers, the numbered sources, linked;
when nothing answers, the closest stories, unnumbered. Pure."""

from __future__ import annotations

from bot.ask.answer import Answer
from bot.i18n import Texts
from bot.render.spans import Block, Span, plain, safe_href


def render_answer(answer: Answer, t: Texts) -> list[Block]:
    """/ask: the quoted (or written) sentences with their [n], then the numbered sources, linked; when nothing answers,
    the stories that come close, by title and link, unnumbered."""
    if not answer.found:
        if not answer.closest:
            return [plain(t("I found nothing about that in the stored stories."))]
        near: list[Span] = [Span(t("I found nothing that answers this. Closest stories:"), bold=True)]
        for story in answer.closest:  # titles and links only: no number, nothing here is cited as an answer
            near += [Span("\n• "), Span(story.title, href=safe_href(story.link))]
        return [tuple(near)]
    body = " ".join(f"{text} [{number}]" for text, number in answer.sentences)
    blocks: list[Block] = [(Span(body),)]
    if answer.generated:
        blocks.append((Span(t("Written by the answer model from these sources only."), italic=True),))
    elif not answer.translated:
        blocks.append((Span(t("Some sentences are quoted in their original language."), italic=True),))
    sources: list[Span] = [Span(t("Sources:"), bold=True)]
    for citation in answer.citations:
        sources += [Span(f"\n[{citation.number}] "), Span(citation.title, href=safe_href(citation.link))]
    blocks.append(tuple(sources))
    return blocks
