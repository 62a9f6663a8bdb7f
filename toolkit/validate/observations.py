"""Every request validation sends, as one row of one table (pandas-friendly; reports build on it)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

# The columns of requests.csv, in order (issue 11): what each request was and what came back.
COLUMNS = ("time", "scenario", "prompt_id", "status", "latency_ms", "backend", "region", "cache_hit",
           "prompt_tokens", "completion_tokens", "retry_after", "trace_id", "completion_id", "phase")


@dataclass(frozen=True)
class Observation:
    """One request and its response, as seen by a client (nothing read from the target's internals)."""

    time: float                 # epoch seconds when the request was sent
    scenario: str
    prompt_id: str              # e.g. "set2-3", "lb-17", "jwt-expired"
    status: int                 # HTTP status (0: no response: connection failed or timed out)
    latency_ms: float
    backend: str | None         # mapped from the region header through each backend's region
    region: str | None          # the region header as sent by the target
    cache_hit: bool             # the completion id was seen before (a cached answer repeats it)
    prompt_tokens: int | None
    completion_tokens: int | None
    retry_after: float | None
    trace_id: str | None
    completion_id: str | None
    phase: str = ""             # the scenario's step ("healthy", "primary-down", "recovered"...)
    remaining_tokens: int | None = None   # the token limit's remaining-tokens header, when configured

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class ObservationLog:
    """All observations of a run, in order; `to_frame()` gives the pandas DataFrame."""

    def __init__(self) -> None:
        self.rows: list[Observation] = []

    def add(self, observation: Observation) -> Observation:
        self.rows.append(observation)
        return observation

    def for_scenario(self, scenario: str) -> list[Observation]:
        return [row for row in self.rows if row.scenario == scenario]

    def records(self) -> list[dict[str, Any]]:
        """Plain dicts with every column (``COLUMNS`` first)."""
        return [asdict(row) for row in self.rows]

    def to_frame(self) -> Any:
        """A pandas DataFrame, one row per request (pandas is imported only here)."""
        import pandas as pd

        names = [f.name for f in fields(Observation)]
        return pd.DataFrame(self.records(), columns=names)

    def __len__(self) -> int:
        return len(self.rows)
