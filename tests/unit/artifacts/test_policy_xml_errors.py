"""parse_policy's refusals name file, line and reason exactly (mutation gaps), and the byte limit is inclusive."""

from __future__ import annotations

import pytest

from toolkit.artifacts.policy_xml import PolicyXmlError, parse_policy

DOC = "<policies><inbound><base /></inbound></policies>"


def _refusal(text: str, **options) -> PolicyXmlError:
    with pytest.raises(PolicyXmlError) as info:
        parse_policy(text, "apis/chat/policy.xml", **options)
    return info.value


def test_the_byte_limit_allows_exactly_the_limit_and_refuses_one_more() -> None:
    size = len(DOC.encode("utf-8"))
    assert parse_policy(DOC, "p.xml", max_bytes=size).tag == "policies"
    error = _refusal(DOC, max_bytes=size - 1)
    assert (error.file, error.line) == ("apis/chat/policy.xml", 1)
    assert error.reason == f"policy document is {size} bytes, over the {size - 1} byte limit"
    assert str(error) == f"apis/chat/policy.xml:1: {error.reason}"


def test_a_leading_byte_order_mark_is_not_counted_or_parsed() -> None:
    size = len(DOC.encode("utf-8"))
    assert parse_policy("\ufeff" + DOC, "p.xml", max_bytes=size).tag == "policies"


def test_a_doctype_is_refused_at_its_line() -> None:
    error = _refusal('<?xml version="1.0"?>\n\n<!DOCTYPE policies [<!ENTITY x "y">]>\n' + DOC)
    assert (error.file, error.line, error.reason) == (
        "apis/chat/policy.xml", 3, "DOCTYPE declarations are not allowed in policy documents")


def test_an_encoding_declaration_is_accepted_once_the_text_is_decoded() -> None:
    root = parse_policy('<?xml version="1.0" encoding="utf-16"?>\n' + DOC, "p.xml")
    assert root.tag == "policies" and root.find("inbound/base") is not None


@pytest.fixture
def scanner_misses_doctypes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Simulate a scanner that lets a DOCTYPE through to libxml2 (the second line of defence must hold)."""
    from toolkit.artifacts import policy_xml

    monkeypatch.setattr(policy_xml, "_prepare", lambda text: (text, [], None))


@pytest.mark.usefixtures("scanner_misses_doctypes")
def test_a_missed_doctype_expands_no_entity(tmp_path) -> None:  # type: ignore[no-untyped-def]
    secret = tmp_path / "secret"
    secret.write_text("SECRET", encoding="utf-8")
    for declaration in ('<!ENTITY x "expanded">', f'<!ENTITY x SYSTEM "file://{secret}">'):
        error = _refusal(f"<!DOCTYPE policies [{declaration}]>\n<policies>\n<inbound>&x;</inbound></policies>")
        assert (error.file, error.line, error.reason) == ("apis/chat/policy.xml", 3, "entity reference &x; is not allowed")


@pytest.mark.usefixtures("scanner_misses_doctypes")
def test_a_missed_doctype_loads_no_external_dtd_and_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    broken = tmp_path / "broken.dtd"
    broken.write_text('<!ATTLIST policies a CDATA "x">\n garbage <<<\n', encoding="utf-8")  # an error if it were read
    error = _refusal(f'<!DOCTYPE policies SYSTEM "file://{broken}">\n' + DOC)
    assert (error.file, error.line, error.reason) == (
        "apis/chat/policy.xml", 1, "DOCTYPE declarations are not allowed in policy documents")
