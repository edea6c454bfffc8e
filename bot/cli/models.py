"""`newsbot models ...`: fetch the configured models for offline use; list which model serves each language."""

from __future__ import annotations

import json

import typer

from bot.cli.apps import models_app
from bot.cli.common import err, friendly, out
from bot.config import load_settings
from bot.errors import ModelError, UsageError
from bot.feedlist.engine import engine_config
from bot.feedlist.load import load_feed_list
from summarizer.errors import EngineError


@models_app.command("download")
@friendly
def models_download(
    lang: str | None = typer.Option(None, help="Comma-separated languages (default: those in feeds.yaml)."),
) -> None:
    """Fetch and cache every configured model into NEWSBOT_MODEL_DIR, for offline use (HF_HUB_OFFLINE=1); with
    NEWSBOT_BACKEND=ctranslate2, convert them for it too."""
    from summarizer.convert import convert_models
    from summarizer.download import download_models

    settings = load_settings()
    config = engine_config(load_feed_list(settings.feeds), settings)
    languages = [code.strip().lower() for code in lang.split(",") if code.strip()] if lang else None
    if languages is not None and (unknown := [code for code in languages if code not in config.languages]):
        offered = ", ".join(config.languages)
        raise UsageError(f"{', '.join(map(repr, unknown))}: not among the languages in feeds.yaml ({offered})")

    def report(name: str, status: str) -> None:
        err.print(f"{name}: {status.replace('_', ' ')}")

    try:
        fetched = download_models(config, languages, progress=report)
        converted = convert_models(config, languages, progress=report) if config.backend == "ctranslate2" else None
    except EngineError as e:
        raise ModelError(str(e)) from e
    out.print(f"{len(fetched)} models cached in {config.model_dir}", soft_wrap=True)
    if converted is not None:
        out.print(f"{len(converted)} models converted for CTranslate2", soft_wrap=True)


@models_app.command("list")
@friendly
def models_list(as_json: bool = typer.Option(False, "--json", help="One JSON object per language.")) -> None:
    """Each offered language: the model into English (pivot), the one out of it (target), the token it needs,
    licence, size, and whether each is cached; a language no model serves says why. Then the summarizer, the
    fallback into English, and NEWSBOT_QA_MODEL when set."""
    from summarizer.download import locate_converted, locate_model
    from summarizer.models import ModelRef, answer_model, fallback, no_path, routes, summarizer, translation_route

    settings = load_settings()
    config = engine_config(load_feed_list(settings.feeds), settings)

    def described(route: ModelRef | None) -> dict[str, object] | None:
        if route is None:
            return None
        cached = locate_model(route.name, config.model_dir) is not None
        found: dict[str, object] = {"model": route.name, "token": route.token, "licence": route.licence,
                                    "size_mb": route.size_mb, "cached": cached, "page": route.page}  # fmt: skip
        if config.backend == "ctranslate2":  # what that backend loads: the cached model, converted
            found["converted"] = locate_converted(route.name, config) is not None
        return found

    rows = []
    for lang in config.languages:
        if lang == "en":
            continue
        into = routes(config, lang, "en")
        rows.append(
            {
                "lang": lang,
                "pivot": described(into[0] if into else None),
                "target": described(translation_route(config, "en", lang)),
                "problem": no_path(config, lang),
            }
        )
    shared = {
        "summarizer": described(summarizer(config)),
        "fallback": described(fallback(config)),
        "answers": described(answer_model(config)),  # NEWSBOT_QA_MODEL; null when unset
    }
    if as_json:
        out.print_json(json.dumps({"languages": rows, **shared}))
        return
    lines = [(f"{r['lang']}→en", r["pivot"]) for r in rows] + [(f"en→{r['lang']}", r["target"]) for r in rows]
    lines += [("summaries", shared["summarizer"]), ("any→en", shared["fallback"]), ("answers", shared["answers"])]
    table = [("direction", "model", "token", "licence", "size", "cached")]
    for direction, found in lines:
        if isinstance(found, dict):
            size = f"{found['size_mb']} MB" if found["size_mb"] else "?"
            cached = "yes" if found["cached"] else "no"
            if found["cached"] and found.get("converted") is False:
                cached = "not converted"
            table.append(
                (direction, str(found["model"]), str(found["token"] or "-"), str(found["licence"]), size, cached)
            )
    # Plain columns, never wrapped or cut (Rich would fold model ids at 80 columns when stdout is not a terminal).
    widths = [max(len(row[n]) for row in table) for n in range(len(table[0]))]
    for cells in table:
        out.print(
            "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip(), soft_wrap=True
        )
    for row in rows:
        if row["problem"]:
            out.print(f"{row['lang']}: {row['problem']}", soft_wrap=True)
