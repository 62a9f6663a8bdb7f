"""The summary analysis and the redaction on tiny hand-made tables: every edge of a region's share and latency,
of "the slowest requests" and of each probable cause, and which secrets are masked (test_report_analysis.py runs
the same code on the shared sample run)."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pytest

from toolkit.report.frame import requests_frame
from toolkit.report.redact import MASK, Redactor, environment_secrets, is_credential_name
from toolkit.report.summary import (
    _ms,
    _present,
    _text,
    probable_cause,
    region_table,
    scenario_table,
    slowest_requests,
)
from toolkit.validate.observations import Observation, ObservationLog
from toolkit.validate.runner import ValidationRun
from toolkit.validate.verdict import Outcome, Verdict


def _frame(*rows: dict[str, Any]) -> Any:
    """The requests table of one observation per row (defaults: a 200 from East US in load-balancing)."""
    log = ObservationLog()
    for index, row in enumerate(rows):
        fields: dict[str, Any] = {"time": 1_800_000_000.0 + index, "scenario": "load-balancing", "prompt_id": f"p{index}",
                                  "status": 200, "latency_ms": 10.0, "backend": "eastus", "region": "East US",
                                  "cache_hit": False, "prompt_tokens": 10, "completion_tokens": 5, "retry_after": None,
                                  "trace_id": None, "completion_id": None, **row}
        log.add(Observation(**fields))
    return requests_frame(ValidationRun([], log))


# -- region_table ------------------------------------------------------------------------------------------

def test_regions_are_sorted_with_their_share_of_routed_requests_and_latency_figures() -> None:
    frame = _frame({"region": "West US", "latency_ms": 7.0}, {"latency_ms": 10.0}, {"latency_ms": 20.0},
                   {"latency_ms": 31.0}, {"region": None, "backend": None, "status": 503, "latency_ms": 900.0},
                   {"region": "Sweden Central", "latency_ms": 1.0}, {"region": "Sweden Central", "latency_ms": 2.0})
    assert region_table(frame) == [
        {"region": "East US", "requests": 3, "share": 50.0,
         "latency_ms": {"mean": 20.33, "p50": 20.0, "p90": 28.8, "p99": 30.78}},
        {"region": "Sweden Central", "requests": 2, "share": 33.33,
         "latency_ms": {"mean": 1.5, "p50": 1.5, "p90": 1.9, "p99": 1.99}},
        {"region": "West US", "requests": 1, "share": 16.67,
         "latency_ms": {"mean": 7.0, "p50": 7.0, "p90": 7.0, "p99": 7.0}},
    ]


def test_no_routed_request_means_no_region_rows() -> None:
    assert region_table(_frame({"region": None, "backend": None, "status": 0})) == []


@pytest.mark.parametrize(("value", "expected"), [(1.23456, 1.23), (2.0, 2.0), (math.nan, None), (float("inf"), math.inf)])
def test_milliseconds_are_rounded_to_two_decimals_and_nan_is_none(value: float, expected: float | None) -> None:
    assert _ms(value) == expected


# -- slowest_requests ----------------------------------------------------------------------------------------

def test_the_slowest_include_the_90th_percentile_itself_and_stop_at_the_limit() -> None:
    frame = _frame(*({"latency_ms": 5.0} for _ in range(12)))  # every request is at the 90th percentile
    assert len(slowest_requests(frame)) == 10 and len(slowest_requests(frame, limit=3)) == 3


def test_a_slow_requests_row_names_everything_known_about_it() -> None:
    frame = _frame(*({"latency_ms": 10.0} for _ in range(9)),
                   {"latency_ms": 99.0, "status": 503, "backend": None, "region": None, "prompt_id": "x"})
    assert slowest_requests(frame) == [{"time": 1_800_000_009.0, "scenario": "load-balancing", "prompt_id": "x",
                                        "status": 503, "latency_ms": 99.0, "backend": None, "region": None,
                                        "cause": "breaker open (backends taken out of the pool)"}]
    assert slowest_requests(_frame({"latency_ms": 3.0}))[0]["backend"] == "eastus"
    assert slowest_requests(_frame({"latency_ms": 3.0}))[0]["region"] == "East US"


def test_an_empty_table_has_no_slowest_requests() -> None:
    assert slowest_requests(_frame()) == []


# -- probable_cause ------------------------------------------------------------------------------------------

BACKEND_LATENCY = "backend latency (no throttling, retry or breaker seen)"
RETRIED = "retried (a backend failed just before; the gateway's retry went on to another)"


def _cause_of_last(*rows: dict[str, Any]) -> str:
    frame = _frame(*rows)
    return probable_cause(frame, frame.index[-1])


@pytest.mark.parametrize(("last", "cause"), [
    ({"status": 429}, "throttled (429 / Retry-After)"),
    ({"retry_after": 3.0}, "throttled (429 / Retry-After)"),  # a Retry-After alone says throttled too
    ({"status": 503}, "breaker open (backends taken out of the pool)"),
    ({"phase": "pool-out"}, "breaker open (backends taken out of the pool)"),
    ({"status": 504}, BACKEND_LATENCY),
    ({"scenario": "semantic-cache"}, "cache miss (answered by a backend)"),
    ({"scenario": "semantic-cache", "cache_hit": True}, BACKEND_LATENCY),
    ({"prompt_tokens": 45}, "large request (45 prompt tokens; typical 10)"),  # 4.5 x the median
    ({"prompt_tokens": 40}, BACKEND_LATENCY),  # 4 x is not more than 4 x
])
def test_each_probable_cause(last: dict[str, Any], cause: str) -> None:
    assert _cause_of_last({}, {}, {}, last) == cause


@pytest.mark.parametrize(("failure", "cause"), [
    ({"status": 429, "backend": "westus"}, RETRIED),
    ({"status": 500, "backend": "westus"}, RETRIED),
    ({"status": 499, "backend": "westus"}, BACKEND_LATENCY),
    ({"status": 500, "backend": "eastus"}, BACKEND_LATENCY),  # the same backend: not a retry elsewhere
    ({"status": 500, "backend": None, "region": None}, BACKEND_LATENCY),  # no backend answered
    ({"status": 500, "backend": "westus", "scenario": "auth"}, BACKEND_LATENCY),  # another scenario's request
])
def test_retried_needs_another_backends_failure_of_the_same_scenario(failure: dict[str, Any], cause: str) -> None:
    assert _cause_of_last({}, failure, {}) == cause


def test_retried_looks_three_requests_back_from_the_first_one_on() -> None:
    failure = {"status": 500, "backend": "westus"}
    assert _cause_of_last(failure, {}) == RETRIED  # the window starts at the first request
    assert _cause_of_last({}, failure, {}, {}, {}) == RETRIED  # three back
    assert _cause_of_last({}, failure, {}, {}, {}, {}) == BACKEND_LATENCY  # four back


def test_the_first_request_is_warming_up() -> None:
    frame = _frame({})
    assert probable_cause(frame, frame.index[0]) == "first request (connections and the model warming up)"


def test_an_unknown_typical_prompt_size_is_never_a_large_request() -> None:
    assert _cause_of_last({"prompt_tokens": None}, {"prompt_tokens": None}, {"prompt_tokens": 90}) == BACKEND_LATENCY
    assert _cause_of_last({}, {"prompt_tokens": None}) == BACKEND_LATENCY


@pytest.mark.parametrize(("value", "present"), [(None, False), (math.nan, False), (pd.NA, False), (0, True),
                                                ("", True), (False, True)])
def test_present_means_known(value: Any, present: bool) -> None:
    assert _present(value) is present


def test_text_is_none_when_unknown() -> None:
    assert (_text(pd.NA), _text(None), _text(3), _text("a")) == (None, None, "3", "a")


def test_the_scenario_table_rounds_seconds_to_a_tenth() -> None:
    run = ValidationRun([Verdict("auth", Outcome.FAIL, "why", requests=7, seconds=1.26)], ObservationLog())
    assert scenario_table(run) == [{"scenario": "auth", "verdict": "fail", "requests": 7, "seconds": 1.3,
                                    "sentence": "why"}]


# -- redaction -----------------------------------------------------------------------------------------------

def test_secrets_of_six_characters_or_more_are_masked_the_longest_first() -> None:
    redact = Redactor(["bcdefg", "abcdefgh", "12345", "", None, "123456"])
    assert redact("abcdefgh bcdefg 12345 123456") == f"{MASK} {MASK} 12345 {MASK}"


def test_secret_environment_variables_are_those_named_so_with_a_value() -> None:
    environ = {"APIM_SUBSCRIPTION_KEY": "k-value", "azure_client_secret": "s-value", "AZURE_PASSWORD": "",
               "MY_TOKEN": "t-value", "HOME": "/root", "PATH": "/bin"}
    assert environment_secrets(environ) == ["k-value", "s-value", "t-value"]


@pytest.mark.parametrize(("name", "credential"), [
    ("api-key", True), ("Ocp-Apim-Subscription-Key", True), ("Authorization", True), ("client_secret", True),
    ("code", True), ("sig", True), ("access_token", True), ("PASSWORD", True), ("pwd", True),
    ("api-version", False), ("x-authorization-mode", False), ("region", False),
])
def test_a_credential_is_named_so(name: str, credential: bool) -> None:
    assert is_credential_name(name) is credential
