"""The exception tree. Each class carries its exit code and an optional hint.

Findings (lint violations, failed scenarios, plan changes) are data, never exceptions.
Exceptions are for things that stop a command: bad input, remote failures, bugs.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_BAD_INPUT = 3
EXIT_REMOTE = 4
EXIT_INCONCLUSIVE = 5
EXIT_BUG = 70
# An apply stopped by Ctrl-C or SIGTERM (a cancelled CI job) after rolling back everything it wrote:
# 128 + SIGINT, the code shells and CI runners already read as "stopped by the user", kept apart from
# 4 so a script can tell a clean cancel from a refusal. An interrupted apply that leaves anything
# changed (a second Ctrl-C, a failed undo) exits 4 like every partial apply.
EXIT_INTERRUPTED = 130


BUG_HINT = "this is a bug in toolkit: re-run with --debug for the traceback and report it"


def internal_error(exc: BaseException) -> str:
    """How an exception that is a bug (not a ToolkitError) is named in a message."""
    return f"internal error ({type(exc).__name__}): {exc}"


class ToolkitError(Exception):
    """Base of every error the CLI reports as a message rather than a traceback."""

    exit_code: int = EXIT_BUG

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class InputError(ToolkitError):
    """Bad input from the user: config, templates, artifacts (exit 3)."""

    exit_code = EXIT_BAD_INPUT


class SourceLocation:
    """file:line[:field] of a piece of input, for messages."""

    __slots__ = ("file", "line", "field")

    def __init__(self, file: str | None, line: int | None = None, field: str | None = None) -> None:
        self.file = file
        self.line = line
        self.field = field

    def __str__(self) -> str:
        where = self.file or "<input>"
        if self.line is not None:
            where += f":{self.line}"
        if self.field:
            where += f": {self.field}"
        return where


class ConfigError(InputError):
    """toolkit.yaml (or an environment overlay) is invalid."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        field: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.location = SourceLocation(file, line, field)
        super().__init__(f"{self.location}: {message}", hint=hint)
        self.reason = message


class TemplateError(InputError):
    """A Jinja template under policies/ failed to render."""


class ArtifactError(InputError):
    """An APIOps artifact tree is malformed (bad JSON, bad XML, unknown layout)."""


class RemoteError(ToolkitError):
    """The remote side (Azure, the emulator, a gateway) failed or refused (exit 4)."""

    exit_code = EXIT_REMOTE


class AuthError(RemoteError):
    """Credentials are missing, wrong or unreachable."""


class StalePlanError(RemoteError):
    """A resource changed between plan and apply (ETag mismatch)."""


class ApplyError(RemoteError):
    """A write failed during apply; carries what failed and what was restored."""


class InconclusiveError(ToolkitError):
    """Validation could not decide (exit 5)."""

    exit_code = EXIT_INCONCLUSIVE
