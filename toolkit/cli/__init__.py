"""The `toolkit` command: a click group whose verbs load lazily, one module per verb.

This is the only layer that prints and the only place that turns exceptions into exit codes.
"""

from __future__ import annotations

import importlib
import importlib.util
import traceback
from typing import Any

import click

from toolkit import __version__
from toolkit.errors import BUG_HINT, EXIT_BUG, ToolkitError, internal_error

# verb -> (module, one-line help). The help is here so `toolkit --help` imports no verb module.
VERBS: dict[str, tuple[str, str]] = {
    "render": ("toolkit.cli.render", "Render policies/ templates from toolkit.yaml into the APIOps tree."),
    "lint": ("toolkit.cli.lint", "Check an APIOps tree for APIM mistakes (any tree, not only ours)."),
    "plan": ("toolkit.cli.plan", "Show what apply would create, update or delete on the target."),
    "apply": ("toolkit.cli.apply", "Publish the rendered artifacts to APIM (Azure or the emulator)."),
    "pull": ("toolkit.cli.pull", "Write the live state of an APIM instance as an APIOps tree."),
    "emulator": ("toolkit.cli.emulator", "Run the local APIM + Azure OpenAI emulator."),
    "validate": ("toolkit.cli.validate", "Prove with traffic that the deployed gateway behaves as configured."),
    "load": ("toolkit.cli.load", "Soak the gateway: throughput, latency percentiles and errors per backend."),
    "demo": ("toolkit.cli.demo", "Run the whole loop on the local emulator (no Azure account)."),
}


class LazyGroup(click.Group):
    """Loads a verb's module only when that verb runs (keeps `toolkit --help` fast)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name, (module, _) in VERBS.items() if importlib.util.find_spec(module) is not None)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in VERBS:
            return None
        module_name, _ = VERBS[name]
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                return None
            raise
        command: click.Command = module.cli
        return command

    def invoke(self, ctx: click.Context) -> Any:
        """Run the verb; the one place where errors become messages and documented exit codes."""
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort):
            raise
        except ToolkitError as exc:
            if ctx.params.get("debug"):
                traceback.print_exc()
            report_error(exc)
            raise click.exceptions.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            raise click.exceptions.Exit(130) from None
        except Exception as exc:  # noqa: BLE001 - bugs become exit 70, with a traceback only on --debug
            if ctx.params.get("debug"):
                traceback.print_exc()
            click.echo(f"error: {internal_error(exc)}", err=True)
            click.echo(f"{BUG_HINT.capitalize()}.", err=True)
            raise click.exceptions.Exit(EXIT_BUG) from None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, VERBS[name][1]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="toolkit")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors (off: a one-line message).")
@click.pass_context
def root(ctx: click.Context, debug: bool) -> None:
    """APIM AI gateway as code: render, lint, publish, and prove that the gateway behaves as configured.

    \b
    Exit codes: 0 ok, 1 findings, 2 usage, 3 bad input, 4 remote error,
                5 inconclusive validation, 70 internal bug, 130 interrupted (Ctrl-C).
    """
    ctx.obj = {"debug": debug}


def main(argv: list[str] | None = None) -> None:
    """Console entry point."""
    root.main(args=argv, prog_name="toolkit")


def report_error(exc: ToolkitError) -> None:
    """Print a ToolkitError as `error: message` plus its hint."""
    click.echo(f"error: {exc.message}", err=True)
    if exc.hint:
        click.echo(f"hint: {exc.hint}", err=True)
