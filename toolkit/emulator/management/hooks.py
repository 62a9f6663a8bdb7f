"""The seam between the management plane and the policy engine: policy scopes and the validator hook.

The management plane hands every policy document (global, API, operation, fragment) to a
``PolicyValidator`` at PUT time, in its *rawxml* form (policy expressions unescaped, as APIM and
the APIOps extractor store them). The validator raises :class:`PolicyRejected` to refuse it; the
plane answers 400 ``ValidationError`` with the message and line. The policy engine provides the
real validator; :func:`well_formed_policy_validator` (the default) only checks the XML.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from enum import Enum
from typing import Any

from toolkit.errors import InputError


class PolicyScope(str, Enum):
    """Where a policy document is attached."""

    GLOBAL = "global"
    API = "api"
    OPERATION = "operation"
    FRAGMENT = "fragment"


class PolicyRejected(InputError):
    """A policy document the gateway cannot accept; ``reason`` and ``line`` (1-based, if known)."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(f"line {line}: {message}" if line is not None else message)
        self.reason = message
        self.line = line


PolicyValidator = Callable[[str, PolicyScope], None]


def well_formed_policy_validator(xml: str, scope: PolicyScope) -> None:
    """Default validator: the document must be well-formed XML (raw policy expressions allowed)."""
    from toolkit.artifacts.policy_xml import PolicyXmlError, parse_policy

    try:
        parse_policy(xml, f"<{scope.value} policy>")
    except PolicyXmlError as exc:
        raise PolicyRejected(exc.reason, exc.line) from None


DEFAULT_COMPILE_TIMEOUT = 10.0


def time_bounded(validator: PolicyValidator, seconds: float = DEFAULT_COMPILE_TIMEOUT) -> PolicyValidator:
    """``validator`` with a time bound: a document it has not judged within ``seconds`` is refused.

    The validation runs in a daemon thread (Python cannot interrupt a running compile); after the bound its
    result is ignored and the PUT is refused, so nothing waits on it and nothing is written.
    """

    def bounded(xml: str, scope: PolicyScope) -> None:
        outcome: dict[str, Any] = {}
        done = threading.Event()

        def run() -> None:
            try:
                validator(xml, scope)
            except BaseException as exc:  # noqa: BLE001 - handed back to the caller's thread
                outcome["error"] = exc
            finally:
                done.set()

        threading.Thread(target=run, name="toolkit-policy-compile", daemon=True).start()
        if not done.wait(seconds):
            raise PolicyRejected(f"compiling the {scope.value} policy took longer than {seconds:g} s "
                                 f"(the local emulator's bound; {len(xml)} characters)")
        if "error" in outcome:
            raise outcome["error"]

    return bounded
