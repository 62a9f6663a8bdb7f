"""Safe policy XML parsing: raw expressions, line numbers, refusal of DTDs, entities and oversize input."""

from __future__ import annotations

import pytest

from toolkit.artifacts.policy_xml import (
    PolicyXmlError,
    escape_expressions,
    is_expression,
    iter_policy_elements,
    local_name,
    parse_policy,
    section_of,
)
from toolkit.errors import ArtifactError

RAW = r"""<!-- Add policies as children to the <inbound>, <outbound>, <backend>, and <on-error> elements -->
<policies>
    <inbound>
        <base />
        <set-variable name="cid" value="@(context.Request.Headers.GetValueOrDefault("x-correlation-id", Guid.NewGuid().ToString()))" />
        <set-body>@{
            var body = context.Request.Body.As<JObject>(preserveContent: true); // "quoted" it's a comment
            if (body["a"] != null && body.Count > 1) { return "x)"; }
            return body.ToString();
        }</set-body>
        <choose>
            <when condition="@(context.Response.StatusCode &lt; 500 &amp;&amp; context.Request.Url.Path.Contains(&quot;(&quot;))">
                <set-header name='x' exists-action="override"><value>@(context.Request.Headers.GetValueOrDefault('a'.ToString(), @"c:\x""y"))</value></set-header>
            </when>
        </choose>
        <retry count="2"
               interval="0"
               condition="@(context.Response.StatusCode == 429)">
            <forward-request buffer-request-body="true" />
        </retry>
    </inbound>
</policies>
"""


def test_raw_expressions_parse_to_their_exact_text() -> None:
    root = parse_policy(RAW, "apis/a/policy.xml")
    by_name = {local_name(e): e for e in iter_policy_elements(root)}
    assert by_name["set-variable"].get("value") == (
        '@(context.Request.Headers.GetValueOrDefault("x-correlation-id", Guid.NewGuid().ToString()))'
    )
    body = by_name["set-body"].text
    assert body.startswith("@{") and "As<JObject>(preserveContent: true)" in body and "body.Count > 1" in body
    assert by_name["when"].get("condition") == (
        '@(context.Response.StatusCode < 500 && context.Request.Url.Path.Contains("("))'
    )
    assert by_name["value"].text == "@(context.Request.Headers.GetValueOrDefault('a'.ToString(), @\"c:\\x\"\"y\"))"


def test_line_numbers_are_those_of_the_source() -> None:
    root = parse_policy(RAW, "p.xml")
    lines = {local_name(e): e.sourceline for e in iter_policy_elements(root)}
    assert lines == {
        "policies": 2, "inbound": 3, "base": 4, "set-variable": 5, "set-body": 6, "choose": 11, "when": 12,
        "set-header": 13, "value": 13, "retry": 16, "forward-request": 19,
    }


def test_escaping_keeps_every_newline() -> None:
    assert escape_expressions(RAW).count("\n") == RAW.count("\n")
    plain = '<policies><inbound a="1">text &amp; more</inbound></policies>'
    assert escape_expressions(plain) == plain


def test_sections_and_helpers() -> None:
    root = parse_policy(RAW, "p.xml")
    forward = next(iter_policy_elements(root, "forward-request"))
    assert section_of(forward) == "inbound"
    assert section_of(root) is None
    fragment = parse_policy("<fragment><forward-request /></fragment>", "f.xml")
    assert section_of(fragment[0]) is None
    assert [local_name(e) for e in iter_policy_elements(root, "base", "retry")] == ["base", "retry"]
    assert is_expression(" @(1)") and is_expression("@{ return 1; }") and not is_expression("{{nv}}") and not is_expression(None)


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("<policies>\n  <inbound>\n</policies>\n", 3, "mismatch"),
        ("<policies>\n  <inbound>&nope;</inbound>\n</policies>", 2, "nope"),
        ("<policies>\n<inbound a=\"1\" a=\"2\" /></policies>", 2, "redefined"),
        ("<policies>\n<inbound>\n<value>@(a < b</value></inbound></policies>", 3, ""),
        ("", 1, ""),
    ],
)
def test_malformed_xml_is_an_artifact_error_with_file_and_line(text: str, line: int, reason: str) -> None:
    with pytest.raises(ArtifactError) as caught:
        parse_policy(text, "apis/a/policy.xml")
    error = caught.value
    assert isinstance(error, PolicyXmlError) and error.line == line
    assert str(error).startswith(f"apis/a/policy.xml:{line}: ")
    assert reason in str(error).lower()


def test_entity_bomb_is_refused_before_any_expansion() -> None:
    levels = ['<!ENTITY a0 "ha">'] + [f'<!ENTITY a{i} "{("&a" + str(i - 1) + ";") * 10}">' for i in range(1, 12)]
    bomb = "<?xml version=\"1.0\"?>\n<!DOCTYPE policies [\n" + "\n".join(levels) + "\n]>\n<policies>&a11;</policies>"
    with pytest.raises(PolicyXmlError, match="DOCTYPE") as caught:
        parse_policy(bomb, "p.xml")
    assert caught.value.line == 2


def test_external_entities_and_plain_doctypes_are_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    secret = tmp_path / "secret"
    secret.write_text("SECRET")
    with pytest.raises(PolicyXmlError, match="DOCTYPE") as caught:
        parse_policy(f'<!DOCTYPE p [<!ENTITY x SYSTEM "file://{secret}">]><policies>&x;</policies>', "p.xml")
    assert "SECRET" not in str(caught.value)
    with pytest.raises(PolicyXmlError, match="DOCTYPE"):
        parse_policy('<!-- c -->\n\n<!DOCTYPE policies SYSTEM "http://127.0.0.1:9/x.dtd"><policies />', "p.xml")


def test_size_limit() -> None:
    text = "<policies><!--" + "x" * 200 + "--></policies>"
    assert local_name(parse_policy(text, "p.xml", max_bytes=1000)) == "policies"
    with pytest.raises(PolicyXmlError, match="over the 100 byte limit"):
        parse_policy(text, "p.xml", max_bytes=100)


def test_bom_and_encoding_declaration_in_decoded_text() -> None:
    root = parse_policy('\ufeff<?xml version="1.0" encoding="utf-16"?>\n<policies><inbound>é</inbound></policies>', "p.xml")
    assert root[0].text == "é"


def test_comments_and_cdata_are_left_alone() -> None:
    text = "<policies>\n<!-- <forward-request value=\"@(x\" /> -->\n<inbound><![CDATA[@(a < b)]]></inbound>\n</policies>"
    root = parse_policy(text, "p.xml")
    assert [local_name(e) for e in iter_policy_elements(root)] == ["policies", "inbound"]
    assert next(iter_policy_elements(root, "inbound")).text == "@(a < b)"


def test_unbalanced_expression_is_copied_as_is() -> None:
    text = '<policies><inbound a="@(x"></inbound></policies>'
    assert escape_expressions(text) == text
    assert parse_policy(text, "p.xml")[0].get("a") == "@(x"


def test_line_breaks_in_an_attribute_expression_survive_parsing() -> None:
    """A `// comment` on one line of a multi-line @{ } attribute must not swallow the next lines."""
    from toolkit.artifacts.policy_xml import parse_policy

    xml = ('<policies><inbound><set-variable name="x" value="@{\n  // a comment\n  return 1;\n}" />'
           "</inbound></policies>")
    root = parse_policy(xml, "policy.xml")
    value = root.find(".//set-variable").get("value")
    assert value == "@{\n  // a comment\n  return 1;\n}"
