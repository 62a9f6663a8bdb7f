"""Verdicts: the worst check decides, its sentence is the headline, exit codes per DESIGN."""

from __future__ import annotations

from toolkit.validate.verdict import Check, Outcome, combine, exit_code, inconclusive

OK = Check("a", Outcome.PASS, "fine")
BAD = Check("b", Outcome.FAIL, "westus took 31%")
UNSURE = Check("c", Outcome.INCONCLUSIVE, "not enough requests")


def test_fail_beats_inconclusive_beats_pass() -> None:
    assert combine("s", [OK, UNSURE, BAD]).outcome is Outcome.FAIL
    assert combine("s", [OK, UNSURE]).outcome is Outcome.INCONCLUSIVE
    assert combine("s", [OK]).outcome is Outcome.PASS


def test_the_headline_is_the_deciding_sentence() -> None:
    assert combine("s", [OK, UNSURE, BAD]).sentence == "westus took 31%"
    assert combine("s", [OK, UNSURE]).sentence == "not enough requests"


def test_exit_codes() -> None:
    passed, failed, unsure = combine("a", [OK]), combine("b", [BAD]), inconclusive("c", "no faults on Azure")
    assert exit_code([passed]) == 0
    assert exit_code([passed, unsure]) == 5
    assert exit_code([unsure, failed, passed]) == 1


def test_json_shape() -> None:
    document = combine("s", [BAD], expected={"x": 1}, observed={"x": 2}, requests=7).to_json()
    assert document["verdict"] == "fail" and document["requests"] == 7 and document["checks"][0]["name"] == "b"
    assert document["expected"] == {"x": 1} and document["observed"] == {"x": 2}


def test_a_pass_says_what_every_check_found() -> None:
    verdict = combine("load-balancing", [OK, Check("d", Outcome.PASS, "eastus took 50%")])
    assert verdict.sentence == "fine; eastus took 50%" and verdict.passed
    assert combine("s", []).sentence == "nothing to check" and combine("s", []).outcome is Outcome.PASS
    assert not combine("s", [UNSURE]).passed


def test_the_verdict_keeps_its_scenario_checks_figures_and_cost() -> None:
    verdict = combine("circuit-breaker", [OK, BAD], expected={"trip": 3}, observed={"trip": 4}, requests=12,
                      seconds=1.5)
    assert (verdict.scenario, verdict.checks, verdict.requests, verdict.seconds) == ("circuit-breaker", (OK, BAD),
                                                                                    12, 1.5)
    assert (verdict.expected, verdict.observed) == ({"trip": 3}, {"trip": 4})
    bare = combine("s", [OK])
    assert (bare.expected, bare.observed, bare.requests, bare.seconds) == ({}, {}, 0, 0.0)


def test_an_inconclusive_scenario_names_its_precondition_and_keeps_its_figures() -> None:
    verdict = inconclusive("circuit-breaker", "faults cannot be injected on Azure", target="azure")
    assert (verdict.scenario, verdict.outcome, verdict.sentence) == (
        "circuit-breaker", Outcome.INCONCLUSIVE, "faults cannot be injected on Azure")
    assert verdict.checks == (Check("precondition", Outcome.INCONCLUSIVE, "faults cannot be injected on Azure"),)
    assert verdict.expected == {"target": "azure"} and verdict.observed == {}


def test_the_json_document_of_a_verdict() -> None:
    check = Check("eastus share", Outcome.FAIL, "eastus took 31%", expected=0.5, observed=0.31)
    verdict = combine("load-balancing", [check], expected={"eastus": 0.5}, observed={"eastus": 0.31}, requests=7,
                      seconds=1.23456)
    assert verdict.to_json() == {
        "scenario": "load-balancing", "verdict": "fail", "sentence": "eastus took 31%",
        "expected": {"eastus": 0.5}, "observed": {"eastus": 0.31}, "requests": 7, "seconds": 1.235,
        "checks": [{"name": "eastus share", "verdict": "fail", "sentence": "eastus took 31%", "expected": 0.5,
                    "observed": 0.31}],
    }
