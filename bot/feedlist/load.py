"""Reading feeds.yaml: the file, its YAML and its validation against the schema (bot/feedlist/schema.py), with every
problem a ConfigError naming the file, the line and the key."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from bot.errors import ConfigError
from bot.feedlist.schema import FEEDS_ENV, FeedList

# Admin-facing wording for pydantic's error types; the others keep pydantic's message.
_MESSAGES = {
    "missing": "this key is required",
    "model_type": "must be a mapping of keys (like `url: https://…`)",
    "dict_type": "must be a mapping of keys",
    "tuple_type": "must be a list",
    "bool_type": "must be true or false",
    "int_type": "must be a whole number",
    "string_type": "must be text",
}


def load_feed_list(path: str | os.PathLike[str]) -> FeedList:
    """Read and validate the feed list; any problem is a ConfigError naming the file, the line and the key."""
    name = str(path)
    return validate_doc(parse_yaml(read_file(Path(path), name), name, yaml_io()), name)


def yaml_io() -> YAML:
    # Round-trip mode keeps comments, key order, quoting and line numbers. A fresh instance per call: not thread-safe.
    yaml = YAML()
    yaml.indent(mapping=2, sequence=4, offset=2)  # the layout of the shipped feeds.yaml
    yaml.width = 4096  # never fold a long URL or title onto two lines
    yaml.preserve_quotes = True
    return yaml


def missing_file(name: str) -> ConfigError:
    return ConfigError(
        f"the feed list {name} does not exist: create it (start from feeds.yaml in the newsbot sources) "
        f"or point {FEEDS_ENV} at it"
    )


def read_file(path: Path, name: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as e:
        raise missing_file(name) from e
    except UnicodeDecodeError as e:
        raise ConfigError(f"{name}: not UTF-8 text ({e.reason} at byte {e.start})") from e
    except OSError as e:
        raise ConfigError(f"cannot read {name}: {e.strerror or e}") from e


def parse_yaml(text: str, name: str, yaml: YAML) -> CommentedMap:
    try:
        doc = yaml.load(text)
    except MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f", line {mark.line + 1}" if mark is not None else ""
        detail = "; ".join(part for part in (e.context, e.problem) if part)
        raise ConfigError(f"{name}{where}: not valid YAML: {detail}") from e
    except YAMLError as e:
        raise ConfigError(f"{name}: not valid YAML: {e}") from e
    if not isinstance(doc, CommentedMap):
        found = "nothing" if doc is None else f"a {type(doc).__name__}"
        raise ConfigError(f"{name}, line 1: expected a mapping with the keys settings: and feeds:, found {found}")
    return doc


def validate_doc(doc: CommentedMap, name: str) -> FeedList:
    try:
        return FeedList.model_validate(doc)
    except ValidationError as e:
        problems = []
        for error in e.errors(include_url=False):
            loc = error_location(error)
            problems.append(f"{name}, line {_line(doc, loc)}, {key_path(loc)}: {describe_error(error, loc)}")
        raise ConfigError("\n".join(problems)) from e


def error_location(error: ErrorDetails) -> tuple[str | int, ...]:
    # "[key]" marks an error about a mapping's key rather than its value; the key is already in the path.
    loc = tuple(part for part in error["loc"] if part != "[key]")
    ctx = error.get("ctx", {})
    if "item" in ctx:  # a list-level check pointing at one of its items
        loc += (ctx["item"],)
        if "key" in ctx:
            loc += (ctx["key"],)
    return loc


def _line(doc: Any, loc: Sequence[str | int]) -> int:
    """1-based line of the deepest node along `loc` that the document has (a missing key: its parent's line)."""
    line = 0
    node = doc
    for part in loc:
        if isinstance(node, CommentedMap) and part in node:
            line = node.lc.key(part)[0]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
            line = node.lc.item(part)[0]
        else:
            break
        node = node[part]
    return line + 1


def key_path(loc: Sequence[str | int]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "(top level)"


def describe_error(error: ErrorDetails, loc: Sequence[str | int]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        return f"unknown key (allowed here: {', '.join(allowed)})" if allowed else "unknown key"
    if kind == "value_error":
        return str(error.get("ctx", {}).get("error", error["msg"]))
    message = _MESSAGES.get(kind, error["msg"])
    value = error.get("input")
    if kind in _MESSAGES and isinstance(value, str | int | float | bool):
        message += f" (got {value!r})"
    return message


def _allowed_keys(loc: Sequence[str | int]) -> list[str]:
    """The keys the schema accepts at `loc`, found by walking the models along it."""
    model: type[BaseModel] | None = FeedList
    for part in loc:
        if model is None:
            break
        if isinstance(part, str):
            field = model.model_fields.get(part)
            model = _model_in(field.annotation) if field is not None else None
    return list(model.model_fields) if model is not None else []


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if get_origin(annotation) is None and isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return next((m for m in map(_model_in, get_args(annotation)) if m is not None), None)
