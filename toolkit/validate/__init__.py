"""`toolkit validate`: prove with traffic that a deployed gateway behaves as its configuration says.

    config + artifacts --expectations--> what should happen
    target (emulator gateway + control API, or APIM on Azure) --traffic--> observations (one table)
    observations --statistics--> verdicts (pass / fail / inconclusive, numbers, one sentence)

Modules: `api` (the library call), `runner`, `context`, `target` and `control` (where traffic goes;
the control API client), `traffic` and `observations` (requests and their rows), `expectations`,
`settings` (validations/<scenario>.yaml), `stats` and `shares`, `verdict`, `scenarios/` (one per scenario).
"""

from __future__ import annotations

from toolkit.validate.api import validate
from toolkit.validate.runner import ValidationRun
from toolkit.validate.verdict import Outcome, Verdict

__all__ = ["Outcome", "ValidationRun", "Verdict", "validate"]


class _CallableModule(__import__("types").ModuleType):
    """`toolkit.validate(...)` is the library call, yet `toolkit.validate` is also this package (Python
    binds a subpackage to its parent's attribute on import): calling the package calls `validate`."""

    def __call__(self, *args: object, **kwargs: object) -> ValidationRun:
        return validate(*args, **kwargs)  # type: ignore[arg-type]


__import__("sys").modules[__name__].__class__ = _CallableModule
