"""The documentation against the code: the generated configuration reference holds every setting and every feeds.yaml
key with a description, the paths the pages name exist, the README's sample digest is what the renderer prints, and
the README's two commands come first."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from bot.config import Settings
from bot.digest.compose import Digest, DigestItem
from bot.i18n import texts
from bot.render.digest import render_digest
from tests.telegram_html import parse

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
README = (ROOT / "README.md").read_text(encoding="utf-8")


def hook() -> ModuleType:
    """docs/hooks/reference.py, the module `mkdocs build` runs (docs/ is not a package)."""
    path = DOCS / "hooks" / "reference.py"
    spec = importlib.util.spec_from_file_location("newsbot_docs_reference", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def table(markdown: str, heading: str) -> dict[str, list[str]]:
    """The rows of the table under `heading`, by the name in their first cell's backticks."""
    section = markdown.split(heading, 1)[1].split("\n### ", 1)[0]
    rows = {}
    for line in section.splitlines():
        if line.startswith("| `"):
            cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]]
            rows[cells[0].strip("`")] = cells
    return rows


def yaml_keys(schema: dict[str, Any]) -> list[str]:
    """Every key of feeds.yaml as a dotted path, read from the JSON schema pydantic makes of the file's model (not
    the way the hook walks it): `feeds[].url` is the `url` of each item of `feeds`."""
    defs = schema.get("$defs", {})

    def ref(node: dict[str, Any]) -> dict[str, Any] | None:
        for candidate in (node, *node.get("anyOf", ())):
            if "$ref" in candidate:
                return defs[candidate["$ref"].rsplit("/", 1)[1]]
        return None

    def walk(model: dict[str, Any], prefix: str) -> list[str]:
        keys = []
        for name, node in model["properties"].items():
            keys.append(prefix + name)
            if (inner := ref(node)) is not None:
                keys += walk(inner, f"{prefix}{name}.")
            elif "items" in node and (inner := ref(node["items"])) is not None:
                keys += walk(inner, f"{prefix}{name}[].")
        return keys

    return walk(schema, "")


def test_every_setting_is_in_the_reference_with_a_description() -> None:
    rows = table(hook().render_reference(), "### Environment variables")
    for name, field in Settings.model_fields.items():
        assert field.alias in rows, f"{field.alias} ({name}) is missing from the configuration reference"
        _, kind, default, meaning = rows[field.alias]
        assert kind and default, f"{field.alias}: type or default missing"
        assert len(meaning) > 10, f"{field.alias} has no description"
    assert set(rows) == {field.alias for field in Settings.model_fields.values()}


def test_every_feeds_yaml_key_is_in_the_reference_with_a_description() -> None:
    module = hook()
    rows = table(module.render_reference(), "### feeds.yaml keys")
    keys = yaml_keys(module.schema.FeedList.model_json_schema())
    assert {"feeds[].url", "settings.languages", "settings.models.translation_tokens"} <= set(keys)
    assert "settings.watchlist[].aliases" in keys
    for key in keys:
        assert key in rows, f"feeds.yaml key {key} is missing from the configuration reference"
        assert len(rows[key][3]) > 10, f"feeds.yaml key {key} has no description"
    assert set(rows) == set(keys)


def test_a_field_without_description_fails_the_build(monkeypatch: pytest.MonkeyPatch) -> None:
    module = hook()
    field = Settings.model_fields["db"]
    monkeypatch.setattr(field, "description", None)
    with pytest.raises(ValueError, match="`NEWSBOT_DB` has no description"):
        module.render_reference()


def test_the_configuration_page_gets_the_reference() -> None:
    module = hook()
    page = (DOCS / module.PAGE).read_text(encoding="utf-8")
    assert page.count(module.MARKER) == 1

    class File:
        src_uri = module.PAGE

    class Page:
        file = File()

    built = module.on_page_markdown(page, Page(), config=None, files=None)
    assert module.MARKER not in built and "`NEWSBOT_RETENTION_DAYS`" in built and "`feeds[].interval`" in built


def test_the_paths_the_docs_name_exist() -> None:
    pages = {path.name: path.read_text(encoding="utf-8") for path in [ROOT / "README.md", *DOCS.glob("*.md")]}
    named = {
        (page, path)
        for page, text in pages.items()
        for path in re.findall(r"`((?:bot|summarizer|tests|benchmarks|docs)/[\w./-]*[\w/])`", text)
    }
    assert len(named) > 40
    missing = sorted(f"{page}: {path}" for page, path in named if not (ROOT / path).exists())
    assert not missing, f"the docs name files that do not exist: {missing}"


# The stories of the sample digest in README.md and docs/index.md (made up; the text is the renderer's).
SAMPLE = Digest(
    "en",
    [
        DigestItem(
            title="Open-weight model for European languages released under Apache 2.0",
            summary=(
                "A French lab released a 24-billion-parameter model trained on text in 24 EU languages. Weights and "
                "tokenizer are on Hugging Face under the Apache 2.0 licence. The lab says it matches larger models "
                "on translation benchmarks."
            ),
            link="https://techcrunch.example/2026/12/07/open-weight-eu-model",
            sources=("TechCrunch AI", "THE DECODER (Deutsch)", "ActuIA"),
            source_links=(None, "https://the-decoder.example/eu-modell", "https://actuia.example/modele-europeen"),
            languages=3,
        ),
        DigestItem(
            title="Italian banks test AI assistants for customer service",
            summary=(
                "Three Italian banks have started a six-month pilot of AI assistants answering customers in chat. The "
                "assistants hand a conversation to a person when they are unsure. Results will be shared with the "
                "Bank of Italy."
            ),
            link="https://ansa.example/tecnologia/banche-assistenti-ia",
            sources=("ANSA Tecnologia",),
        ),
        DigestItem(
            title="Rechenzentren: Stromverbrauch für KI verdoppelt sich bis 2028",
            summary=(
                "Ein Bericht schätzt, dass sich der Strombedarf von KI-Rechenzentren in Deutschland bis 2028 "
                "verdoppelt. Netzbetreiber fordern frühere Planung."
            ),
            link="https://heise.example/news/rechenzentren-ki-strom",
            sources=("heise online",),
            original_lang="de",
        ),
    ],
    more=4,
)


@pytest.mark.parametrize("page", [ROOT / "README.md", DOCS / "index.md"], ids=["README", "index"])
def test_the_sample_digest_is_what_the_renderer_prints(page: Path) -> None:
    [message] = render_digest(SAMPLE, texts("en"))
    shown = parse(message)[0]
    block = page.read_text(encoding="utf-8").split("```text\nYour news digest", 1)[1].split("```", 1)[0]
    assert "Your news digest" + block == shown + "\n", f"{page.name}'s sample digest should read:\n{shown}"


def test_the_readme_starts_with_its_two_commands_and_ci_runs_the_second() -> None:
    install = (
        "python3 -m venv .venv && .venv/bin/pip install torch==2.13.0 && .venv/bin/pip install -e . && "
        ".venv/bin/newsbot run"
    )
    check = (
        ". .venv/bin/activate && pip install -e '.[test]' && ruff check . && ruff format --check . && mypy && pytest"
    )
    assert README.startswith(f"# newsbot\n\n```bash\n{install}\n```\n```bash\n{check}\n```\n")
    assert check in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
