"""``json.loads`` for the gateway's hot path: orjson when it is installed, with the standard library's results.

Policies parse both bodies of every request they limit by tokens (the request's prompt, the response's
``usage``); orjson parses them in a quarter of the time (measured by benchmarks/gateway_overhead.py). Where
the two differ the standard library decides: orjson refuses ``NaN``/``Infinity``, lone surrogates, UTF-16/32
and byte-order marks (it then raises and ``json.loads`` runs), and reads integers past 64 bits as floats
(bodies with a run of 19 digits or more that is not a fraction's go to ``json.loads`` directly, so big integers
stay exact; a fraction's digits follow a ".", and embeddings answers are full of 19-digit fractions).
"""

from __future__ import annotations

import json
from typing import Any

try:
    import orjson as _orjson
except ImportError:  # optional speed-up: the standard library gives the same results
    _orjson = None

# Every digit to "0", "." kept, every other byte to a space: a run of 19 digits is then a run of 19 "0"s, found by
# `find` (a regex search for them costs more than the parse). `find` looks for zeros only, so it skips ahead over the
# spaces that fill most of a body; the needle " " + 19 zeros this replaced could not (the scan of a 650-byte chat
# answer: 0.7 instead of 2.0 µs). A run inside a string or an exponent also counts: json.loads then parses a body
# orjson would have read the same, which is slower, never wrong.
_DIGITS_AS_ZERO = bytes(0x30 if 0x30 <= byte <= 0x39 else byte if byte == 0x2E else 0x20 for byte in range(256))
_LONG_RUN = b"0" * 19
_RUN_MAY_FOLLOW = (0x2E, 0x30)  # "." (a fraction's digits) or "0" (a fraction's run going on)


def _may_hold_big_integer(body: bytes) -> bool:
    """Whether ``body`` has 19 digits in a row that do not follow a "." (an integer orjson may read as a float)."""
    digits = body.translate(_DIGITS_AS_ZERO)
    at = digits.find(_LONG_RUN)
    while at >= 0:
        # The leftmost run found from a position: a byte before it is no digit, unless it continues the run
        # just passed over (a fraction's: the search goes on past its first 19 digits).
        if at == 0 or digits[at - 1] not in _RUN_MAY_FOLLOW:
            return True
        at = digits.find(_LONG_RUN, at + len(_LONG_RUN))
    return False


def loads(body: bytes, *, exact_integers: bool = True) -> Any:
    """``json.loads(body)``: the same value, or the same exception (ValueError, UnicodeDecodeError, RecursionError).

    ``exact_integers=False``: for a body whose integers past 64 bits the caller never reads (an embeddings answer:
    its vectors and small indexes). Such an integer may then be a float; the scan for them, which costs more than
    orjson's parse of a 2 KB embeddings answer, is skipped.
    """
    if _orjson is not None and type(body) is bytes and not (exact_integers and _may_hold_big_integer(body)):
        try:
            return _orjson.loads(body)
        except ValueError:
            pass  # not JSON orjson takes: the standard library answers (a value, or its own error)
    return json.loads(body)
