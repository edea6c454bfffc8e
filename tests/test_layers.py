"""The layers' import rules, read from the source with ast (nothing is imported): the front-ends reach the store only
through the service."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parent.parent / "bot"
FRONT_ENDS = ("chat", "cli")


def imports(source: Path) -> list[tuple[int, set[str]]]:
    """Each import statement of a file (at any depth) as its line and the modules it may name: `from bot import
    store` names both `bot` and `bot.store`."""
    found: list[tuple[int, set[str]]] = []
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"), filename=str(source))):
        if isinstance(node, ast.Import):
            found.append((node.lineno, {alias.name for alias in node.names}))
        elif isinstance(node, ast.ImportFrom) and node.module is not None and node.level == 0:
            found.append((node.lineno, {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}))
    return sorted(found, key=lambda item: item[0])


def is_store(module: str) -> bool:
    return module == "bot.store" or module.startswith("bot.store.")


def test_imports_finds_every_form_of_import(tmp_path: Path) -> None:
    source = tmp_path / "sample.py"
    source.write_text("import bot.store.db\nfrom bot import store\ndef f():\n    from bot.store.rows import FeedRow\n")
    assert [line for line, modules in imports(source) if any(map(is_store, modules))] == [1, 2, 4]


@pytest.mark.parametrize("package", FRONT_ENDS)
def test_front_ends_never_import_the_store(package: str) -> None:
    sources = sorted((BOT / package).rglob("*.py"))
    assert sources, f"no sources under bot/{package}"
    offending = [
        f"{source.relative_to(BOT.parent)}:{line}"
        for source in sources
        for line, modules in imports(source)
        if any(map(is_store, modules))
    ]
    assert not offending, "front-ends take the store's records from bot.service: " + ", ".join(offending)
