"""<include-fragment>: existence and section checks at publish, current content at request time."""

from __future__ import annotations

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
    assert "policy fragment 'f' holds <forward-request> (its line 1), which is not allowed in the inbound" in str(error)


def test_refusals() -> None:
    assert "policy fragment 'ghost' does not exist" in str(
        rejected(document(inbound='<include-fragment fragment-id="ghost"/>')))
    assert "expressions are not allowed" in str(
        rejected(document(inbound='<include-fragment fragment-id="@(&quot;a&quot;)"/>')))
    cycle = {"a": '<fragment><include-fragment fragment-id="b"/></fragment>',
             "b": '<fragment><include-fragment fragment-id="a"/></fragment>'}
    error = rejected(document(inbound='<include-fragment fragment-id="a"/>'), fragments=cycle)
    assert "cycle: a -> b -> a" in str(error)
    broken = rejected(document(inbound='<include-fragment fragment-id="x"/>'), fragments={"x": "<fragment><nope/></fragment>"})
    assert "policy fragment 'x', line 1: unknown policy element <nope>" in str(broken)


def test_nested_fragment_content_is_checked_where_the_outer_one_is_included() -> None:
    fragments = {"outer": '<fragment><include-fragment fragment-id="inner"/></fragment>', "inner": FORWARD}
    error = rejected(document(outbound='<include-fragment fragment-id="outer"/>'), fragments=fragments)
    assert "holds <forward-request>" in str(error)
    api(backend='<include-fragment fragment-id="outer"/>', fragments=fragments)


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
