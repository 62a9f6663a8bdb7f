"""The gateway benchmarks' harness measures honestly: backends in a process of their own, failures counted,
A/B rounds alternated."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from _load import (EMBEDDINGS_PATH, EmulatorProcess, _Child, alternated, burn_spec, counted_latencies,  # noqa: E402
                   cpu_burner, cpu_seconds, cpu_ticks, question, stolen_share, throughput, words_embedding)

FLOOR_PROXY = str(Path(__file__).resolve().parents[2] / "benchmarks" / "_floor_proxy.py")


def _pid_listening_on(port: int) -> set[int]:
    """Pids of the processes holding a listening socket on 127.0.0.1:<port> (from /proc)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":  # LISTEN
                inodes.add(fields[9])
    pids = set()
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        try:
            for fd in fd_dir.iterdir():
                target = os.readlink(fd)
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    pids.add(int(fd_dir.parent.name))
        except OSError:
            continue
    return pids


def test_backends_run_in_their_own_process_and_failures_are_counted_on_both_paths() -> None:
    with EmulatorProcess() as emulator:
        urls = emulator.endpoints
        gateway_pid = emulator.gateway.info["pid"]
        backends_pid = emulator.backends.info["pid"]
        assert len({gateway_pid, backends_pid, os.getpid()}) == 3
        for base in urls["backends"].values():
            assert _pid_listening_on(int(base.rsplit(":", 1)[1])) == {backends_pid}
        # the gateway really calls that process: its answer comes from the simulated deployment
        answer = httpx.post(urls["gateway"], headers={"api-key": urls["key"]},
                            json={"messages": [{"role": "user", "content": "hi"}]}, timeout=30)
        assert answer.status_code == 200 and answer.json()["object"] == "chat.completion"

        samples, errors = asyncio.run(counted_latencies(urls["direct"], {"api-key": urls["direct_key"]}, 5))
        assert (len(samples), errors) == (5, 0)
        samples, errors = asyncio.run(counted_latencies(urls["direct"], {"api-key": "wrong"}, 5))
        assert (samples, errors) == ([], 5)  # the direct path's 401s are counted, not discarded
        _, done, failed = asyncio.run(throughput(urls["gateway"], {"api-key": "wrong"}, connections=2, seconds=60,
                                                 max_requests=6))
        assert (done, failed) == (6, 6)


def test_rounds_alternate_their_order() -> None:
    order: list[str] = []
    results = alternated({"a": lambda: order.append("a") or 1, "b": lambda: order.append("b") or 2}, 4)
    assert order == ["a", "b", "b", "a", "a", "b", "b", "a"]
    assert results == {"a": [1, 1, 1, 1], "b": [2, 2, 2, 2]}


def test_the_hosts_share_is_the_stolen_ticks_over_all_ticks_between_two_readings() -> None:
    assert stolen_share((10, 1_000), (30, 1_400)) == 0.05
    assert stolen_share((10, 1_000), (10, 1_000)) == 0.0  # no time passed: no division by zero
    stolen, total = cpu_ticks()
    assert 0 <= stolen <= total and total > 0


def test_words_embeddings_make_repeats_hits_and_new_questions_misses() -> None:
    """The benchmarks' zero-cost embeddings: what --cache miss / hit rely on at toolkit.yaml's threshold (0.05)."""
    import json

    import numpy as np

    texts = [json.loads(question(i))["messages"][0]["content"] for i in range(300)]
    vectors = words_embedding(texts)
    assert vectors.shape == (300, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    assert np.array_equal(words_embedding(texts[:3]), vectors[:3])  # a repeat: the same vector, distance 0
    distances = 1.0 - vectors @ vectors.T
    others = distances[~np.eye(300, dtype=bool)]
    assert others.min() > 0.05  # every new question misses
    # shared words bring questions closer than unrelated texts (neighbourhoods, as a model's have)
    unrelated = words_embedding(["zebra quantum lattice"])[0]
    assert float(np.median(vectors @ vectors[0])) > float(np.median(vectors @ unrelated)) + 0.2


def _floor(steps: list[list[str]], api_key: str) -> _Child:
    import json

    return _Child(json.dumps({"steps": steps, "api_key": api_key}), script=FLOOR_PROXY)


def test_the_floor_proxy_makes_the_gateways_backend_calls_and_passes_their_failures_on() -> None:
    """benchmarks/gateway_overhead.py's floor: the embeddings call (its vector decoded), then the chat call, for every
    request; a backend's refusal reaches the client, whose load generator counts it as failed."""
    with EmulatorProcess(embedder="words") as emulator:
        urls = emulator.endpoints
        key = urls["direct_key"]
        embeddings = urls["backends"]["embeddings"] + EMBEDDINGS_PATH + "?api-version=2024-10-21"
        no_embeddings = urls["backends"]["embeddings"] + "/openai/deployments/missing/embeddings?api-version=2024-10-21"
        cases = {"both calls": ([[embeddings, "embeddings"], [urls["direct"], "same"]], key),
                 "no embeddings deployment": ([[no_embeddings, "embeddings"], [urls["direct"], "same"]], key),
                 "wrong key": ([[urls["direct"], "same"]], "wrong")}
        answers = {}
        for name, (steps, api_key) in cases.items():
            floor = _floor(steps, api_key)
            try:
                assert floor.info["pid"] not in {os.getpid(), emulator.backends.info["pid"]}
                with httpx.Client(timeout=30) as client:
                    answers[name] = [client.post(floor.info["url"], content=question(i)) for i in range(3)]
                failures = asyncio.run(counted_latencies(floor.info["url"], {}, 3, question))[1]
                answers[name + ": failures counted"] = failures
            finally:
                floor.stop()
    assert [a.status_code for a in answers["both calls"]] == [200, 200, 200]
    assert {a.json()["object"] for a in answers["both calls"]} == {"chat.completion"}  # the chat call's answer
    assert answers["both calls: failures counted"] == 0
    assert [a.status_code for a in answers["no embeddings deployment"]] == [502, 502, 502]  # its answer is read
    assert answers["no embeddings deployment: failures counted"] == 3
    assert [a.status_code for a in answers["wrong key"]] == [401, 401, 401]
    assert answers["wrong key: failures counted"] == 3


def test_phases_split_at_the_network_edges_and_give_late_after_answer_work_to_its_own_request() -> None:
    from gateway_phases import INPUT_WAITING, overran_waits, phases, requests_of

    def request(start: int, calls: int, out: int) -> list[tuple[str, int]]:
        marks = [("in", start), ("in", start + 5_000)]  # a second read of the same request adds no mark
        at = start + 100_000
        for _ in range(calls):
            marks += [("sent", at), ("answered", at + 300_000), ("answered", at + 301_000)]  # two reads of one answer
            at += 400_000
        return [*marks, ("out", start + out)]

    third = request(3_200_000, 2, 1_100_000)
    marks = [*request(0, 2, 1_000_000), ("after done", 1_050_000), *request(2_000_000, 2, 1_000_000), *third[:2],
             ("after done", 3_300_000),  # the second request's store, done once the third had come in
             *third[2:], *request(5_000_000, 3, 1_500_000)]  # a retry: a third call, left out of the phases
    requests = requests_of(marks)
    assert [len(r) for r in requests] == [7, 7, 6, 8]
    assert requests[1][-1] == ("after done", 3_300_000)
    spans, turnaround, after = phases(requests)
    assert list(spans) == ["request in -> call 1 sent", "backend call 1 (backend + loopback)",
                           "call 1 answered -> call 2 sent", "backend call 2 (backend + loopback)",
                           "call 2 answered -> answer out"]
    assert spans["request in -> call 1 sent"] == [100.0] * 3
    assert spans["call 1 answered -> call 2 sent"] == [100.0] * 3
    assert spans["call 2 answered -> answer out"] == [200.0, 200.0, 300.0]
    assert turnaround == [1000.0, 200.0, 700.0]
    assert after == [50.0, 300.0]
    assert overran_waits(requests) == (0, 2)  # the second's store ended before the third's first call was answered
    second = request(700_000, 1, 600_000)
    overrun = [*request(0, 1, 600_000), *second[:-1], ("after done", 1_200_000), second[-1]]  # done before 2nd's out
    assert overran_waits(requests_of(overrun)) == (1, 1)  # the first's store ended after the second's call answered
    waiting = [*request(0, 1, 600_000), (INPUT_WAITING, 1_000_000), *second]  # ended first, but the answer had come
    assert requests_of(waiting)[0][-1] == (INPUT_WAITING, 1_000_000)
    assert phases(requests_of(waiting))[2] == [400.0]
    assert overran_waits(requests_of(waiting)) == (1, 1)


def test_an_equivalent_mutant_is_excused_only_while_its_name_still_holds_the_recorded_change() -> None:
    """mutmut numbers mutants within a function, so an edit there renames them: an entry pinned to a diff excuses
    only that change, and a listed mutant that the tests kill is counted as killed (both reported as stale)."""
    from mutation_score import KILLED_CODES, SURVIVED_CODES, classify

    survived, killed = next(iter(SURVIVED_CODES)), next(iter(KILLED_CODES))
    diffs = {"m_pinned": "-  if a < 0:\n+  if a <= 0:", "m_moved": "-  x = 1\n+  x = 2", "m_legacy": "-  y\n+  None"}
    equivalents = {"m_pinned": {"diff": "- if a < 0:\n+ if a <= 0:"},  # the same lines, spaced differently
                   "m_moved": {"diff": "-  if b < 0:\n+  if b <= 0:"},  # the name now holds another change
                   "m_legacy": {},  # no diff recorded: excused, and its diff shown to be recorded
                   "m_killed": {}}
    codes = {"m_pinned": survived, "m_moved": survived, "m_legacy": survived, "m_killed": killed,
             "m_plain": survived, "m_other": killed, "m_unrun": 99}
    result = classify("mod", codes, equivalents, diffs.__getitem__)
    assert result.equivalent == ["m_legacy", "m_pinned"]
    assert result.survivors == ["m_moved", "m_plain"]
    assert (result.killed, result.not_run, result.unrun) == (2, 1, [("m_unrun", 99)])  # named, with its code
    assert [m for m, _ in result.stale] == ["m_killed", "m_moved"]
    assert result.unpinned == [("m_legacy", diffs["m_legacy"])]
    assert result.score == 2 / 5  # the mutant the tests never ran counts as not killed


def test_a_mutant_whose_forked_run_crashed_is_judged_by_a_fresh_run_of_its_tests(tmp_path: Path) -> None:
    """mutmut's forked workers died with SIGSEGV on 25 of the backend client's mutants (no verdict); the script runs
    each such mutant's tests again in a fresh interpreter, with the mutant named in MUTANT_UNDER_TEST."""
    from mutation_score import KILLED_CODES, SURVIVED_CODES, run_unforked

    (tmp_path / "mutants").mkdir()
    (tmp_path / "mutants" / "test_probe.py").write_text(
        "import os, signal\n"
        "def test_probe():\n"
        "    mutant = os.environ['MUTANT_UNDER_TEST']\n"
        "    if mutant == 'm.crash':\n"
        "        os.kill(os.getpid(), signal.SIGSEGV)\n"
        "    assert mutant == 'm.harmless'\n", encoding="utf-8")
    verdicts = {m: run_unforked(tmp_path, m, ["test_probe.py"]) for m in ("m.harmless", "m.caught", "m.crash")}
    assert verdicts["m.harmless"] in SURVIVED_CODES
    assert verdicts["m.caught"] in KILLED_CODES and verdicts["m.crash"] in KILLED_CODES


def test_a_module_whose_mutants_the_tests_never_ran_does_not_score_as_fully_killed() -> None:
    """Found when mutmut ran none of parser.py's 1,702 mutants: the module scored 100% (0 of 0 counted)."""
    from mutation_score import classify

    result = classify("mod", {"m_a": None, "m_b": None}, {}, lambda mutant: "")
    assert (result.killed, result.not_run, result.score) == (0, 2, 0.0)


def test_the_ab_benchmark_sends_every_request_a_new_question_in_turn_flipping_each_pairs_order() -> None:
    """benchmarks/gateway_ab.py: the two gateways are asked alike, one request at a time; a failure stops it."""
    from gateway_ab import measure

    arrivals: list[tuple[str, bytes]] = []
    status = {"mine": 200, "other": 200}

    async def scenario() -> tuple[list[float], list[float]]:
        writers: list[asyncio.StreamWriter] = []

        async def serve(name: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writers.append(writer)
            with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
                while head := await reader.readuntil(b"\r\n\r\n"):
                    length = int(next(line for line in head.split(b"\r\n")
                                      if line.lower().startswith(b"content-length")).split(b":")[1])
                    body = await reader.readexactly(length)
                    assert b"Authorization: Bearer t-" + name.encode() in head
                    assert b"api-key: k-" + name.encode() in head
                    arrivals.append((name, body))
                    writer.write(b"HTTP/1.1 %d OK\r\nContent-Length: 2\r\n\r\n{}" % status[name])
                    await writer.drain()

        servers = {name: await asyncio.start_server(lambda r, w, n=name: serve(n, r, w), "127.0.0.1", 0)
                   for name in ("mine", "other")}
        info = {name: {"gateway": f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/chat", "key": f"k-{name}",
                       "token": f"t-{name}"} for name, server in servers.items()}
        try:
            return await measure(info["mine"], info["other"], entries=3, requests=4)
        finally:
            for server in servers.values():
                server.close()
                await server.wait_closed()
            for writer in writers:
                writer.close()
            await asyncio.sleep(0.01)  # the handlers see their connections end

    mine, other = asyncio.run(scenario())
    assert len(mine) == len(other) == 4 and min(mine + other) > 0
    order = [name for name, _ in arrivals]
    assert order[:6] == ["mine", "other"] * 3  # the warm-up, in turn
    assert order[6:] == ["mine", "other", "other", "mine", "mine", "other", "other", "mine"]  # pairs, flipping
    assert len({body for _, body in arrivals}) == len(arrivals) == 14  # every question new
    status["other"] = 429
    arrivals.clear()
    try:
        asyncio.run(scenario())
    except RuntimeError as error:
        assert str(error) == "a request answered 429"
    else:
        raise AssertionError("a refused request was timed")


def test_the_burner_takes_its_share_of_a_core_until_killed() -> None:
    import argparse
    import time

    import pytest

    assert burn_spec("10/20") == (0.01, 0.02) and burn_spec(" 2.5/2.5 ") == (0.0025, 0.0025)
    for bad in ("20/10", "0/10", "10", "-1/5", "a/b", "10/20/30"):
        with pytest.raises(argparse.ArgumentTypeError, match="BUSY/PERIOD"):
            burn_spec(bad)
    burner = cpu_burner(0.005, 0.02)  # a quarter of a core
    try:
        time.sleep(0.3)  # Python's start
        before = cpu_seconds(burner.pid)
        time.sleep(1.0)
        used = cpu_seconds(burner.pid) - before
    finally:
        burner.kill()
        burner.wait()
    assert 0.05 <= used <= 0.5, used  # busy a quarter of the time: never all of it, and (on 2 loaded cores) some
    assert burner.returncode is not None
