"""`newsbot ask "QUESTION"`: an answer from the stored stories, with numbered citations (title and link)."""

from __future__ import annotations

import json
from dataclasses import asdict

import typer
from rich.text import Text

from bot.ask.answer import Answer
from bot.cli.apps import app
from bot.cli.common import friendly, out, print_link, with_service
from bot.errors import UsageError
from bot.service import Service


@app.command()
@friendly
def ask(
    question: str = typer.Argument(..., help="The question, in any offered language."),
    lang: str | None = typer.Option(None, "--lang", help="Answer in this language (default: the question's)."),
    as_json: bool = typer.Option(False, "--json", help="The answer as one JSON object."),
) -> None:
    """Answer a question from the stored stories, citing them; "nothing found" when they do not say, with the stories
    that come close."""
    if not question.strip():
        raise UsageError('ask needs a question, e.g. newsbot ask "What did OpenAI release this week?"')

    async def body(service: Service) -> Answer:
        if lang is not None and lang not in (await service.engines.config()).languages:
            offered = ", ".join((await service.engines.config()).languages)
            raise UsageError(f"{lang!r} is not one of the languages in feeds.yaml: {offered}")
        return await service.ask.answer(question, lang=lang)

    answer = with_service(body)
    if as_json:
        out.print_json(json.dumps(asdict(answer)))
        return
    if not answer.found:
        if not answer.closest:
            out.print("I found nothing about that in the stored stories.")
            return
        out.print("I found nothing that answers this. Closest stories:")
        for near in answer.closest:  # unnumbered: none of them is cited as an answer
            out.print(Text(f"• {near.title}", style="bold"))
            if near.link:
                print_link(near.link)
        return
    out.print(" ".join(f"{text} [{number}]" for text, number in answer.sentences))
    if not answer.translated:
        out.print(Text("(some sentences are quoted in their original language)", style="dim"))
    out.print()
    for citation in answer.citations:
        out.print(Text(f"[{citation.number}] {citation.title}", style="bold"))
        if citation.link:
            print_link(citation.link)
