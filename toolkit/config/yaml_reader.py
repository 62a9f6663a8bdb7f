"""Safe YAML reading for toolkit's own files: plain data with the line of every value, bounded work.

A config arrives by pull request like any file, so reading it must not be a way to crash or stall the
tool. Compared with ``yaml.safe_load`` this reader:

- bounds nesting depth (checked on the parser's event stream, before the recursive composer runs) and
  the number of values aliases may expand to ("billion laughs"), and refuses recursive aliases;
- supports the merge key (``<<: *base``), a common idiom in configs with shared blocks;
- accepts only plain text, integers, finite floats, booleans and null: other tags (``!!binary``,
  ``!!timestamp``, ``!!python/...``, ``!custom``) are refused, as are strings holding control characters
  or lone surrogates (they cannot be written to XML or UTF-8 later);
- keeps an unquoted scalar that holds ``${VAR}`` as :class:`PlainTemplate`, so that after interpolation
  it is typed the way YAML would type the text (``weight: ${W}`` becomes a number, ``"${W}"`` stays text).

Every refusal is a ConfigError with the file, the line and, where known, the dotted field.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import yaml

from toolkit.errors import ConfigError

MAX_DEPTH = 64
MAX_VALUES = 100_000

Path_ = tuple[str | int, ...]

_PLAIN_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
}
_MERGE_TAG = "tag:yaml.org,2002:merge"
# XML 1.0 and most terminals cannot carry these; tab, newline and carriage return are fine.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


class PlainTemplate(str):
    """An unquoted scalar holding ``${VAR}``: typed like YAML would type it once interpolated."""


class Positions:
    """Where each value of the merged document came from: path -> (file, line)."""

    def __init__(self) -> None:
        self._lines: dict[Path_, tuple[str, int]] = {}

    def record(self, path: Path_, file: str, line: int) -> None:
        self._lines[path] = (file, line)

    def locate(self, path: Path_, default_file: str) -> tuple[str, int | None]:
        """The closest recorded position at or above ``path``."""
        for end in range(len(path), -1, -1):
            found = self._lines.get(path[:end])
            if found:
                return found
        return default_file, None

    def drop_below(self, path: Path_) -> None:
        for key in [k for k in self._lines if k[: len(path)] == path and len(k) > len(path)]:
            del self._lines[key]

    def rebase(self, source: Path_, target: Path_) -> None:
        """Copy the positions recorded under ``source`` to the same relative place under ``target``."""
        for key, value in list(self._lines.items()):
            if key[: len(source)] == source:
                self._lines[target + key[len(source) :]] = value


def dotted(path: Path_) -> str:
    """``("backends", 0, "url")`` -> ``backends[0].url``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def read_config_text(file: str) -> str:
    """The text of a config file; ConfigError (exit 3) when it is missing, unreadable or not UTF-8."""
    try:
        raw = Path(file).read_bytes()
    except FileNotFoundError:
        raise ConfigError("config file not found", file=file, hint="run from the project folder or pass --config") from None
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror or exc}", file=file) from None
    return decode_utf8(raw, file)


def decode_utf8(raw: bytes, file: str, *, bom: bool = False) -> str:
    """``raw`` as UTF-8 text (``bom``: a leading byte-order mark dropped); ConfigError naming the line and the byte
    otherwise."""
    try:
        return raw.decode("utf-8-sig" if bom else "utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text (byte {exc.start}: {raw[exc.start:exc.start + 1]!r})", file=file,
                          line=raw.count(b"\n", 0, exc.start) + 1, hint="save the file as UTF-8") from None


def read_yaml(text: str, file: str, positions: Positions) -> Any:
    """Parse ``text`` into plain data (dicts, lists, scalars), recording positions; None for an empty document."""
    _check_nesting(text, file)
    node = _compose(text, file)
    if node is None:
        return None
    return _Builder(file, positions).build(node, ())


def _yaml_error(exc: yaml.YAMLError, text: str, file: str) -> ConfigError:
    if isinstance(exc, yaml.reader.ReaderError):  # a character YAML does not allow: it has a position, no mark
        character = f"#x{exc.character:04x}" if isinstance(exc.character, int) else repr(exc.character)
        return ConfigError(f"not valid YAML: character {character} is not allowed", file=file,
                           line=text.count("\n", 0, exc.position) + 1)
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 if mark else None
    problem = getattr(exc, "problem", None) or str(exc)
    return ConfigError(f"not valid YAML: {problem}", file=file, line=line)


def _check_nesting(text: str, file: str) -> None:
    """Refuse documents nested deeper than MAX_DEPTH, from the (iterative) parser's events."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise ConfigError(f"nested more than {MAX_DEPTH} levels deep", file=file,
                                      line=event.start_mark.line + 1)
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, text, file) from None


def _compose(text: str, file: str) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, text, file) from None


class _Builder:
    """Turns a node graph into plain data, counting values so aliases cannot expand without limit."""

    def __init__(self, file: str, positions: Positions) -> None:
        self.file = file
        self.positions = positions
        self.values = 0
        self.open: set[int] = set()  # ids of the collection nodes being built (an alias to one is a cycle)

    def _refuse(self, message: str, node: yaml.Node, path: Path_) -> ConfigError:
        return ConfigError(message, file=self.file, line=node.start_mark.line + 1, field=dotted(path) or None)

    def build(self, node: yaml.Node, path: Path_) -> Any:
        self.values += 1
        if self.values > MAX_VALUES:
            raise self._refuse(f"aliases expand to more than {MAX_VALUES:,} values; refusing to expand further",
                               node, path)
        if len(path) > MAX_DEPTH:
            raise self._refuse(f"nested more than {MAX_DEPTH} levels deep (through aliases)", node, path)
        self.positions.record(path, self.file, node.start_mark.line + 1)
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node, path)
        if id(node) in self.open:
            raise self._refuse("an alias refers to the collection that contains it (a recursive alias)", node, path)
        if node.tag not in ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"):
            raise self._refuse(f"the YAML tag {_short(node.tag)} is not allowed here", node, path)
        self.open.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, path)
            return [self.build(item, path + (index,)) for index, item in enumerate(node.value)]
        finally:
            self.open.discard(id(node))

    def _mapping(self, node: yaml.MappingNode, path: Path_) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        explicit: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merged = {**self._merge_sources(value_node, path), **merged}
                continue
            key = self._key(key_node, path)
            if key in explicit:
                raise self._refuse(f"duplicate key {key!r}", key_node, path + (key,))
            explicit[key] = self.build(value_node, path + (key,))
            self.positions.record(path + (key,), self.file, key_node.start_mark.line + 1)
        return {**merged, **explicit}

    def _merge_sources(self, node: yaml.Node, path: Path_) -> dict[str, Any]:
        """``<<: *a`` or ``<<: [*a, *b]``; as in YAML 1.1, earlier mappings win over later ones."""
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        result: dict[str, Any] = {}
        for source in reversed(sources):
            if not isinstance(source, yaml.MappingNode):
                raise self._refuse("a merge key (<<) takes a mapping or a list of mappings", source, path)
            result.update(self.build(source, path))
        return result

    def _key(self, node: yaml.Node, path: Path_) -> str:
        if not isinstance(node, yaml.ScalarNode):
            raise self._refuse("a key must be a plain value", node, path)
        key = self._scalar(node, path)
        if not isinstance(key, str):
            raise self._refuse(f"keys must be text, got {key!r}", node, path)
        return key

    def _scalar(self, node: yaml.ScalarNode, path: Path_) -> Any:
        if node.tag not in _PLAIN_TAGS:
            raise self._refuse(f"the YAML tag {_short(node.tag)} is not allowed (value {_preview(node.value)}): write "
                               "plain text (quoted if need be), a number or a boolean", node, path)
        constructor = yaml.SafeLoader("")
        try:
            value = constructor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, OverflowError):
            raise self._refuse(f"{_preview(node.value)} is not a valid {_short(node.tag)} value", node, path) from None
        finally:
            constructor.dispose()
        if isinstance(value, float) and not math.isfinite(value):
            raise self._refuse(f"{_preview(node.value)} is not a finite number", node, path)
        if isinstance(value, str):
            check_text(value, self._refuse, node, path)
            if node.style is None and "${" in value:
                return PlainTemplate(value)
        return value


def check_text(value: str, refuse: Any, node: Any, path: Path_) -> None:
    """Refuse text that cannot travel into XML or UTF-8: control characters and lone surrogates."""
    if _SURROGATE.search(value):
        raise refuse("the text holds a lone surrogate (\\uD800-\\uDFFF), which is not a character", node, path)
    control = _CONTROL.search(value)
    if control:
        raise refuse(f"the text holds the control character U+{ord(control.group()):04X}", node, path)


def _preview(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


def _short(tag: str) -> str:
    return tag.replace("tag:yaml.org,2002:", "!!")


def typed_like_yaml(text: str) -> Any:
    """What an unquoted YAML scalar with this text would be: 50 -> 50, true -> True, anything else -> text."""
    constructor = yaml.SafeLoader("")
    try:
        tag = constructor.resolve(yaml.ScalarNode, text, (True, False))
        if tag not in _PLAIN_TAGS or tag == "tag:yaml.org,2002:str":
            return text
        value = constructor.construct_object(yaml.ScalarNode(tag, text), deep=True)
    except (ValueError, OverflowError):
        return text
    finally:
        constructor.dispose()
    if isinstance(value, float) and not math.isfinite(value):
        return text
    return value
