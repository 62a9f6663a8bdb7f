"""`toolkit emulator start`: the local APIM + Azure OpenAI emulator in the foreground."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

import click

from toolkit.cli._output import info, out
from toolkit.errors import InputError


@click.group("emulator")
def cli() -> None:
    """The local emulator of APIM and Azure OpenAI backends (loopback only)."""


@cli.command("start")
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address to listen on.")
@click.option("--port", default=8080, show_default=True, type=int, help="Gateway port (0: any free port).")
@click.option("--management-port", default=0, type=int, help="Management (ARM, https) port; default any free port.")
@click.option("--control-port", default=0, type=int, help="Control API port; default any free port.")
@click.option("--state", "state_file", default=None, type=click.Path(dir_okay=False),
              help="Persist what is published to this JSON file, and load it at start.")
@click.option("--config", "config_path", default="toolkit.yaml", envvar="TOOLKIT_CONFIG", show_default=True,
              type=click.Path(dir_okay=False), help="Simulated backends follow this config's local environment, if it exists.")
@click.option("--subscription-key", default=None, envvar="APIM_SUBSCRIPTION_KEY",
              help="Create a subscription with this key (default: a random one, printed).")
@click.option("--token-file", default=None, type=click.Path(dir_okay=False),
              help="Write the management/control token here (mode 0600) "
                   "[default: ~/.toolkit/emulator/<control port>.token, where clients look for it].")
def start(host: str, port: int, management_port: int, control_port: int, state_file: str | None, config_path: str,
          subscription_key: str | None, token_file: str | None) -> None:
    """Run the emulator until Ctrl-C; print its URLs, and on a terminal a subscription key and the API token."""
    from toolkit.config import load_config
    from toolkit.emulator.access import TOKEN_ENV, URL_ENV, token_file_for, write_token_file
    from toolkit.emulator.hosting import require_loopback
    from toolkit.emulator.runtime import Emulator

    require_loopback(host)
    config = load_config(config_path, "local") if Path(config_path).is_file() else None
    emulator = Emulator.from_config(config, host=host, gateway_port=port, management_port=management_port,
                                    control_port=control_port, state_file=state_file)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    emulator.start()
    token_path = Path(token_file) if token_file else token_file_for(emulator.control_url)
    try:
        try:
            write_token_file(token_path, emulator.control_token)
        except OSError as exc:
            raise InputError(f"{token_path}: cannot write the emulator's token file ({exc.strerror or exc})",
                             hint="choose another place with --token-file") from None
        key = emulator.create_subscription("default", key=subscription_key)
        out(f"management  {emulator.management_url}  (CA bundle: {emulator.ca_bundle_path})")
        out(f"gateway     {emulator.gateway_url}")
        out(f"control     {emulator.control_url}")
        out(f"export {URL_ENV}={emulator.control_url}")
        out(f"export APIM_BASE_URL={emulator.gateway_url}")
        # Keys and tokens are secrets: shown to a person at a terminal, never written into a CI log.
        if sys.stdout.isatty():
            out(f"export {TOKEN_ENV}={emulator.control_token}")
        where = (f"clients read it from there or from {TOKEN_ENV}" if not token_file else
                 f"clients look for it at {token_file_for(emulator.control_url)} only: give them "
                 f"{TOKEN_ENV}=\"$(cat {token_path})\"")
        info(f"management/control API token written to {token_path} (mode 0600; {where})")
        if not subscription_key:
            if sys.stdout.isatty():
                out(f"export APIM_SUBSCRIPTION_KEY={key}")
            else:
                info("subscription 'default' created; pass --subscription-key (or APIM_SUBSCRIPTION_KEY) to choose its key")
        info("emulator running; Ctrl-C stops it")
        while not stop.wait(0.5):
            pass
    finally:
        emulator.stop()
        _remove_token_file(token_path, emulator.control_token)
        info("emulator stopped")


def _remove_token_file(path: Path, token: str) -> None:
    """Delete the token file if it still holds this run's token (another run may have replaced it)."""
    try:
        if path.read_text(encoding="utf-8").strip() == token:
            path.unlink()
    except (OSError, UnicodeDecodeError):
        pass
