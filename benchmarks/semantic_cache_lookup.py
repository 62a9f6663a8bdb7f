"""Semantic cache lookup speed with 10,000 entries: numpy baseline vs memory store vs Redis store.

    python benchmarks/semantic_cache_lookup.py [--redis-url URL] [--entries N] [--queries N]

Without --redis-url a throwaway redis-server is started (toolkit.testing.redis_server).
About 1,000 prompts are embedded for real (all-MiniLM-L6-v2 int8); the remaining entries are
small random perturbations of those vectors, renormalised (cosine ~0.9 to their source), which
keeps the run short while giving a realistic spread of distances. Goals: memory-store lookup
p50 <= 10 ms, Redis-store lookup p50 <= 20 ms. Exit status 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from toolkit.emulator.cache.memory import MemoryCacheStore  # noqa: E402
from toolkit.emulator.cache.redis_store import RedisCacheStore  # noqa: E402
from toolkit.emulator.embeddings import get_embedder  # noqa: E402
from toolkit.testing.redis_server import running_redis_server  # noqa: E402

GOALS_MS = {"memory store lookup": 10.0, "redis store lookup": 20.0}
THRESHOLD = 0.05
TTL = 3600.0
PARTITION = "bench-subscription"
NOISE_SIGMA = 0.025  # per dimension; ||noise||^2 ~ 384 * sigma^2 = 0.24 -> cosine ~0.9

TOPICS = [
    "climate change", "sourdough bread", "Kubernetes pods", "the French revolution",
    "black holes", "index funds", "marathon training", "photosynthesis", "the Rust borrow checker",
    "jazz improvisation", "vaccines", "remote team management", "electric cars",
    "the Roman empire", "machine learning", "coffee brewing", "sleep hygiene", "quantum computing",
    "tax returns", "container gardening", "the stock market", "ocean tides", "chess openings",
    "SQL indexes", "volcanoes", "public speaking", "house plants", "the immune system",
    "cloud cost optimisation", "learning Spanish", "TLS certificates", "bird migration",
    "home insurance", "API rate limiting", "meditation", "the printing press", "solar panels",
    "dog training", "supply chains", "Azure API Management",
]
TEMPLATES = [
    "What is {t}?", "Explain {t} to a ten-year-old.", "Give me three surprising facts about {t}.",
    "How does {t} affect small businesses?", "Write a haiku about {t}.",
    "What are common misconceptions about {t}?", "Summarise the history of {t} in two sentences.",
    "Compare {t} with something from everyday life.", "What should a beginner read about {t}?",
    "List the pros and cons of {t}.", "Why do people argue about {t}?",
    "How will {t} change in the next decade?", "Translate a short sentence about {t} into German.",
    "Draft an email to my manager about {t}.", "What questions would an expert ask about {t}?",
    "Create a quiz with four questions on {t}.", "Describe {t} using only simple words.",
    "What is the biggest risk related to {t}?", "Give a one-line definition of {t}.",
    "How do I get started with {t} this weekend?", "What jobs involve {t}?",
    "Tell me a joke about {t}.", "What data would help me understand {t}?",
    "Which myths about {t} are actually true?", "Outline a lecture on {t}.",
]
QUERY_TEMPLATES = [  # not used for stored prompts: paraphrases and new angles on the same topics
    "Can you explain what {t} is?", "I'd like a short overview of {t}.",
    "Tell me something interesting about {t}.", "Is {t} worth learning about?",
]


def percentiles(samples_s: list[float]) -> tuple[float, float]:
    """p50 and p95 in milliseconds."""
    ms = sorted(s * 1000 for s in samples_s)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return statistics.median(ms), p95


def timed(fn: Callable[[int], object], n: int) -> list[float]:
    """Wall time of fn(i) for i in range(n)."""
    samples = []
    for i in range(n):
        start = time.perf_counter()
        fn(i)
        samples.append(time.perf_counter() - start)
    return samples


def build_vectors(entries: int, real: int) -> tuple[list[str], np.ndarray, float]:
    """Prompts and unit vectors for `entries` entries; the first `real` are real embeddings."""
    prompts = [tpl.format(t=topic) for tpl, topic in itertools.product(TEMPLATES, TOPICS)][:real]
    start = time.perf_counter()
    base = get_embedder().embed(prompts)
    embed_s = time.perf_counter() - start
    rng = np.random.default_rng(20240611)
    sources = rng.integers(0, len(prompts), size=entries - len(prompts))
    derived = base[sources] + rng.normal(0, NOISE_SIGMA, (len(sources), base.shape[1]))
    derived = (derived / np.linalg.norm(derived, axis=1, keepdims=True)).astype(np.float32)
    all_prompts = prompts + [f"{prompts[s]} (variant {i})" for i, s in enumerate(sources)]
    return all_prompts, np.concatenate([base, derived]), embed_s


@contextlib.contextmanager
def redis_url_for(url: str | None) -> Iterator[str]:
    """The given URL, or a throwaway local redis-server's."""
    if url:
        yield url
    else:
        with running_redis_server() as started:
            yield started


def fill(store: MemoryCacheStore | RedisCacheStore, prompts: list[str], vectors: np.ndarray,
         now: float) -> float:
    """Store every entry (1 KB body each); returns seconds taken."""
    body = b'{"choices": [{"message": {"content": "' + b"x" * 960 + b'"}}]}'
    start = time.perf_counter()
    for prompt, vector in zip(prompts, vectors, strict=True):
        store.store(PARTITION, vector, prompt, body, {"content-type": "application/json"}, 200,
                    TTL, now)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis-url", help="use this Redis instead of starting one")
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--real", type=int, default=1_000, help="prompts embedded for real")
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()

    load_start = time.perf_counter()
    embedder = get_embedder()
    load_s = time.perf_counter() - load_start
    real = min(args.real, args.entries, len(TEMPLATES) * len(TOPICS))
    prompts, vectors, embed_s = build_vectors(args.entries, real)
    print(f"model load {load_s:.2f} s; embedded {real} real prompts in {embed_s:.1f} s "
          f"({embed_s / real * 1000:.1f} ms each, batched); derived {args.entries - real} "
          f"entries as normalised perturbations (sigma {NOISE_SIGMA}/dim, cosine ~0.9 to source)")

    query_texts = [tpl.format(t=t) for tpl, t in itertools.product(QUERY_TEMPLATES, TOPICS)]
    query_texts += [f"Random question number {i} about nothing in particular" for i in range(40)]
    query_vectors = embedder.embed(query_texts)
    n, nq = args.queries, len(query_vectors)
    now = time.time()
    rows: list[tuple[str, list[float]]] = []

    matrix = np.ascontiguousarray(vectors)

    def brute_force(product: Callable[[np.ndarray], np.ndarray]) -> Callable[[int], float]:
        def search(i: int) -> float:
            scores = product(query_vectors[i % nq])
            return 1.0 - float(scores[int(np.argmax(scores))])
        return search

    rows.append(("baseline: numpy matrix @ q (BLAS)", timed(brute_force(lambda q: matrix @ q), n)))
    rows.append(("baseline: numpy einsum (1 thread)",
                 timed(brute_force(lambda q: np.einsum("ij,j->i", matrix, q)), n)))

    memory = MemoryCacheStore()
    memory_fill_s = fill(memory, prompts, vectors, now)
    rows.append(("memory store lookup", timed(
        lambda i: memory.lookup(PARTITION, query_vectors[i % nq], THRESHOLD, now), n)))
    rows.append(("embed + memory lookup", timed(lambda i: memory.lookup(
        PARTITION, embedder.embed_one(query_texts[i % nq]), THRESHOLD, now), n // 3)))

    with redis_url_for(args.redis_url) as url:
        namespace = f"bench:{uuid.uuid4().hex}"
        store, other = RedisCacheStore(url, namespace), RedisCacheStore(url, namespace)
        try:
            redis_fill_s = fill(other, prompts, vectors, now)
            cold = timed(lambda i: store.lookup(PARTITION, query_vectors[0], THRESHOLD, now), 1)
            rows.append(("redis first lookup (mirror load)", cold))
            rows.append(("redis store lookup", timed(
                lambda i: store.lookup(PARTITION, query_vectors[i % nq], THRESHOLD, now), n)))

            def after_remote_store(i: int) -> None:
                other.store(PARTITION, vectors[i], "late", b"{}", {}, 200, TTL, now)
                start = time.perf_counter()
                store.lookup(PARTITION, query_vectors[i % nq], THRESHOLD, now)
                samples.append(time.perf_counter() - start)

            samples: list[float] = []
            for i in range(n // 3):
                after_remote_store(i)
            rows.append(("redis lookup after another store", samples))
            rows.append(("embed + redis lookup", timed(lambda i: store.lookup(
                PARTITION, embedder.embed_one(query_texts[i % nq]), THRESHOLD, now), n // 3)))
            hits = sum(store.lookup(PARTITION, q, THRESHOLD, now).hit for q in query_vectors)
        finally:
            store.clear()
            store.close()
            other.close()

    print(f"filled {args.entries} entries: memory {memory_fill_s:.1f} s, "
          f"redis {redis_fill_s:.1f} s; one partition; threshold {THRESHOLD}; "
          f"{hits}/{nq} distinct queries hit")
    print(f"\n{'measurement':36} {'n':>5} {'p50 ms':>8} {'p95 ms':>8}  goal")
    verdicts = []
    for name, samples in rows:
        p50, p95 = percentiles(samples)
        goal = GOALS_MS.get(name)
        verdict = "" if goal is None else f"p50 <= {goal:g} ms: {'PASS' if p50 <= goal else 'FAIL'}"
        if goal is not None:
            verdicts.append(p50 <= goal)
        print(f"{name:36} {len(samples):>5} {p50:>8.2f} {p95:>8.2f}  {verdict}")
    baselines = {name: percentiles(samples)[0] for name, samples in rows[:2]}
    for name in GOALS_MS:
        p50 = percentiles(dict(rows)[name])[0]
        print(f"{name}: " + ", ".join(f"{p50 / b:.1f}x {base.split(': ')[1]}"
                                      for base, b in baselines.items()))
    print("\nRESULT:", "PASS" if all(verdicts) else "FAIL")
    return 0 if all(verdicts) else 1


if __name__ == "__main__":
    raise SystemExit(main())
