"""<base/>: allowed in every section, only as a direct child, once, never in a fragment."""

from __future__ import annotations

from .policy_helpers import FakeServices, api, assert_sections, document, execute, rejected

from toolkit.emulator.policy import compile_policy
from toolkit.emulator.policy.registry import SECTIONS


def test_sections() -> None:
    assert_sections("<base/>", SECTIONS)


def test_refused_nested_twice_and_in_fragments() -> None:
    nested = rejected(document(inbound='<choose><when condition="true"><base/></when></choose>'))
    assert "must be a direct child of its section" in str(nested)
    twice = rejected(document(inbound="<base/><base/>"))
    assert "may appear only once in the inbound section" in str(twice)
    fragment = rejected("<fragment><base/></fragment>", scope="fragment")
    assert "<base> is not allowed at fragment scope" in str(fragment)


def test_at_global_scope_base_does_nothing() -> None:
    glob = compile_policy(document(inbound="<base/>", backend="<base/><forward-request/>"), "global")
    services = FakeServices()
    ctx = execute([glob], services, backend_url="http://backend.test")
    assert len(services.calls) == 1 and ctx.response_status == 200


def test_runs_the_parent_section_at_its_position() -> None:
    glob = compile_policy(document(
        backend="<forward-request/>",
        outbound='<set-header name="x" exists-action="override"><value>global</value></set-header>',
    ), "global")
    before = api(outbound='<set-header name="x" exists-action="override"><value>api</value></set-header><base/>')
    after = api(outbound='<base/><set-header name="x" exists-action="override"><value>api</value></set-header>')
    backend = {"backend_url": "http://backend.test"}
    assert execute([glob, before], **backend).response_headers.get("x") == "global"
    assert execute([glob, after], **backend).response_headers.get("x") == "api"
