"""Terminal output helpers: the only place verbs print through."""

from __future__ import annotations

import click


def info(message: str) -> None:
    """A progress or summary line on stderr (stdout stays clean for machine formats)."""
    click.echo(message, err=True)


def out(text: str) -> None:
    """Command output on stdout."""
    click.echo(text, nl=not text.endswith("\n"))


def listing(title: str, items: list[str], *, marker: str = "  ") -> None:
    """A titled list on stderr."""
    info(title)
    for item in items:
        info(f"{marker}{item}")
