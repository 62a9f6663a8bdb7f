"""``<cors>``: answer CORS preflights and add CORS headers to responses for allowed origins."""

from __future__ import annotations

from typing import Any

from toolkit.emulator.policy.document import Policy
from toolkit.emulator.policy.errors import EndRequest
from toolkit.emulator.policy.headers import HeaderMap
from toolkit.emulator.policy.registry import handler

LISTS = {"allowed-origins": "origin", "allowed-methods": "method", "allowed-headers": "header",
         "expose-headers": "header"}


@handler("cors", sections=("inbound",), attributes=("allow-credentials", "terminate-unmatched-request"),
         children=tuple(LISTS), once_per_section=True,
         notes="A preflight (OPTIONS with Origin and Access-Control-Request-Method) from an allowed origin is "
         "answered 200 with the Access-Control-Allow-* headers; other requests from an allowed origin get "
         "Access-Control-Allow-Origin (and -Credentials, -Expose-Headers) on the response. An unmatched preflight "
         "ends with 200 and no CORS headers when terminate-unmatched-request is true (the default), else "
         "goes on. * is allowed in every list.")
class Cors(Policy):
    """Cross-origin resource sharing."""

    __slots__ = ("lists", "credentials", "terminate", "max_age")

    def __init__(self, lists: dict[str, tuple[str, ...]], credentials: bool, terminate: bool,
                 max_age: int | None) -> None:
        super().__init__()
        self.lists, self.credentials, self.terminate, self.max_age = lists, credentials, terminate, max_age

    @classmethod
    def compile(cls, element: Any, cc: Any) -> Cors:
        """The four lists (allowed-origins is required) and the switches."""
        lists: dict[str, tuple[str, ...]] = {}
        max_age = None
        for child in cc.child_elements(element, tuple(LISTS)):
            item = LISTS[child.tag]
            cc.check_attributes(child, ("preflight-result-max-age",) if child.tag == "allowed-methods" else ())
            if child.tag == "allowed-methods":
                max_age = cc.integer(child, "preflight-result-max-age", minimum=0).constant
            values = []
            for entry in cc.child_elements(child, (item,)):
                cc.check_attributes(entry, ())
                cc.child_elements(entry, (), text=True)
                values.append(cc.text(entry))
            lists[child.tag] = tuple(values)
        if not lists.get("allowed-origins"):
            raise cc.reject(element, "<cors> needs <allowed-origins> with at least one <origin>")
        credentials = cc.boolean(element, "allow-credentials", False)
        if credentials and "*" in lists["allowed-origins"]:
            raise cc.reject(element, "<cors>: allow-credentials=\"true\" cannot be used with the wildcard origin *")
        return cls(lists, credentials, cc.boolean(element, "terminate-unmatched-request", True), max_age)

    def _allows(self, name: str, value: str, *, fold: bool = True) -> bool:
        allowed = self.lists.get(name, ())
        if "*" in allowed:
            return True
        return value.lower() in {a.lower() for a in allowed} if fold else value in allowed

    async def run(self, ctx: Any, services: Any) -> None:
        """Answer a preflight or arrange the response headers."""
        origin = ctx.request_header("origin")
        if origin is None:
            return
        preflight = ctx.request_method == "OPTIONS" and ctx.request_header("access-control-request-method")
        matched = self._allows("allowed-origins", origin, fold=False)
        if preflight:
            method = ctx.request_header("access-control-request-method") or ""
            wanted = [h.strip() for h in (ctx.request_header("access-control-request-headers") or "").split(",")
                      if h.strip()]
            ok = matched and self._allows("allowed-methods", method) and all(
                self._allows("allowed-headers", h) for h in wanted)
            if not ok and not self.terminate:
                return
            headers = HeaderMap()
            if ok:
                headers.set("Access-Control-Allow-Origin", [origin])
                headers.set("Access-Control-Allow-Methods", [method])
                if wanted:
                    headers.set("Access-Control-Allow-Headers", [", ".join(wanted)])
                if self.credentials:
                    headers.set("Access-Control-Allow-Credentials", ["true"])
                if self.max_age is not None:
                    headers.set("Access-Control-Max-Age", [str(self.max_age)])
            ctx.set_response(200, "OK", headers, b"")
            ctx.note("cors", "preflight " + ("allowed" if ok else "refused"))
            raise EndRequest
        if matched:
            ctx.add_hook(_CorsHeaders(self, origin))

    def headers_for(self, origin: str) -> list[tuple[str, str]]:
        out = [("Access-Control-Allow-Origin", origin if self.credentials or "*" not in self.lists["allowed-origins"]
                else "*")]
        if self.credentials:
            out.append(("Access-Control-Allow-Credentials", "true"))
        if self.lists.get("expose-headers"):
            out.append(("Access-Control-Expose-Headers", ", ".join(self.lists["expose-headers"])))
        return out


class _CorsHeaders:
    __slots__ = ("policy", "origin")

    def __init__(self, policy: Cors, origin: str) -> None:
        self.policy, self.origin = policy, origin

    async def after_backend(self, ctx: Any, services: Any) -> None:
        for name, value in self.policy.headers_for(self.origin):
            ctx.response_headers.set(name, [value])

    def abandon(self, ctx: Any, services: Any) -> None:
        """No backend answer: the response is an error or a returned one; left as it is."""
