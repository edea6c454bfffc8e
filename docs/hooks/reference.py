"""MkDocs hook: the configuration reference, generated from the code at every build.

Every field of `bot.config.Settings` (its environment variable, type, default and description) and every key of the
feeds.yaml schema become two tables where docs/configuration.md holds the MARKER line, so a setting cannot exist
undocumented. Renders only; never writes a file. tests/test_docs.py renders with the same function.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `mkdocs` is a console script: the repository root is not on its path
    sys.path.insert(0, str(ROOT))

from bot.config import Settings  # noqa: E402
from bot.feedlist import schema  # noqa: E402  (the feeds.yaml schema: the one place that names its module)

MARKER = "<!-- configuration-reference -->"
PAGE = "configuration.md"


def render_reference() -> str:
    """Both tables as Markdown: the environment variables, then the feeds.yaml keys."""
    env = [
        "| variable | type | default | meaning |",
        "| --- | --- | --- | --- |",
        *(_row(f"`{field.alias}`", field, env=True) for field in Settings.model_fields.values()),
    ]
    keys = [
        "| key | type | default | meaning |",
        "| --- | --- | --- | --- |",
        *(_row(f"`{path}`", field, env=False) for path, field in yaml_keys(schema.FeedList)),
    ]
    return "\n".join(
        [
            "### Environment variables",
            "",
            "Generated from `bot.config.Settings`. Names are case-sensitive; an empty value counts as unset for the "
            "token, the webhook URL and secret and the answer model. Booleans take `1` or `0` (also `true`/`false`).",
            "",
            *env,
            "",
            "### feeds.yaml keys",
            "",
            f"Generated from the schema in `{schema.__name__}` (`{schema.FeedList.__name__}` and the sections under "
            "it). `feeds[]` is each item of the `feeds` list, `watchlist[]` each item of the watchlist. A key the "
            "schema does not know is an error, not ignored.",
            "",
            *keys,
            "",
        ]
    )


def yaml_keys(model: type[BaseModel], prefix: str = "") -> Iterator[tuple[str, FieldInfo]]:
    """Every key of `model` as a dotted path, depth first, a section before the keys inside it."""
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        yield path, field
        section, many = _section(field.annotation)
        if section is not None:
            yield from yaml_keys(section, f"{path}[]." if many else f"{path}.")


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    """MkDocs' hook: the reference replaces the marker on the configuration page."""
    if page.file.src_uri != PAGE:
        return markdown
    if MARKER not in markdown:
        raise ValueError(f"docs/{PAGE} has lost the line {MARKER} where the configuration reference goes")
    return markdown.replace(MARKER, render_reference())


def _row(key: str, field: FieldInfo, *, env: bool) -> str:
    description = (field.description or "").strip()
    if not description:  # a setting nobody described must not reach the site looking documented
        raise ValueError(f"{key} has no description: add Field(description=...) where it is defined")
    cells = [key, _type(field), _default(field, env=env), description]
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def _section(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """The model a key holds (a section), and whether it holds a list of them."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    if get_origin(annotation) in (tuple, list):
        inner, _ = _section(get_args(annotation)[0])
        return inner, True
    return None, False


def _type(field: FieldInfo) -> str:
    bounds = []
    for item in field.metadata:
        for kind, sign in ((annotated_types.Ge, "≥"), (annotated_types.Gt, ">"), (annotated_types.Le, "≤")):
            if isinstance(item, kind):
                bounds.append(f"{sign} {getattr(item, kind.__name__.lower())}")
        if getattr(item, "pattern", None):
            bounds.append(f"matching `{item.pattern}`")
    return ", ".join([_type_name(field.annotation), *bounds])


def _type_name(annotation: Any) -> str:
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return _type_name(args[0])
    if origin in (Union, types.UnionType):
        return " or ".join(_type_name(arg) for arg in args if arg is not type(None))
    if origin is Literal:
        return ", ".join(f"`{arg}`" for arg in args)
    if origin in (tuple, list, frozenset, set):
        return f"list of {_type_name(args[0])}s"
    if origin is dict:
        return f"mapping of {_type_name(args[0])} to {_type_name(args[1])}"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "mapping"
    names = {str: "string", int: "integer", float: "number", bool: "boolean", Path: "path"}
    return names.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _default(field: FieldInfo, *, env: bool) -> str:
    if field.default_factory is not None:
        value = field.default_factory()  # type: ignore[call-arg]
    elif field.default is PydanticUndefined:
        return "required"
    else:
        value = field.default
    if value is None:
        return "unset"
    if isinstance(value, BaseModel):
        return "the keys below"
    if isinstance(value, bool):
        return ("`1`" if value else "`0`") if env else f"`{str(value).lower()}`"
    if isinstance(value, tuple | list | frozenset | set | dict):
        return f"`[{', '.join(map(str, value))}]`" if value else "none"
    if isinstance(value, Path):
        return f"`{value}`" if value.is_absolute() else f"`./{value}`"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"`{value}`"
