"""URL templates: parameters, matching by segments and query, specificity, refused templates."""

from __future__ import annotations

import pytest

from toolkit.emulator.url_template import RequestTarget, TemplateError, parse_template

CHAT = "/deployments/{deployment-id}/chat/completions?api-version={api-version}"


def test_parameters_in_path_and_query():
    assert parse_template(CHAT).parameters == ("deployment-id", "api-version")


@pytest.mark.parametrize(("template", "path", "query", "expected"), [
    (CHAT, "/deployments/gpt/chat/completions", "api-version=2024-10-21",
     {"deployment-id": "gpt", "api-version": "2024-10-21"}),
    (CHAT, "/deployments/gpt/chat/completions", "", None),  # the query parameter is part of the template
    (CHAT, "/deployments/gpt/chat/completions", "api-version=", None),
    (CHAT, "/deployments/gpt/completions", "api-version=1", None),
    (CHAT, "/deployments/gpt/chat/completions/extra", "api-version=1", None),
    (CHAT, "/DEPLOYMENTS/gpt/Chat/Completions", "api-version=1", {"deployment-id": "gpt", "api-version": "1"}),
    ("/deployments/{id}", "/deployments/a%20b", "", {"id": "a b"}),
    ("/deployments/{id}", "/deployments/", "", None),
    ("/files/{name}.json", "/files/report.json", "", {"name": "report"}),
    ("/files/{name}.json", "/files/report.xml", "", None),
    ("/*", "/anything/at/all", "", {}),
    ("/*", "", "", {}),
    ("/a/{*rest}", "/a/b/c", "", {"rest": "b/c"}),
    ("/a/{*rest}", "/b/c", "", None),
    ("/", "", "", {}),
    ("/", "/x", "", None),
])
def test_match(template, path, query, expected):
    assert parse_template(template).match(path, query) == expected


def test_one_request_target_matches_every_template_as_match_does():
    # the gateway splits a request once and tries it against each template of the API
    target = RequestTarget("/deployments/a%20b/chat/completions", "api-version=1&api-version=2")
    assert target.parts == ["deployments", "a b", "chat", "completions"]
    assert parse_template(CHAT).match_target(target) == {"deployment-id": "a b", "api-version": "2"}
    assert parse_template("/deployments/{id}/chat/{*rest}").match_target(target) == {"id": "a b", "rest": "completions"}
    assert parse_template("/deployments/{id}/chat").match_target(target) is None
    assert parse_template("/deployments/a%20b/chat/completions").match_target(target) is None  # decoded, not raw
    assert parse_template("/deployments/a b/chat/completions").match_target(target) == {}


def test_specificity_prefers_literals_then_no_wildcard():
    literal = parse_template("/deployments/x/chat")
    templated = parse_template("/deployments/{d}/chat")
    wildcard = parse_template("/deployments/*")
    assert literal.specificity > templated.specificity > wildcard.specificity
    assert parse_template("/a/{b}").specificity > parse_template("/a/*").specificity


@pytest.mark.parametrize("bad", ["no-slash", "/a/*/b", "/a//b", "/a/{}", "/a/{x}/{x}", "/a?x=1", "/a/{b"])
def test_refused_templates(bad):
    with pytest.raises(TemplateError):
        parse_template(bad)
