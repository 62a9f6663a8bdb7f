"""--engine / --users / --workers: which engine sends the traffic (validate and load share them)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def engine_options(users_help: str, users_required: bool = False) -> Callable[[F], F]:
    def decorate(func: F) -> F:
        func = click.option("--workers", type=click.IntRange(0, 256), default=2, show_default=True,
                            help="Local Locust worker processes (--engine locust; remote ones attach too, see "
                                 "the README).")(func)
        func = click.option("--users", type=click.IntRange(1, 100_000), default=None, required=users_required,
                            help=users_help)(func)
        return click.option("--engine", type=click.Choice(("builtin", "locust")), default="builtin",
                            show_default=True, help="What sends the traffic: this process, or Locust (a master "
                                                    "and --workers worker processes).")(func)
    return decorate
