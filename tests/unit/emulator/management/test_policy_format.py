"""rawxml <-> xml conversion of policy documents."""

from __future__ import annotations

import pytest
from lxml import etree

from toolkit.emulator.management.policy_format import from_raw, to_raw, unescape_expressions

RAW = (
    '<policies>\n'
    '  <!-- a comment with <tags> & "quotes" -->\n'
    '  <inbound>\n'
    '    <set-variable name="v" value="@(context.Request.Headers.GetValueOrDefault("x", "") != "" || 1 > 0)" />\n'
    "    <set-variable name='w' value='@(\"single-quoted attribute\")' />\n"
    '    <set-body>@{ var a = 1 < 2 && true; return a.ToString(); }</set-body>\n'
    '    <set-header name="plain"><value>Tom &amp; Jerry "quoted"</value></set-header>\n'
    '    <set-header name="nv"><value>{{named-value}}</value></set-header>\n'
    '  </inbound>\n'
    '</policies>'
)


def test_xml_form_is_well_formed_and_converts_back_to_the_same_raw_text():
    escaped = from_raw(RAW, "xml")
    root = etree.fromstring(escaped.encode())
    assert root.find(".//set-variable").get("value").startswith('@(context.Request.Headers.GetValueOrDefault("x"')
    assert "1 < 2 && true" in root.find(".//set-body").text
    assert to_raw(escaped, "xml") == RAW


def test_rawxml_is_passed_through_both_ways():
    assert to_raw(RAW, "rawxml") == RAW
    assert from_raw(RAW, "rawxml") == RAW


def test_non_expression_values_keep_their_entities():
    assert unescape_expressions('<a b="x &amp; y"><c>&lt;d&gt;</c></a>') == '<a b="x &amp; y"><c>&lt;d&gt;</c></a>'


@pytest.mark.parametrize("text", ["<a b=\"unterminated></a>", "<a><b></a", "plain text & more"])
def test_text_that_does_not_tokenise_is_returned_unchanged(text):
    assert unescape_expressions(text) == text
