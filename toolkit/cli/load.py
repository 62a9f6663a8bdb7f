"""`toolkit load`: a soak of the environment's gateway; throughput, latency and errors per backend."""

from __future__ import annotations

import json

import click

from toolkit.cli._interrupt import sigterm_stops
from toolkit.cli._engine import engine_options
from toolkit.cli._options import config_option, env_option, format_option
from toolkit.cli._output import out


class Duration(click.ParamType):
    name = "duration"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> float:
        from toolkit.errors import InputError
        from toolkit.validate.load import parse_duration

        if isinstance(value, float):
            return value
        try:
            return parse_duration(str(value))
        except InputError as exc:
            self.fail(exc.message, param, ctx)


@click.command("load")
@config_option
@env_option
@engine_options("Concurrent users (Locust: spread over the workers, at least one each).", users_required=True)
@click.option("--duration", type=Duration(), required=True, help="How long to send: 90, 30s, 5m, 1h, 1m30s.")
@format_option("text", "json")
@sigterm_stops
def cli(config_path: str, env_name: str | None, engine: str, users: int, workers: int, duration: float,
        output_format: str) -> None:
    """Soak the gateway with unique prompts (the semantic cache cannot answer) for DURATION.

    Reports requests, throughput, latency p50/p90/p99 and error kinds per backend (from the x-ms-region
    header mapped through each backend's region). Exit 0 when it ran, 3 bad input, 4 the gateway did not
    answer at all, or the emulator's control API refused the token or answered something unexpected.
    """
    from toolkit.validate.load import run_load

    report = run_load(config=config_path, env=env_name, users=users, seconds=duration, engine=engine, workers=workers)
    out(json.dumps(report.to_json(), indent=2) if output_format == "json" else report.to_text())
