"""parse_policy on raw policies: expressions reach the caller exactly as written, markup that is not a start
tag is never taken for one, truncated documents are refused (not a crash or a hang), and the tree is the
document as written. (Mutation gaps of artifacts/policy_xml.py.)"""

from __future__ import annotations

import pytest
from lxml import etree

from toolkit.artifacts.policy_xml import PolicyXmlError, iter_policy_elements, local_name, parse_policy, section_of


def _value(attribute_xml: str) -> str | None:
    """The ``value`` attribute of a set-variable written as ``attribute_xml`` (e.g. ``value="@(1)"``)."""
    root = parse_policy(f"<policies><inbound><set-variable name=\"v\" {attribute_xml} /></inbound></policies>", "p.xml")
    return root.find("inbound/set-variable").get("value")


def _text(inner: str) -> str | None:
    return parse_policy(f"<policies><inbound><set-body>{inner}</set-body></inbound></policies>", "p.xml")[0][0].text


@pytest.mark.parametrize("expression", [
    "@(a[b[0]]>1 && c < d)",  # ']]>' may not stand raw in XML text; '&' and '<' neither
    "@{ return x > 0 ? \"a\" : 'b'; }",
])
def test_a_text_expression_arrives_exactly_as_written(expression: str) -> None:
    assert _text(expression) == expression


@pytest.mark.parametrize(("written", "value"), [
    ('value="@(x == "a" &amp;&amp; y != \'b\')"', "@(x == \"a\" && y != 'b')"),  # quotes before an entity
    ("value='@(\"a\" + 'b' + \"c\")'", "@(\"a\" + 'b' + \"c\")"),  # single-quoted, both quotes inside
    ('value=" @(a < b) "', " @(a < b) "),  # blanks around the expression
    ('value="\t@(a < b)\t\t"', "\t@(a < b)\t\t"),
    ('value="@{\r\n\tvar a = 1; // one\r\n\treturn a < 2;\r\n}"', "@{\r\n\tvar a = 1; // one\r\n\treturn a < 2;\r\n}"),
    ('value="@(1) + 1"', "@(1) + 1"),  # not one expression: plain text, copied as-is
])
def test_an_attribute_expression_arrives_exactly_as_written(written: str, value: str) -> None:
    assert _value(written) == value


@pytest.mark.parametrize("document", [
    '<policies><inbound a="X@(a < b)" /></policies>',
    '<policies><inbound a="@(a < b)X" /></policies>',
    "<policies><inbound>X@(a < b)</inbound></policies>",
])
def test_text_around_an_expression_makes_it_plain_text_which_may_not_hold_a_raw_less_than(document: str) -> None:
    with pytest.raises(PolicyXmlError) as caught:
        parse_policy(document, "p.xml")
    assert caught.value.line == 1


@pytest.mark.timeout(30)
@pytest.mark.parametrize("document", [
    '<policies>\n<inbound a="1',
    '<policies>\n<inbound a="   ',
    '<policies>\n<inbound a="@(x)',
    '<policies>\n<inbound a="@(x)   ',
    '<policies>\n<inbound a="1"',
    "<policies>\n<!-- never closed",
    "<policies>\n<![CDATA[ never closed",
    "<policies>\n<",
    "X<policies />",
])
def test_a_truncated_or_junk_document_is_refused_with_its_file(document: str) -> None:
    with pytest.raises(PolicyXmlError) as caught:
        parse_policy(document, "apis/a/policy.xml")
    assert caught.value.file == "apis/a/policy.xml" and caught.value.line in (1, 2)


@pytest.mark.timeout(30)
def test_comments_and_processing_instructions_around_expressions() -> None:
    text = ('<?xml version="1.0"?>\n<!-- one -->\n<policies><!-- two --><inbound a="@(x < y)" /><!-- three -->'
            "<?pi four?><outbound>@(a && b)</outbound></policies>\n<!-- five -->")
    root = parse_policy(text, "p.xml")
    assert root.find("inbound").get("a") == "@(x < y)"
    assert root.find("outbound").text == "@(a && b)"


@pytest.mark.parametrize("markup", ["<![CDATA[if (x<y) {}]]>", "<?note a<b?>", "<!-- x<y-->"])
def test_markup_inside_cdata_comments_and_instructions_is_not_a_start_tag(markup: str) -> None:
    """Line numbers of multi-line start tags after it stay right, and later expressions are still escaped."""
    text = (f"<policies>\n<inbound>{markup}</inbound>\n"
            '<outbound><set-header name="x"\n    exists-action="override">'
            '<value>@(a < b)</value></set-header></outbound>\n</policies>')
    root = parse_policy(text, "p.xml")
    header = next(iter_policy_elements(root, "set-header"))
    assert header.sourceline == 3
    assert header[0].text == "@(a < b)"


def test_a_multi_line_start_tag_after_a_comment_inside_the_root_reports_its_first_line() -> None:
    root = parse_policy('<policies>\n<!-- note -->\n<inbound><set-header name="x"\n  exists-action="skip" />'
                        "</inbound></policies>", "p.xml")
    assert next(iter_policy_elements(root, "set-header")).sourceline == 3


def test_a_doctype_after_blank_lines_is_refused_at_its_own_line() -> None:
    with pytest.raises(PolicyXmlError, match="DOCTYPE") as caught:
        parse_policy("\n\n<!DOCTYPE policies>\n<policies />", "p.xml")
    assert caught.value.line == 3


def test_the_tree_keeps_the_whitespace_between_elements() -> None:
    root = parse_policy("<policies>\n    <inbound />\n</policies>", "p.xml")
    assert (root.text, root[0].tail) == ("\n    ", "\n")


def test_a_policy_nested_deeper_than_libxml2_allows_is_refused() -> None:
    """libxml2's default depth limit (256) stays on: a hostile policy cannot build a deeper tree."""
    deep = "<policies>" + "<choose>" * 300 + "</choose>" * 300 + "</policies>"
    with pytest.raises(PolicyXmlError, match="depth"):
        parse_policy(deep, "p.xml")


def test_namespaced_elements_are_known_by_their_local_name() -> None:
    root = parse_policy('<p:policies xmlns:p="urn:example"><p:inbound><p:base /></p:inbound></p:policies>', "p.xml")
    assert [local_name(e) for e in iter_policy_elements(root)] == ["policies", "inbound", "base"]
    assert section_of(root[0][0]) == "inbound"


def test_comments_and_instructions_have_no_local_name() -> None:
    root = parse_policy("<policies><!-- c --><?pi x?><inbound /></policies>", "p.xml")
    assert [local_name(node) for node in root] == ["", "", "inbound"]


def test_an_element_under_something_else_than_a_section_has_no_section() -> None:
    root = parse_policy("<policies><inbound><base /></inbound><extras><set-header /></extras></policies>", "p.xml")
    assert section_of(root.find("inbound/base")) == "inbound"
    assert section_of(root.find("extras/set-header")) is None


def test_a_parser_error_without_message_or_line_still_names_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(*_args: object) -> None:
        raise etree.XMLSyntaxError(None, 0, 0, 0)

    monkeypatch.setattr(etree, "fromstring", failing)
    with pytest.raises(PolicyXmlError) as caught:
        parse_policy("<policies />", "apis/a/policy.xml")
    assert str(caught.value) == "apis/a/policy.xml:1: malformed XML"
