"""`newsbot summarize URL`: a web page summarized in a language, as the bot's /summarize gives it (the same fetch
rules, except that nothing here may open file:// either: a page is a web page)."""

from __future__ import annotations

import json
from dataclasses import asdict

import typer
from rich.text import Text

from bot.cli.apps import app
from bot.cli.common import friendly, out, print_link, with_service
from bot.errors import NewsbotError, PageError, UsageError
from bot.i18n import texts
from bot.render.page import refusal
from bot.service import PageView, Service


@app.command()
@friendly
def summarize(
    url: str = typer.Argument(..., help="The page's http(s) URL."),
    lang: str = typer.Option("en", "--lang", help="The summary's language (one of feeds.yaml's languages)."),
    as_json: bool = typer.Option(False, "--json", help="The summary as one JSON object."),
) -> None:
    """Fetch a web page, take its article text out and summarize it in a language (cached as the bot caches it)."""

    async def body(service: Service) -> PageView:
        offered = (await service.engines.config()).languages
        if lang not in offered:
            raise UsageError(f"{lang!r} is not one of the languages in feeds.yaml: {', '.join(offered)}")
        try:
            return await service.links.summarize(url, lang)
        except PageError as e:
            detail = f" ({e.detail})" if e.detail else ""
            raise NewsbotError(f"{e.url}: {refusal(e.kind, texts('en'))}{detail}") from e

    view = with_service(body)
    if as_json:
        shown = {k: v for k, v in asdict(view).items() if k != "body"} | {"summary": view.body}
        out.print_json(json.dumps(shown, ensure_ascii=False))
        return
    out.print(Text(view.title, style="bold"))
    out.print(view.body)
    print_link(view.link)
    if not view.translated:
        out.print(Text(f"(not translated, original in {view.lang}: {view.note})", style="dim"), soft_wrap=True)
