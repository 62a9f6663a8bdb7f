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
