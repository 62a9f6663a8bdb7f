"""Lint and emulator policy compile time of 10 KB vs 100 KB policies: both must grow linearly (~10x).

Run: python benchmarks/policy_scaling.py [--runs 5] [--small 10000] [--large 100000]

For each shape the policy document is built at the two sizes; the script prints the median CPU time
(``time.process_time``: other load on a shared machine does not count) of ``lint_tree`` on a tree
holding that one API policy, and of the emulator's publish-time compiler
(``toolkit.emulator.policy.compiler.compile_policy``, called directly, whether it accepts or
refuses the document), then the growth ratio large/small. Linear is ~10x for 10x the size; a
scan that rescans the rest of the document per expression shows ~100x (before the fix, a 26 KB
one-line policy of unclosed ``@(`` took 13 s to lint). The same-run baseline is an lxml parse of
a plain (expression-free) document of the same size, whose ratio is the floor.

Shapes:
  unclosed-text   <set-body>@(</set-body> repeated on one line (every expression unclosed)
  unclosed-attr   <set-header name="x"><value>... with value="@(" attributes never closed
  expressions     many valid set-variable expressions (lint and compile both succeed)
  deep-nesting    one expression of nested parentheses as deep as the size allows
  nested-strings  unclosed @( each followed by an escaped quote, so every scan meets a literal

Exit status: 1 when a ratio exceeds --max-ratio (default 20): quadratic growth shows ~100x.

Measured 2026-12-01 (2 shared vCPUs, defaults): every ratio between x8.4 and x10.6 (lint of 100 KB of
unclosed ``@(``: 28 ms; the same 26 KB policy that took 13-17 s before: 0.45 s for the whole CLI run).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

from lxml import etree

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from render_lint import median_seconds  # noqa: E402

HEAD = "<policies><inbound><base />"
TAIL = "</inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>"


def _fill(unit: Callable[[int], str], size: int) -> str:
    """HEAD + units + TAIL, at least ``size`` characters."""
    parts, length, i = [], len(HEAD) + len(TAIL), 0
    while length < size:
        part = unit(i)
        parts.append(part)
        length += len(part)
        i += 1
    return HEAD + "".join(parts) + TAIL


def _deep(size: int) -> str:
    depth = max(1, (size - len(HEAD) - len(TAIL) - 40) // 2)
    return HEAD + '<set-variable name="v" value="@(' + "(" * depth + "1" + ")" * depth + ')" />' + TAIL


SHAPES: dict[str, Callable[[int], str]] = {
    "unclosed-text": lambda size: _fill(lambda i: "<set-body>@(</set-body>", size),
    "unclosed-attr": lambda size: _fill(lambda i: '<set-header name="x" exists-action="override"><value>@(</value>'
                                                  '</set-header><set-variable name="v" value="@(" />', size),
    "expressions": lambda size: _fill(
        lambda i: f'<set-variable name="v{i}" value="@(context.Request.Headers.GetValueOrDefault(&quot;x-{i}&quot;, '
                  '&quot;&quot;).ToLower())" />', size),
    "deep-nesting": _deep,
    "nested-strings": lambda size: _fill(lambda i: '<set-body>@(\\"</set-body>', size),
}


def plain(size: int) -> str:
    """An expression-free document of the same size: the baseline."""
    return _fill(lambda i: f'<set-header name="h{i}" exists-action="override"><value>v</value></set-header>', size)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--max-ratio", type=float, default=20.0)
    args = parser.parse_args()

    from toolkit.artifacts.model import ArtifactSet
    from toolkit.emulator.expressions import UnsupportedExpression
    from toolkit.emulator.policy.compiler import compile_policy
    from toolkit.emulator.policy.errors import PolicyRejected
    from toolkit.lint.runner import lint_tree

    def lint(xml: str) -> object:
        return lint_tree(ArtifactSet({"apis/a/policy.xml": xml}))

    def compile_(xml: str) -> str:
        try:
            compile_policy(xml, "api")
            return "accepted"
        except (PolicyRejected, UnsupportedExpression):
            return "refused"

    def timed(fn: Callable[[str], object], xml: str) -> float:
        # CPU time: on a shared machine, wall time of the longer run also counts other processes' slices.
        return median_seconds(lambda: fn(xml), args.runs, clock=time.process_time)

    scale = args.large / args.small
    print(f"sizes: {args.small} vs {args.large} characters (x{scale:.0f}); median CPU time of {args.runs} runs; "
          f"linear growth is ~{scale:.0f}x")
    base = [timed(lambda xml: etree.fromstring(xml.encode()), plain(size)) for size in (args.small, args.large)]
    print(f"{'baseline (lxml, plain)':24} {base[0] * 1000:9.1f} ms {base[1] * 1000:9.1f} ms  x{base[1] / base[0]:5.1f}")
    print(f"{'shape':24} {'small':>12} {'large':>12}  ratio   (emulator verdict)")
    worst = 0.0
    for name, build in SHAPES.items():
        small, large = build(args.small), build(args.large)
        for label, fn in (("lint", lint), ("compile", compile_)):
            t_small, t_large = timed(fn, small), timed(fn, large)
            ratio = t_large / t_small
            worst = max(worst, ratio)
            verdict = f"({compile_(large)})" if label == "compile" else ""
            print(f"{name + ' ' + label:24} {t_small * 1000:9.1f} ms {t_large * 1000:9.1f} ms  x{ratio:5.1f}  {verdict}")
    ok = worst <= args.max_ratio
    print(f"{'PASS' if ok else 'FAIL'}: worst growth x{worst:.1f} for x{scale:.0f} the size (limit x{args.max_ratio:.0f})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
