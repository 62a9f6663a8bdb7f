"""The part json-to-xml and xml-to-json share: which body to convert, and when."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def convert_body(ctx: Any, converter: Callable[[bytes], bytes | None], *, content_word: str | None,
                 accept_word: str | None) -> None:
    """Convert the request body (inbound) or the response body with ``converter``.

    ``content_word``: convert only when the body's content-type contains it (apply="content-type-…");
    ``accept_word``: only when the caller's Accept contains it (consider-accept-header). The
    content-type becomes ``application/<accept_word or the target>``; a body the converter cannot
    read is left as it is.
    """
    response = ctx.section != "inbound"
    if response and ctx.response_status is None:
        return
    headers = ctx.response_headers if response else ctx.request_headers
    if content_word is not None and content_word not in (headers.get("content-type") or "").lower():
        return
    if accept_word is not None and accept_word not in (ctx.request_header("accept") or "").lower():
        return
    converted = converter(ctx.response_body if response else ctx.request_body)
    if converted is None:
        return
    target = "xml" if converted.lstrip().startswith(b"<") else "json"
    headers.set("content-type", [f"application/{target}"])
    (ctx.set_response_body if response else ctx.set_request_body)(converted)
