"""Mutation score of the core modules: which wrong changes does the test suite let through?

Runs mutmut (https://mutmut.readthedocs.io) on each core module, with only the tests relevant to that
module, and prints per module the mutants killed, the survivors (with their diff) and the score
``killed / (mutants - equivalent)``. A mutant is *equivalent* when no test could tell it from the
original (it behaves the same); those are listed with the reason in ``mutation_equivalents.yaml``
next to this script and left out of the score. Goal: 85% or more per module.

Not in CI: it is slow (minutes per module on 2 shared cores). Run it from the repository root:

    python3 benchmarks/mutation_score.py                    # every module
    python3 benchmarks/mutation_score.py pool breaker       # some of them (names from MODULES)
    python3 benchmarks/mutation_score.py --list             # the module names

Tool choice, measured on this machine (2 shared cores) on ``emulator/gateway/pool.py`` with its unit
tests (``tests/unit/emulator/gateway/test_pool_router.py``, 32 tests, 2.8 s per pytest run):
  - cosmic-ray 8.7.0: 245 mutants; 62 done in 120 s, about 1.9 s per mutant (a new pytest process for
    each mutant), so about 8 minutes for the module;
  - mutmut 3.8.1: 216 mutants, all done in 64 s wall time (3.9 mutants/s: it forks a warmed process
    and runs only the tests that reach the mutated function).
mutmut is about 7 times faster here, so it is the tool. It mutates a copy of the tree (``mutants/``),
never the working files: this script runs it in a temporary copy of the repository.

Exit code: 0 when every module run reaches the goal, 1 otherwise, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
EQUIVALENTS_FILE = Path(__file__).with_name("mutation_equivalents.yaml")
GOAL = 0.85

# diff and plan are pure: their own unit tests (the emulator-backed publish tests add minutes per mutant).
PLAN_TESTS = [f"tests/unit/publish/test_publish_{name}.py" for name in (
    "diff", "diff_edges", "plan_gaps", "plan_file", "plan_roundtrip", "order")]

# The expression engine's .NET value semantics: its unit tests evaluate expressions end to end (ms each).
EXPRESSION_TESTS = [f"tests/unit/emulator/test_expressions{suffix}.py" for suffix in ("", "_dotnet", "_extended")] + [
    "tests/unit/emulator/test_expression_lexer.py", "tests/unit/emulator/test_expression_constants.py",
    "tests/unit/emulator/test_expression_blocks.py", "tests/unit/emulator/test_expression_variables.py",
    "tests/unit/emulator/test_expressions_regex_body.py", "tests/unit/emulator/test_expressions_runtime.py",
    "tests/unit/emulator/test_expressions_dotnet_edges.py"]

# module name -> (source file, the tests that exercise it). Small modules first: a partial run is useful.
MODULES: dict[str, tuple[str, list[str]]] = {
    "memory": ("toolkit/emulator/cache/memory.py", [
        "tests/unit/emulator/cache/test_memory_store.py", "tests/unit/emulator/cache/test_store_contract.py",
        "tests/unit/emulator/cache/test_cache_factory.py"]),
    "diff": ("toolkit/publish/diff.py", PLAN_TESTS),
    "APIM023": ("toolkit/lint/rules/APIM023_retry_count_below_pool.py", ["tests/unit/lint"]),
    "plan": ("toolkit/publish/plan.py", PLAN_TESTS),
    "pool": ("toolkit/emulator/gateway/pool.py", ["tests/unit/emulator/gateway"]),
    "token_counter": ("toolkit/emulator/gateway/token_counter.py", ["tests/unit/emulator/gateway"]),
    "vector_index": ("toolkit/emulator/cache/vector_index.py", [
        "tests/unit/emulator/cache/test_vector_index.py", "tests/unit/emulator/cache/test_vector_index_graph.py",
        "tests/unit/emulator/cache/test_vector_index_contract.py",
        "tests/unit/emulator/cache/test_memory_store.py",
        "tests/unit/emulator/cache/test_store_contract.py"]),
    "loader": ("toolkit/config/loader.py", ["tests/unit/config"]),
    "policy_xml": ("toolkit/artifacts/policy_xml.py", [
        "tests/unit/artifacts/test_policy_xml.py", "tests/unit/artifacts/test_policy_xml_errors.py",
        "tests/unit/artifacts/test_policy_xml_escaping.py",
        "tests/unit/artifacts/test_expression_scan.py", "tests/unit/lint/test_rule_cases.py",
        "tests/unit/publish/test_publish_normalize.py"]),
    "breaker": ("toolkit/emulator/gateway/breaker.py", [
        "tests/unit/emulator/gateway", "tests/unit/emulator/policy/test_retry.py"]),
    # apply against an in-memory target (ms per test): the emulator-backed publish tests take ~1 s each
    # through the SDK and TLS, too slow for some 400 mutants; they show the same behaviour end to end.
    "apply": ("toolkit/publish/apply.py", ["tests/unit/publish/test_apply_unit.py",
                                           "tests/unit/publish/test_gate_restore.py"]),
    "fast_json": ("toolkit/emulator/fast_json.py", ["tests/unit/emulator/test_fast_json.py"]),
    "formatting": ("toolkit/emulator/expressions/formatting.py", EXPRESSION_TESTS),
    "cstypes": ("toolkit/emulator/expressions/cstypes.py", EXPRESSION_TESTS),
    "dates": ("toolkit/emulator/expressions/dates.py", EXPRESSION_TESTS),
    "lexer": ("toolkit/emulator/expressions/lexer.py", EXPRESSION_TESTS),
    "constants": ("toolkit/emulator/expressions/constants.py", EXPRESSION_TESTS),
    "compiled": ("toolkit/emulator/expressions/compiled.py", EXPRESSION_TESTS),
    "blocks": ("toolkit/emulator/expressions/blocks.py", EXPRESSION_TESTS),
    "flow": ("toolkit/emulator/expressions/flow.py", EXPRESSION_TESTS),
    "out_calls": ("toolkit/emulator/expressions/out_calls.py", EXPRESSION_TESTS),
    # parser.py is not listed: mutmut 3.x generates its 1,702 mutants but its stats run finds no test reaching any
    # of them ("could not find any test case for any mutant"), though every expression test parses; not resolved.
    "dotnet": ("toolkit/emulator/expressions/dotnet.py", EXPRESSION_TESTS),
    "limits": ("toolkit/emulator/policy/limits.py", [
        "tests/unit/emulator/policy/test_rate_limit.py", "tests/unit/emulator/policy/test_rate_limit_by_key.py",
        "tests/unit/emulator/policy/test_quota.py", "tests/unit/emulator/policy/test_quota_by_key.py",
        "tests/unit/emulator/policy/test_limits_edges.py"]),
    "after_answer": ("toolkit/emulator/gateway/after_answer.py", ["tests/unit/emulator/gateway/test_after_answer.py"]),
    "busy_poll": ("toolkit/emulator/gateway/busy_poll.py", [
        "tests/unit/emulator/gateway/test_busy_poll.py", "tests/e2e/test_busy_poll_gateway.py"]),
    "crud": ("toolkit/emulator/management/routes/_crud.py", [
        "tests/unit/emulator/management/test_arm_basics.py", "tests/unit/emulator/management/test_crud_routes.py",
        "tests/unit/emulator/management/test_merge_patch.py",
        "tests/unit/emulator/management/test_etags.py", "tests/unit/emulator/management/test_named_values_fragments.py",
        "tests/e2e/test_management_patch.py"]),
    "state": ("toolkit/emulator/policy/state.py", [
        "tests/unit/emulator/policy/test_call_log.py", "tests/unit/emulator/policy/test_policy_state.py",
        "tests/unit/emulator/policy/test_cache_lookup_value.py", "tests/unit/emulator/policy/test_rate_limit.py",
        "tests/unit/emulator/policy/test_rate_limit_by_key.py", "tests/unit/emulator/policy/test_quota.py",
        "tests/unit/emulator/policy/test_quota_by_key.py", "tests/e2e/test_recorded_policy_output.py"]),
    "cors": ("toolkit/emulator/policy/handlers/cors.py", [
        "tests/unit/emulator/policy/test_cors.py", "tests/unit/emulator/gateway/test_cors_preflight.py"]),
    "cache_calls": ("toolkit/emulator/policy/cache_calls.py", [
        "tests/unit/emulator/policy/test_cache_calls.py", "tests/unit/emulator/policy/test_llm_semantic_cache_lookup.py",
        "tests/unit/emulator/policy/test_llm_semantic_cache_store.py", "tests/unit/emulator/policy/test_pipeline.py"]),
    "http_client": ("toolkit/emulator/gateway/http_client.py", [
        "tests/unit/emulator/gateway/test_http_client.py", "tests/unit/emulator/gateway/test_http_client_edges.py"]),
    "jwt_validation": ("toolkit/emulator/jwt_validation.py", [
        "tests/unit/emulator/test_jwt_validation.py", "tests/unit/emulator/test_jwt_messages_and_keys.py",
        "tests/unit/emulator/policy/test_validate_jwt.py",
        "tests/unit/emulator/policy/test_validate_azure_ad_token.py"]),
    "managed_identity": ("toolkit/emulator/managed_identity.py", [
        "tests/unit/emulator/test_managed_identity.py", "tests/unit/emulator/policy/test_authentication_managed_identity.py"]),
    "streamed_usage": ("toolkit/emulator/policy/streamed_usage.py", ["tests/unit/emulator/policy/test_streamed_usage.py"]),
    # The validation verdicts a CI pipeline gates on: their statistics, sequential sampling, expectations and
    # scenarios, the scenarios against tests/unit/validate/fake_gateway.py and the fakes beside it (ms per run;
    # tests/e2e/validate shows the same on the emulator).
    **{name: (f"toolkit/validate/{path}.py", ["tests/unit/validate"]) for name, path in (
        ("stats", "stats"), ("shares", "shares"), ("verdict", "verdict"), ("expectations", "expectations"),
        ("routing", "scenarios/_routing"), ("faults", "scenarios/_faults"), ("load_balancing", "scenarios/load_balancing"),
        ("circuit_breaker", "scenarios/circuit_breaker"), ("priority_failover", "scenarios/priority_failover"),
        ("token_limit", "scenarios/token_limit"), ("semantic_cache", "scenarios/semantic_cache"),
        ("auth", "scenarios/auth"), ("traffic", "traffic"), ("tokens", "tokens"), ("observations", "observations"),
        ("settings", "settings"), ("context", "context"), ("target", "target"), ("embeddings", "embeddings"))},
    # The control API client: also its answers of the wrong shape, over real loopback HTTP.
    "control": ("toolkit/validate/control.py", ["tests/unit/validate", "tests/unit/test_control_replies.py"]),
    # the runner against stand-in scenario modules (its end-to-end runs are tests/e2e/validate's)
    "runner": ("toolkit/validate/runner.py", ["tests/unit/validate/test_validate_runner.py"]),
    "api": ("toolkit/validate/api.py", ["tests/unit/validate/test_validate_api.py"]),
    # `toolkit load`: its arithmetic on hand-made replies, its soak against a stand-in engine and target
    "load": ("toolkit/validate/load.py", ["tests/unit/validate/test_validate_load_figures.py",
                                          "tests/unit/validate/test_validate_load_run.py"]),
    "gate": ("toolkit/validate/gate.py", ["tests/unit/validate", "tests/unit/publish/test_gate_restore.py"]),
    # What a CI pipeline reads of a run: junit.xml, summary.json, the masking of secrets in every report file.
    **{name: (f"toolkit/report/{name}.py", ["tests/unit/report"]) for name in ("junit", "summary_json", "redact",
                                                                               "summary", "writer", "markdown", "html",
                                                                               "frame")},
    # the charts' figures read back (tests/unit/report/test_report_files.py draws them too, seconds per report)
    "charts": ("toolkit/report/charts.py", ["tests/unit/report/test_report_charts.py",
                                            "tests/unit/report/test_report_analysis.py"]),
    # the token limit's policy: estimates, reservations, settling with usage, its headers and 429/403 answers
    "llm_token_limit": ("toolkit/emulator/policy/handlers/llm_token_limit.py", [
        "tests/unit/emulator/policy/test_llm_token_limit.py", "tests/unit/emulator/policy/test_llm_token_limit_settlement.py",
        "tests/unit/emulator/policy/test_azure_openai_token_limit.py",
        "tests/unit/emulator/policy/test_streamed_usage.py", "tests/unit/emulator/policy/test_sample_policy.py",
        "tests/unit/emulator/policy/test_default_services_gaps.py", "tests/unit/emulator/gateway"]),
    # the semantic cache's policies: lookup (partition, prompt, threshold, hit answer) and store (what, when)
    **{name: (f"toolkit/emulator/policy/handlers/{name}.py", [
        "tests/unit/emulator/policy/test_llm_semantic_cache_lookup.py",
        "tests/unit/emulator/policy/test_llm_semantic_cache_store.py", f"tests/unit/emulator/policy/test_azure_openai_{name[4:]}.py",
        "tests/unit/emulator/policy/test_cache_calls.py", "tests/unit/emulator/policy/test_sample_policy.py"])
       for name in ("llm_semantic_cache_lookup", "llm_semantic_cache_store")},
    "default_services": ("toolkit/emulator/policy/default_services.py", [
        "tests/unit/emulator/policy/test_default_services.py", "tests/unit/emulator/policy/test_default_services_gaps.py",
        "tests/unit/emulator/policy/test_sample_policy.py"]),
}

# mutmut's exit codes per mutant (mutmut.stats.status_by_exit_code); a timeout counts as detected.
# 36 and -24/24/152/255 are mutmut's timeout codes (a mutant that makes the tests hang or spin was detected).
KILLED_CODES = {1, 3, 36, 37, -24, 24, 152, 255}
SURVIVED_CODES = {0, 5, 33, 35}  # survived, no test collected or reached it, suspicious
CRASH_CODES = {-11, -9}  # mutmut's "segfault": its forked worker died; such a mutant is run again unforked
RERUN_TIMEOUT = 300.0  # seconds for one unforked run of a module's tests


@dataclass
class ModuleScore:
    name: str
    killed: int = 0
    survivors: list[str] = field(default_factory=list)
    equivalent: list[str] = field(default_factory=list)
    unrun: list[tuple[str, int | None]] = field(default_factory=list)  # (mutant, mutmut's exit code) with no verdict
    no_results: bool = False  # mutmut failed before it judged any mutant
    stale: list[tuple[str, str]] = field(default_factory=list)  # (listed mutant, why its entry no longer applies)
    unpinned: list[tuple[str, str]] = field(default_factory=list)  # (excused mutant with no recorded diff, its diff)

    @property
    def not_run(self) -> int:
        return len(self.unrun)

    @property
    def counted(self) -> int:
        return self.killed + len(self.survivors)

    @property
    def score(self) -> float:
        """Killed over every mutant that is not excused: one the tests never ran counts as not killed."""
        total = self.counted + self.not_run
        return self.killed / total if total else 1.0


def load_equivalents() -> dict[str, dict[str, str]]:
    """Mutant name -> {change, reason} from mutation_equivalents.yaml."""
    entries = yaml.safe_load(EQUIVALENTS_FILE.read_text(encoding="utf-8")) or []
    return {entry["mutant"]: entry for entry in entries}


def copy_tree(target: Path) -> None:
    """The repository's tracked and untracked-but-not-ignored files, copied to ``target``."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, check=True, capture_output=True,
    ).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def write_config(tree: Path, source: str, tests: list[str]) -> None:
    """Point mutmut at one module and its tests ([tool.mutmut] of the copy's pyproject.toml)."""
    pyproject = tree / "pyproject.toml"
    original = tree / "pyproject.toml.orig"  # the repository's own, before any module's section
    if not original.exists():
        shutil.copy2(pyproject, original)
    text = original.read_text(encoding="utf-8")
    skip = {"toolkit", "tests", "pyproject.toml", "pyproject.toml.orig", "mutants"}
    extra = sorted(p.name for p in tree.iterdir() if p.name not in skip and not p.name.startswith("mutmut-"))
    text += (
        "\n[tool.mutmut]\n"
        'source_paths = ["toolkit"]\n'
        f"only_mutate = {json.dumps([source])}\n"
        f"pytest_add_cli_args_test_selection = {json.dumps(tests)}\n"
        'pytest_add_cli_args = ["-p", "no:benchmark", "-p", "no:cacheprovider", "-p", "no:xdist"]\n'
        f"also_copy = {json.dumps(extra)}\n"
    )
    pyproject.write_text(text, encoding="utf-8")


def run_module(tree: Path, name: str, jobs: int, equivalents: dict[str, dict[str, str]]) -> ModuleScore:
    source, tests = MODULES[name]
    shutil.rmtree(tree / "mutants", ignore_errors=True)
    write_config(tree, source, tests)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    log = tree / f"mutmut-{name}.log"
    with log.open("w") as out:
        subprocess.run([sys.executable, "-m", "mutmut", "run", "--max-children", str(jobs)],
                       cwd=tree, env=env, stdout=out, stderr=subprocess.STDOUT, check=False)
    meta = tree / "mutants" / (source + ".meta")
    if not meta.exists():
        print(f"{name}: mutmut produced no results; its log ends:\n{log.read_text(errors='replace')[-2000:]}",
              file=sys.stderr)
        return ModuleScore(name, no_results=True)
    codes = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
    for mutant, code in codes.items():
        if code in CRASH_CODES:
            codes[mutant] = run_unforked(tree, mutant, tests)
    return classify(name, codes, equivalents, lambda mutant: show(tree, mutant))


def run_unforked(tree: Path, mutant: str, tests: list[str]) -> int:
    """The exit code of the module's tests with ``mutant`` active, in a fresh interpreter.

    mutmut forks each worker from a process that has already run the tests; some of the backend client's mutants
    (25 in one run) died there with SIGSEGV, which gives no verdict. A fresh process does: 0 when the tests pass
    (a survivor), 1 when one fails. A run that crashes again or hangs failed the tests all the same (killed)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["MUTANT_UNDER_TEST"] = mutant
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:benchmark", "-p", "no:cacheprovider",
               "-p", "no:xdist", *tests]
    try:
        done = subprocess.run(command, cwd=tree / "mutants", env=env, capture_output=True, timeout=RERUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        return 36  # mutmut's code for a timeout: detected
    return 1 if done.returncode < 0 else done.returncode


def classify(name: str, codes: dict[str, int], equivalents: dict[str, dict[str, str]],
             diff_of: Callable[[str], str]) -> ModuleScore:
    """Each mutant's outcome (mutmut's exit code by mutant name) counted: killed, survived, not run, or left out as
    equivalent. ``diff_of(mutant)``: the mutant's -/+ lines, read only for listed mutants that survived."""
    result = ModuleScore(name)
    for mutant, code in sorted(codes.items()):
        entry = equivalents.get(mutant)
        if entry is not None and code in SURVIVED_CODES:
            # mutmut numbers mutants within a function: after an edit there, the name may be another mutant's
            diff = diff_of(mutant)
            recorded = entry.get("diff")
            if recorded is None or _normalised(recorded) == _normalised(diff):
                result.equivalent.append(mutant)
                if recorded is None:
                    result.unpinned.append((mutant, diff))
                continue
            result.stale.append((mutant, "its name now holds another change: it is counted as a survivor"))
        elif entry is not None:
            result.stale.append((mutant, "listed as equivalent but the tests kill it (or it did not run)"))
        if code in KILLED_CODES:
            result.killed += 1
        elif code in SURVIVED_CODES:
            result.survivors.append(mutant)
        else:
            result.unrun.append((mutant, code))
    return result


def _normalised(diff: str) -> list[str]:
    return [" ".join(line.split()) for line in diff.strip().splitlines()]


def show(tree: Path, mutant: str) -> str:
    """mutmut's diff of one mutant."""
    done = subprocess.run([sys.executable, "-m", "mutmut", "show", mutant], cwd=tree, capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith(("+", "-")) and not line.startswith(("+++", "---"))]
    return "\n".join("        " + line for line in lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help="module names (default: all)")
    parser.add_argument("--list", action="store_true", help="list the module names and exit")
    parser.add_argument("--jobs", type=int, default=1, help="mutants run in parallel (default 1: shared cores)")
    parser.add_argument("--no-diff", action="store_true", help="list survivors without their diff")
    args = parser.parse_args(argv)
    if args.list:
        for name, (source, tests) in MODULES.items():
            print(f"{name:14} {source}  <- {' '.join(tests)}")
        return 0
    unknown = [m for m in args.modules if m not in MODULES]
    if unknown:
        print(f"unknown module(s): {', '.join(unknown)} (see --list)", file=sys.stderr)
        return 2
    equivalents = load_equivalents()
    scores = []
    with tempfile.TemporaryDirectory(prefix="mutation-") as tmp:
        tree = Path(tmp)
        copy_tree(tree)
        for name in args.modules or list(MODULES):
            result = run_module(tree, name, args.jobs, equivalents)
            scores.append(result)
            if result.no_results:
                print(f"\n{name}: no results (mutmut failed; see its log above)", flush=True)
                continue
            print(f"\n{name}: {result.killed}/{result.counted} killed = {result.score:.1%}"
                  f" ({len(result.equivalent)} equivalent, {result.not_run} not run)", flush=True)
            for mutant in result.survivors:
                print(f"  survived: {mutant}")
                if not args.no_diff:
                    print(show(tree, mutant))
            for mutant, code in result.unrun:
                print(f"  not run (mutmut's exit code {code}): {mutant}")
            for mutant in result.equivalent:
                print(f"  equivalent: {mutant}: {equivalents[mutant]['reason']}")
            for mutant, why in result.stale:
                print(f"  stale entry in {EQUIVALENTS_FILE.name}: {mutant}: {why}")
            for mutant, diff in result.unpinned:
                print(f"  entry without its diff (add it as `diff:` to pin the entry to this change): {mutant}\n{diff}")
    print("\nmodule          killed/counted  score  equivalent")
    for result in scores:
        if result.no_results:
            print(f"{result.name:15} no results")
            continue
        print(f"{result.name:15} {result.killed:>6}/{result.counted:<7} {result.score:6.1%}  {len(result.equivalent)}")
    return 0 if all(not r.no_results and r.score >= GOAL and r.not_run == 0 for r in scores) else 1


if __name__ == "__main__":
    sys.exit(main())
