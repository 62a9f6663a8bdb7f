"""<choose>/<when>/<otherwise>: structure refusals, first match wins, nested section checks."""

from __future__ import annotations

import pytest
from .policy_helpers import api, assert_sections, document, execute, rejected

from toolkit.emulator.policy.registry import SECTIONS

URL = {"backend_url": "http://backend.test"}
VAR = '<set-variable name="branch" value="{}"/>'


def _choose(*branches: str) -> str:
    return "<choose>" + "".join(branches) + "</choose>"


def test_sections() -> None:
    assert_sections(_choose('<when condition="true"/>'), SECTIONS)


@pytest.mark.parametrize(("xml", "message"), [
    (_choose(), "<choose> needs at least one <when"),
    (_choose("<otherwise/>"), "<choose> needs at least one <when"),
    (_choose("<otherwise/>", '<when condition="true"/>'), "<when> may not follow <otherwise>"),
    (_choose('<when condition="true"/>', "<otherwise/>", "<otherwise/>"), "<otherwise> may not follow <otherwise>"),
    (_choose("<when/>"), "<when> is missing the required attribute 'condition'"),
    (_choose('<when condition="true" id="x"/>'), "<when> attribute 'id' is not supported"),
    (_choose('<when condition="true"/>', '<otherwise x="1"/>'), "<otherwise> attribute 'x' is not supported"),
    (_choose('<else condition="true"/>'), "<else> is not allowed inside <choose>"),
    (_choose('<when condition="@(context.Subscription.Id)"/>'), "needs a bool expression"),
    (_choose('<when condition="true"><forward-request/></when>'), "<forward-request> is not allowed in the inbound"),
])
def test_refusals(xml: str, message: str) -> None:
    assert message in str(rejected(document(inbound=xml)))


def _branch(headers: list[tuple[str, str]]) -> object:
    policy = api(inbound=_choose(
        f'<when condition="@(context.Request.Headers.GetValueOrDefault(&quot;x-tier&quot;) == &quot;gold&quot;)">'
        f'{VAR.format("gold")}</when>',
        f'<when condition="@(context.Request.Headers.GetValueOrDefault(&quot;x-tier&quot;, &quot;&quot;) != &quot;&quot;)">'
        f'{VAR.format("other")}</when>',
        f"<otherwise>{VAR.format('none')}</otherwise>",
    ))
    return execute([None, policy], headers=headers, **URL).variables["branch"]


def test_the_first_matching_branch_runs_else_otherwise() -> None:
    assert _branch([("x-tier", "gold")]) == "gold"
    assert _branch([("x-tier", "silver")]) == "other"
    assert _branch([]) == "none"


def test_constant_conditions_and_no_otherwise() -> None:
    ctx = execute([None, api(inbound=_choose(f'<when condition="false">{VAR.format("a")}</when>',
                                             f'<when condition="True">{VAR.format("b")}</when>'))], **URL)
    assert ctx.variables["branch"] == "b"
    nothing = execute([None, api(inbound=_choose(f'<when condition="false">{VAR.format("a")}</when>'))], **URL)
    assert "branch" not in nothing.variables
