"""Option decorators shared by several verbs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def config_option(func: F) -> F:
    """--config PATH (default toolkit.yaml in the current folder, or $TOOLKIT_CONFIG)."""
    return click.option(
        "--config",
        "config_path",
        default="toolkit.yaml",
        envvar="TOOLKIT_CONFIG",
        show_default=True,
        type=click.Path(dir_okay=False),
        help="The gateway config.",
    )(func)


def env_option(func: F) -> F:
    """--env NAME (an environment of toolkit.yaml; default local)."""
    return click.option(
        "--env", "env_name", default=None, envvar="TOOLKIT_ENV", help="Environment in toolkit.yaml (default: local)."
    )(func)


def features_argument(func: F) -> F:
    """FEATURE... (default all)."""
    from toolkit.render.features import FEATURES

    return click.argument("features", nargs=-1, type=click.Choice(FEATURES))(func)


def format_option(*choices: str) -> Callable[[F], F]:
    """--format with the given choices (first is the default)."""
    return click.option("--format", "output_format", type=click.Choice(choices), default=choices[0], show_default=True,
                        help="Output format.")
