"""`newsbot models list`: every offered language's model both ways with token, licence, size and cache state, model
ids whole on the terminal, a JSON twin, and the reason a language cannot be served."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from bot.cli import app
from tests.tinymodels import TinyModels


def test_models_list_names_each_direction_and_why_a_language_has_none(tmp_path: Path, tiny_models: TinyModels) -> None:
    settings = {
        "languages": ["en", "it", "pt", "pl"],
        "models": {"translation_overrides": {"it-en": str(tiny_models.it_en)}},
    }
    (tmp_path / "feeds.yaml").write_text(yaml.safe_dump({"settings": settings, "feeds": []}))
    env = {"NEWSBOT_FEEDS": str(tmp_path / "feeds.yaml"), "NEWSBOT_MODEL_DIR": str(tmp_path / "models")}
    runner = CliRunner()
    listed = runner.invoke(app, ["models", "list", "--json"], env=env)
    assert listed.exit_code == 0, listed.output
    by_lang = {row["lang"]: row for row in json.loads(listed.stdout)["languages"]}
    assert by_lang["it"]["pivot"] == {
        "model": str(tiny_models.it_en), "token": None, "licence": None, "size_mb": None, "cached": True, "page": None,
        "converted": False,  # the default ctranslate2 backend loads the conversion, which models download makes
    }  # fmt: skip
    pt = by_lang["pt"]["target"]
    assert (pt["model"], pt["token"], pt["licence"], pt["cached"]) == (
        "Helsinki-NLP/opus-mt-tc-big-en-pt", ">>por<<", "cc-by-4.0", False
    )  # fmt: skip
    assert pt["page"] == "https://huggingface.co/Helsinki-NLP/opus-mt-tc-big-en-pt"
    assert by_lang["pl"]["target"] is None and by_lang["pl"]["pivot"]["model"] == "Helsinki-NLP/opus-mt-mul-en"
    assert "no model translates English into 'pl'" in by_lang["pl"]["problem"]

    text = runner.invoke(app, ["models", "list"], env=env)
    assert text.exit_code == 0
    lines = text.stdout.splitlines()
    assert any(line.split()[:3] == ["en→pt", "Helsinki-NLP/opus-mt-tc-big-en-pt", ">>por<<"] for line in lines)
    assert any(line.startswith("pl: no model translates English into 'pl'") for line in lines)
    assert any(
        line.split()[:2] == ["it→en", str(tiny_models.it_en)] and line.endswith("not converted") for line in lines
    )
    torch = runner.invoke(app, ["models", "list", "--json"], env={**env, "NEWSBOT_BACKEND": "transformers"})
    assert "converted" not in json.loads(torch.stdout)["languages"][0]["pivot"]
    assert json.loads(torch.stdout)["answers"] is None  # NEWSBOT_QA_MODEL unset
    assert not any(line.startswith("answers") for line in lines)

    with_qa = {**env, "NEWSBOT_QA_MODEL": "google/flan-t5-base"}
    answers = json.loads(runner.invoke(app, ["models", "list", "--json"], env=with_qa).stdout)["answers"]
    assert (answers["model"], answers["licence"], answers["size_mb"], answers["cached"]) == (
        "google/flan-t5-base", "apache-2.0", 990, False
    )  # fmt: skip
    assert answers["page"] == "https://huggingface.co/google/flan-t5-base"
    text = runner.invoke(app, ["models", "list"], env=with_qa).stdout.splitlines()
    assert any(
        line.split() == ["answers", "google/flan-t5-base", "-", "apache-2.0", "990", "MB", "no"] for line in text
    )
