"""Safe parsing of APIM policy documents (policy.xml, fragments) with line numbers.

APIM stores policies as "rawxml": policy expressions (``@(...)``, ``@{...}``) may hold C# with
unescaped ``<``, ``>``, ``&&`` and, inside attribute values, unescaped double quotes
(``value="@(context.Request.Headers.GetValueOrDefault("x", ""))"``). Such documents are not
well-formed XML, yet APIM accepts them and the APIOps extractor writes them that way. So before
parsing, :func:`escape_expressions` XML-escapes the inside of every expression that starts an
attribute value or a text node, keeping every newline where it was so ``element.sourceline``
still points at the original line. (XML normalises newlines inside attribute values to spaces,
so a multi-line ``@{...}`` in an attribute reaches the caller on one line; text-node
expressions keep their newlines.) Multi-line start tags report the line they start on.

Parsing never expands entities, loads DTDs or touches the network; a DOCTYPE or an entity
reference is refused outright (no legitimate policy needs one), as is a document over
:data:`MAX_POLICY_BYTES`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from lxml import etree

from toolkit.artifacts.expression_scan import ExpressionScanner
from toolkit.errors import ArtifactError

MAX_POLICY_BYTES = 1024 * 1024
SECTIONS = ("inbound", "backend", "outbound", "on-error")

_ENCODING_DECL = re.compile(r"""^(<\?xml[^>]*?)\s+encoding\s*=\s*(["'])[^"']*\2""")
_KNOWN_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|apos|#[0-9]+|#x[0-9A-Fa-f]+);")
_NAME_START = re.compile(r"[A-Za-z_:]")


class PolicyXmlError(ArtifactError):
    """A policy document is not acceptable XML; carries the file, line and bare reason."""

    def __init__(self, file: str, line: int, reason: str) -> None:
        super().__init__(f"{file}:{line}: {reason}")
        self.file = file
        self.line = line
        self.reason = reason


def parse_policy(text: str, file: str, *, max_bytes: int = MAX_POLICY_BYTES) -> etree._Element:
    """The root element of a policy document (``sourceline`` set), or PolicyXmlError ("file:line: message")."""
    text = text.lstrip("\ufeff")
    size = len(text.encode("utf-8"))
    if size > max_bytes:
        raise PolicyXmlError(file, 1, f"policy document is {size} bytes, over the {max_bytes} byte limit")
    escaped, tag_lines, doctype_line = _prepare(text)
    if doctype_line is not None:  # refused before libxml2 sees the DTD: nothing is declared, nothing expanded
        raise PolicyXmlError(file, doctype_line, "DOCTYPE declarations are not allowed in policy documents")
    # The text is already decoded; an encoding declaration would make lxml decode it again.
    prepared = _ENCODING_DECL.sub(r"\1", escaped)
    parser = etree.XMLParser(
        resolve_entities=False,
        load_dtd=False,
        dtd_validation=False,
        no_network=True,
        huge_tree=False,
        remove_blank_text=False,
    )
    try:
        root = etree.fromstring(prepared.encode("utf-8"), parser)
    except etree.XMLSyntaxError as exc:
        raise PolicyXmlError(file, exc.lineno or 1, _clean_reason(exc.msg)) from None
    # Defence in depth, unreachable unless the scanner missed a DOCTYPE: the parser loaded no DTD and
    # expanded nothing; an entity reference (kept as a node) or the DOCTYPE itself still refuses the document.
    entity = next(root.iter(etree.Entity), None)
    if entity is not None:
        raise PolicyXmlError(file, entity.sourceline or 1, f"entity reference &{entity.name}; is not allowed")
    if root.getroottree().docinfo.doctype:
        raise PolicyXmlError(file, 1, "DOCTYPE declarations are not allowed in policy documents")
    _set_start_lines(root, tag_lines)
    return root


def _set_start_lines(root: etree._Element, tag_lines: list[int]) -> None:
    """libxml2 reports the line where a start tag *ends*; point multi-line tags at their first line.

    The scanner saw the start tags in document order, as ``iter`` yields the elements; if the
    counts differ (never for a document that parsed) the parser's lines are kept.
    """
    elements = list(root.iter(tag=etree.Element))
    if len(elements) == len(tag_lines):
        for element, line in zip(elements, tag_lines):
            if element.sourceline != line:
                element.sourceline = line


def _clean_reason(message: str) -> str:
    """libxml2 appends ', line N, column M'; the line is reported separately."""
    return re.sub(r", line \d+, column \d+$", "", message or "malformed XML")


# ----------------------------------------------------------------------------------------------
# Tree helpers


def local_name(element: etree._Element) -> str:
    """The element's tag without any namespace ('' for comments and processing instructions)."""
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]


def iter_policy_elements(root: etree._Element, *names: str) -> Iterator[etree._Element]:
    """Every element under (and including) ``root`` in document order, optionally only those named ``names``."""
    wanted = set(names)
    for element in root.iter(tag=etree.Element):
        if not wanted or local_name(element) in wanted:
            yield element


def section_of(element: etree._Element) -> str | None:
    """The policy section (inbound/backend/outbound/on-error) that holds ``element``, if any."""
    node = element
    while node is not None:
        parent = node.getparent()
        if parent is not None and local_name(parent) == "policies" and parent.getparent() is None:
            name = local_name(node)
            return name if name in SECTIONS else None
        node = parent
    return None


def is_expression(value: str | None) -> bool:
    """True for a policy expression value (``@(...)`` or ``@{...}``), which only runs at request time."""
    return value is not None and value.lstrip().startswith(("@(", "@{"))


# ----------------------------------------------------------------------------------------------
# Pre-processing of policy expressions


def escape_expressions(text: str) -> str:
    """``text`` with the inside of every attribute- or text-level policy expression XML-escaped.

    Comments, CDATA and processing instructions are copied untouched, and so is everything from a
    declaration (``<!DOCTYPE ...>``, which no policy may hold) on; newlines are never added or
    removed, so line numbers are preserved. Text that is not an expression is
    copied as-is (an ill-formed document stays ill-formed and the parser reports it).
    """
    return _prepare(text)[0]


def _prepare(text: str) -> tuple[str, list[int], int | None]:
    """The escaped text, the 1-based line of every start tag in document order, and the line of
    the first markup declaration (<!DOCTYPE ...>) if there is one."""
    out: list[str] = []
    tag_lines: list[int] = []
    doctype_line: int | None = None
    scanner = ExpressionScanner(text)
    line, counted = 1, 0
    i, n = 0, len(text)
    while i < n:
        if text[i] != "<":
            i = _copy_text_node(scanner, i, out)
            continue
        for opener, closer in (("<!--", "-->"), ("<![CDATA[", "]]>"), ("<?", "?>")):
            if text.startswith(opener, i):
                end = _past(text, closer, i + len(opener))
                out.append(text[i:end])
                i = end
                break
        else:
            if text.startswith("<!", i):
                # A declaration refuses the whole document (parse_policy): the rest is copied untouched.
                doctype_line = text.count("\n", 0, i) + 1
                out.append(text[i:])
                break
            if i + 1 < n and _NAME_START.match(text[i + 1]):
                line += text.count("\n", counted, i)
                counted = i
                tag_lines.append(line)
                i = _copy_start_tag(scanner, i, out)
            else:
                out.append("<")
                i += 1
    return "".join(out), tag_lines, doctype_line


def _copy_text_node(scanner: ExpressionScanner, i: int, out: list[str]) -> int:
    text = scanner.text
    start = i
    while i < len(text) and text[i] in " \t\r\n":
        i += 1
    out.append(text[start:i])
    end = scanner.expression_end(i) if text.startswith(("@(", "@{"), i) else None
    if end is not None:
        out.append(_escape(text[i:end], quotes=False))
        i = end
    stop = text.find("<", i)
    stop = len(text) if stop < 0 else stop
    out.append(text[i:stop])
    return stop


_ATTRIBUTE = re.compile(r"""(\s+)([^\s=/>"']+)(\s*=\s*)(["'])""")


def _copy_start_tag(scanner: ExpressionScanner, i: int, out: list[str]) -> int:
    text = scanner.text
    name = re.compile(r"<[^\s/>]+").match(text, i)
    assert name is not None
    out.append(name.group(0))
    i = name.end()
    while (attribute := _ATTRIBUTE.match(text, i)) is not None:
        out.append(attribute.group(0))
        quote = attribute.group(4)
        value_start = attribute.end()
        i = _copy_attribute_value(scanner, value_start, quote, out)
    end = _past(text, ">", i)
    out.append(text[i:end])
    return end


def _copy_attribute_value(scanner: ExpressionScanner, start: int, quote: str, out: list[str]) -> int:
    """Copy an attribute value and its closing quote; returns the index after the quote."""
    text = scanner.text
    j = start
    while j < len(text) and text[j] in " \t\r\n":
        j += 1
    if text.startswith(("@(", "@{"), j):
        end = scanner.expression_end(j)
        if end is not None:
            close = end
            while close < len(text) and text[close] in " \t\r\n":
                close += 1
            if close < len(text) and text[close] == quote:
                out.append(_escape(text[start:close], quotes=True))
                out.append(quote)
                return close + 1
    close = _past(text, quote, start)
    out.append(text[start:close])
    return close


def _past(text: str, closer: str, start: int) -> int:
    """The index just past the first ``closer`` at or after ``start``; the end of ``text`` if it never comes."""
    found = text.find(closer, start)
    return len(text) if found < 0 else found + len(closer)


def _escape(fragment: str, *, quotes: bool) -> str:
    """XML-escape an expression, leaving the predefined entities and character references intact."""
    parts: list[str] = []
    i = 0
    for match in _KNOWN_ENTITY.finditer(fragment):
        parts.append(_escape_plain(fragment[i : match.start()], quotes))
        parts.append(match.group(0))
        i = match.end()
    parts.append(_escape_plain(fragment[i:], quotes))
    return "".join(parts)


def _escape_plain(fragment: str, quotes: bool) -> str:
    fragment = fragment.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if quotes:
        fragment = fragment.replace('"', "&quot;").replace("'", "&apos;")
        # An XML parser turns line breaks and tabs in an attribute value into spaces; APIM keeps them, and a
        # `// comment` in a multi-line @{ } attribute would otherwise swallow the code after it.
        fragment = fragment.replace("\r", "&#13;").replace("\n", "&#10;").replace("\t", "&#9;")
    return fragment
