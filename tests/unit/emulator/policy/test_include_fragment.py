"""<include-fragment>: existence and section checks at publish, current content at request time."""

from __future__ import annotations

import pytest
from .policy_helpers import FakeServices, api, assert_sections, document, execute, rejected

from toolkit.emulator.policy import compile_policy
from toolkit.emulator.policy.registry import SECTIONS

URL = {"backend_url": "http://backend.test"}
HEADER = '<fragment><set-header name="x-fragment" exists-action="override"><value>{}</value></set-header></fragment>'
FORWARD = "<fragment><forward-request/></fragment>"


def test_sections_follow_the_fragments_content() -> None:
    assert_sections('<include-fragment fragment-id="h"/>', SECTIONS, fragments={"h": HEADER.format(1)})
    assert_sections('<include-fragment fragment-id="f"/>', ("backend",), fragments={"f": FORWARD})


def test_the_refusal_names_the_fragment_and_its_element() -> None:
    error = rejected(document(inbound='<include-fragment fragment-id="f"/>'), fragments={"f": FORWARD})
    assert ("policy fragment 'f' holds <forward-request> (its line 1): <forward-request> is not allowed in the "
            "inbound section") in str(error)


@pytest.mark.parametrize("scope", ["global", "api", "operation"])
def test_a_fragment_is_judged_at_the_scope_it_is_included_in(scope: str) -> None:
    # A <quota> is allowed at product scope only: hidden in a fragment it was accepted at every scope.
    quota = '<fragment><quota calls="1" renewal-period="60"/></fragment>'
    error = rejected(document(inbound='<include-fragment fragment-id="q"/>'), scope, fragments={"q": quota})
    assert f"policy fragment 'q' holds <quota> (its line 1): <quota> is not allowed at {scope} scope" in str(error)
    compile_policy(document(inbound='<include-fragment fragment-id="q"/>'), "product", fragments={"q": quota})


def test_once_per_section_counts_what_fragments_hold() -> None:
    limit = '<fragment><rate-limit calls="1" renewal-period="60"/></fragment>'
    error = rejected(document(inbound='<rate-limit calls="2" renewal-period="60"/><include-fragment fragment-id="r"/>'),
                     fragments={"r": limit})
    assert "<rate-limit> may appear only once in the inbound section" in str(error)
    twice = rejected(document(inbound='<include-fragment fragment-id="r"/><include-fragment fragment-id="r"/>'),
                     fragments={"r": limit})
    assert "may appear only once" in str(twice)


def test_refusals() -> None:
    assert "policy fragment 'ghost' does not exist" in str(
        rejected(document(inbound='<include-fragment fragment-id="ghost"/>')))
    assert "expressions are not allowed" in str(
        rejected(document(inbound='<include-fragment fragment-id="@(&quot;a&quot;)"/>')))
    broken = rejected(document(inbound='<include-fragment fragment-id="x"/>'), fragments={"x": "<fragment><nope/></fragment>"})
    assert "policy fragment 'x', line 1: unknown policy element <nope>" in str(broken)


def test_a_fragment_may_not_include_a_fragment() -> None:
    # policy-fragments.md, Limitations: "Currently, a policy fragment can't nest another policy fragment."
    nested = '<fragment>\n  <include-fragment fragment-id="inner"/>\n</fragment>'
    error = rejected(nested, scope="fragment", fragments={"inner": HEADER.format(1)})
    assert (error.reason, error.line) == ("<include-fragment> is not allowed at fragment scope", 2)
    including = rejected(document(inbound='<include-fragment fragment-id="outer"/>'), fragments={"outer": nested})
    assert "policy fragment 'outer', line 2: <include-fragment> is not allowed at fragment scope" in str(including)


def test_runs_the_current_fragment_content() -> None:
    services = FakeServices()
    policy = api(inbound='<include-fragment fragment-id="h"/>', fragments={"h": HEADER.format("v1")})
    services.fragments["h"] = compile_policy(HEADER.format("v2"), "fragment")
    execute([None, policy], services, **URL)
    assert services.calls[0]["headers"]["x-fragment"] == "v2"


def test_a_fragment_removed_after_publish_fails_the_request() -> None:
    policy = api(inbound='<include-fragment fragment-id="h"/>', fragments={"h": HEADER.format(1)})
    ctx = execute([None, policy], FakeServices(), **URL)
    assert (ctx.response_status, ctx.last_error_reason) == (500, "FragmentNotFound")
