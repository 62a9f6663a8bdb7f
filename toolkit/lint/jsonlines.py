"""Line numbers of keys in a JSON text, for findings that point at a field."""

from __future__ import annotations

import json
import re

JsonPath = tuple[str | int, ...]

_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:,]|[^\s{}\[\]:,"]+|\s+', re.DOTALL)


def key_lines(text: str) -> dict[JsonPath, int]:
    """Map every key path (object keys and array indexes) of valid JSON ``text`` to its 1-based line.

    An object member maps to the line of its key, an array item to the line where it starts.
    """
    tokens: list[tuple[str, int]] = []
    line = 1
    for match in _TOKEN.finditer(text):
        token = match.group(0)
        if token.isspace():
            line += token.count("\n")
        else:
            tokens.append((token, line))
    lines: dict[JsonPath, int] = {}
    if tokens:
        _walk(tokens, 0, (), lines)
    return lines


def _walk(tokens: list[tuple[str, int]], i: int, path: JsonPath, lines: dict[JsonPath, int]) -> int:
    """Record ``path`` and its children starting at token ``i``; returns the index after the value."""
    token, line = tokens[i]
    lines.setdefault(path, line)
    if token == "{":
        i += 1
        while i < len(tokens) and tokens[i][0] != "}":
            key_token, key_line = tokens[i]
            child = (*path, json.loads(key_token))
            lines[child] = key_line
            i = _walk(tokens, i + 2, child, lines)  # skip the key and ':'
            if i < len(tokens) and tokens[i][0] == ",":
                i += 1
        return i + 1
    if token == "[":
        i += 1
        index = 0
        while i < len(tokens) and tokens[i][0] != "]":
            i = _walk(tokens, i, (*path, index), lines)
            index += 1
            if i < len(tokens) and tokens[i][0] == ",":
                i += 1
        return i + 1
    return i + 1


def line_of(lines: dict[JsonPath, int], path: JsonPath) -> int:
    """The line of ``path``, or of its nearest recorded ancestor (1 when nothing matches)."""
    for end in range(len(path), -1, -1):
        found = lines.get(path[:end])
        if found is not None:
            return found
    return 1
