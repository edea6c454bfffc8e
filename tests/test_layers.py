"""The layers' import rules, read from the source with ast (nothing is imported): the front-ends reach the store only
through the service, and what renders the bot's messages (bot/render) is pure: no telegram, no store, no front-end."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parent.parent / "bot"
FRONT_ENDS = ("chat", "cli")
NOT_IN_RENDER = ("telegram", "bot.store", "bot.chat")  # sending, SQL, the front-end that sends what render makes


def imports(source: Path, package: str = "") -> list[tuple[int, set[str]]]:
    """Each import statement of a file (at any depth) as its line and the modules it may name: `from bot import
    store` names both `bot` and `bot.store`. A relative import is read against `package`, the file's own."""
    found: list[tuple[int, set[str]]] = []
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"), filename=str(source))):
        if isinstance(node, ast.Import):
            found.append((node.lineno, {alias.name for alias in node.names}))
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found.append((node.lineno, {module} | {f"{module}.{alias.name}" for alias in node.names}))
    return sorted(found, key=lambda item: item[0])


def package_of(source: Path) -> str:
    """`bot.render` for bot/render/spans.py and for bot/render/__init__.py."""
    return ".".join(source.relative_to(BOT.parent).parts[:-1])


def is_in(module: str, package: str) -> bool:
    """`module` is `package` or inside it: `telegram.ext` is in `telegram`, `telegram_html` is not."""
    return module == package or module.startswith(package + ".")


def is_store(module: str) -> bool:
    return is_in(module, "bot.store")


def test_imports_finds_every_form_of_import(tmp_path: Path) -> None:
    source = tmp_path / "sample.py"
    source.write_text("import bot.store.db\nfrom bot import store\ndef f():\n    from bot.store.rows import FeedRow\n")
    assert [line for line, modules in imports(source) if any(map(is_store, modules))] == [1, 2, 4]


def test_relative_imports_are_read_against_the_files_package(tmp_path: Path) -> None:
    source = tmp_path / "sample.py"
    source.write_text("from ..store import rows\nfrom . import spans\nfrom .spans import Span\n")
    assert [modules for _, modules in imports(source, "bot.render")] == [
        {"bot.store", "bot.store.rows"},
        {"bot.render", "bot.render.spans"},
        {"bot.render.spans", "bot.render.spans.Span"},
    ]


@pytest.mark.parametrize("package", FRONT_ENDS)
def test_front_ends_never_import_the_store(package: str) -> None:
    sources = sorted((BOT / package).rglob("*.py"))
    assert sources, f"no sources under bot/{package}"
    offending = [
        f"{source.relative_to(BOT.parent)}:{line}"
        for source in sources
        for line, modules in imports(source, package_of(source))
        if any(map(is_store, modules))
    ]
    assert not offending, "front-ends take the store's records from bot.service: " + ", ".join(offending)


def test_render_never_imports_telegram_the_store_or_the_chat() -> None:
    """bot/render is data in, Telegram HTML out: it may read the service's records and bot.i18n, never send, query or
    reach into the front-end that sends what it makes."""
    sources = sorted((BOT / "render").rglob("*.py"))
    assert sources, "no sources under bot/render"
    offending = []
    for source in sources:
        for line, modules in imports(source, package_of(source)):
            if banned := sorted(m for m in modules if any(is_in(m, package) for package in NOT_IN_RENDER)):
                offending.append(f"{source.relative_to(BOT.parent)}:{line} ({', '.join(banned)})")
    assert not offending, "bot/render is pure (no telegram, bot.store or bot.chat): " + "; ".join(offending)
