"""``<check-header>``: refuse requests whose header is missing or has none of the allowed values."""

from __future__ import annotations

from typing import Any, NoReturn

from toolkit.emulator.policy.document import Policy
from toolkit.emulator.policy.errors import PolicyError, json_error_body
from toolkit.emulator.policy.registry import handler
from toolkit.emulator.policy.values import text_of

_JSON_TYPE = (("content-type", "application/json; charset=utf-8"),)  # as the pipeline gives its own error bodies


@handler("check-header", sections=("inbound",),
         attributes=("name", "failed-check-httpcode", "failed-check-error-message", "ignore-case"),
         required=("name", "failed-check-httpcode", "failed-check-error-message", "ignore-case"),
         children=("value",),
         notes="The header must exist and, when <value>s are listed, one of its values must equal one of them "
         "(ignore-case compares case-insensitively). Otherwise the request ends with failed-check-httpcode and "
         "the message in APIM's JSON error body; context.LastError is HeaderNotFound or HeaderValueNotAllowed.")
class CheckHeader(Policy):
    """Require a header."""

    __slots__ = ("name", "status", "message", "ignore_case", "values")

    def __init__(self, name: str, status: int, message: str, ignore_case: bool, values: tuple[Any, ...]) -> None:
        super().__init__()
        self.name, self.status, self.message, self.ignore_case, self.values = name, status, message, ignore_case, values

    @classmethod
    def compile(cls, element: Any, cc: Any) -> CheckHeader:
        """The constants and the allowed values."""
        values = []
        for child in cc.child_elements(element, ("value",)):
            cc.check_attributes(child, ())
            cc.child_elements(child, (), text=True)
            values.append(cc.text_value(child, expect="string"))
        return cls(cc.constant(element, "name") or "",
                   cc.integer(element, "failed-check-httpcode", minimum=100, maximum=599).constant,
                   cc.constant(element, "failed-check-error-message") or "",
                   cc.boolean(element, "ignore-case", False), tuple(values))

    async def run(self, ctx: Any, services: Any) -> None:
        """Check the header."""
        present = ctx.request_headers.get_all(self.name)
        if not present:
            self._fail("HeaderNotFound", f"Header {self.name} was not found in the request. Access denied.")
        if self.values:
            allowed = [text_of(v, ctx) for v in self.values]
            seen = [p.strip() for raw in present for p in raw.split(",")]
            if self.ignore_case:
                allowed, seen = [a.lower() for a in allowed], [s.lower() for s in seen]
            if not any(s in allowed for s in seen):
                self._fail("HeaderValueNotAllowed", f"Header {self.name} value of {', '.join(present)} is not "
                           "allowed. Access denied.")

    def _fail(self, reason: str, message: str) -> NoReturn:
        """context.LastError as APIM documents it; the caller gets failed-check-httpcode and -error-message."""
        raise PolicyError(message, source="check-header", reason=reason, status=self.status,
                          headers=_JSON_TYPE, body=json_error_body(self.status, self.message))
