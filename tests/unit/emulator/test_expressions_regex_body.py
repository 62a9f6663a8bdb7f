"""Regex matches and groups, request bodies, URLs and hashes as .NET gives them (toolkit/emulator/expressions/dotnet.py).
Found by mutation testing (benchmarks/mutation_score.py dotnet): these ran in the corpus, but no test checked a failed
match's groups, a group past the last one, a group's Index, Body.As<T> for each T, a URL's default port, or a hash."""

from __future__ import annotations

import pytest

from toolkit.emulator.policy.context import RequestContext

from test_expressions_extended import failure_of, run


def _request(host: str = "gw.example", body: bytes = b"{}", query: str = "") -> RequestContext:
    return RequestContext("GET", "/p", query=query, headers=[("Host", host)], body=body, api_path="",
                          subscription_id="s")


@pytest.mark.parametrize(("source", "expected"), [
    # a match, its groups by number: Success, Value, Index of each
    (r'@(Regex.Match("ab12", @"(\d)(\d)").Success)', True),
    (r'@(Regex.Match("ab12", @"(\d)(\d)").Index)', 2),
    (r'@(Regex.Match("ab12", @"(\d)(\d)").Value)', "12"),
    (r'@(Regex.Match("ab12", @"(\d)(\d)").Groups[0].Value)', "12"),
    (r'@(Regex.Match("ab12", @"(\d)(\d)").Groups[0].Success)', True),
    (r'@(Regex.Match("ab12", @"(\d)(\d)").Groups[0].Index)', 2),
    (r'@(Regex.Match("ab12", @"(\d)(\d)").Groups[1].Value)', "1"),
    (r'@(Regex.Match("ab12", @"(\d)(\d)").Groups[2].Index)', 3),
    (r'@(Regex.Match("ab12", @"(\d)(\d)").Groups[2].Success)', True),
    # a group past the last one, or before the first: an unsuccessful empty group, not an error (.NET's Group.Empty)
    (r'@(Regex.Match("ab12", @"(\d)").Groups[5].Success)', False),
    (r'@(Regex.Match("ab12", @"(\d)").Groups[2].Value)', ""),
    (r'@(Regex.Match("ab12", @"(\d)").Groups[-1].Index)', 0),
    # a group the match did not take
    (r'@(Regex.Match("a", @"a(b)?").Groups[1].Success)', False),
    (r'@(Regex.Match("a", @"a(b)?").Groups[1].Value)', ""),
    (r'@(Regex.Match("a", @"a(b)?").Groups[1].Index)', 0),
    # named groups, and a name the pattern has not
    ('@(Regex.Match("max-age=30", @"max-age=(?<maxAge>\\d+)").Groups["maxAge"].Value)', "30"),
    ('@(Regex.Match("max-age=30", @"max-age=(?<maxAge>\\d+)").Groups["maxAge"].Index)', 8),
    ('@(Regex.Match("max-age=30", @"max-age=(?<maxAge>\\d+)").Groups["nope"].Success)', False),
    ('@(Regex.Match("max-age=30", @"max-age=(?<maxAge>\\d+)").Groups["nope"].Value)', ""),
    ('@(Regex.Match("max-age=30", @"max-age=(?<maxAge>\\d+)").Groups["nope"].Index)', 0),
    # a failed match: unsuccessful, empty, at 0, and so are its groups
    (r'@(Regex.Match("ab", @"(\d)").Success)', False),
    (r'@(Regex.Match("ab", @"(\d)").Value)', ""),
    (r'@(Regex.Match("ab", @"(\d)").Index)', 0),
    (r'@(Regex.Match("ab", @"(\d)").Groups[0].Success)', False),
    (r'@(Regex.Match("ab", @"(\d)").Groups[0].Value)', ""),
    (r'@(Regex.Match("ab", @"(\d)").Groups[0].Index)', 0),
    (r'@(Regex.Match("ab", @"(?<n>\d)").Groups["n"].Success)', False),
    ("@(Regex.Match(\"x\", @\"max-age=(?<maxAge>\\d+)\").Groups[\"maxAge\"]?.Value)", ""),  # APIM's docs example
])
def test_a_match_and_its_groups_are_as_dotnet_gives_them(source: str, expected: object) -> None:
    value = run(source)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(("body", "source", "expected"), [
    (b'{"a":1}', "@(context.Request.Body.As<string>(preserveContent: true))", '{"a":1}'),
    (b'{"a":1}', "@(context.Request.Body.As<String>(true))", '{"a":1}'),
    (b"\xff", "@(context.Request.Body.As<string>(true))", "\ufffd"),  # invalid UTF-8: the replacement character
    (b"\xc3\xa9", "@(context.Request.Body.As<string>(true))", "\u00e9"),
    (b"\x00\x01\xff", "@(context.Request.Body.As<byte[]>(true).Length)", 3),
    (b"\x00\x01\xff", "@(context.Request.Body.As<byte[]>(true)[2])", 255),
    (b"[1,2]", "@(context.Request.Body.As<JArray>(true).Count)", 2),
    (b"[1,2]", "@(context.Request.Body.As<JToken>(true).Type.ToString())", "Array"),
    (b'{"a":1}', "@(context.Request.Body.As<JToken>(true).Type.ToString())", "Object"),
    (b'{"a":1}', '@(context.Request.Body.As<JObject>(true)["a"].ToString())', "1"),
    # preserveContent: true keeps the body for the next reader
    (b"x", "@(context.Request.Body.As<string>(true) + context.Request.Body.As<string>(true))", "xx"),
])
def test_a_body_is_read_as_the_type_asked_for(body: bytes, source: str, expected: object) -> None:
    assert run(source, _request(body=body)) == expected


@pytest.mark.parametrize(("body", "source", "message"), [
    (b'{"a":1}', "@(context.Request.Body.As<JArray>(true))", "Error reading JArray from JsonReader."),
    (b"[1]", "@(context.Request.Body.As<JObject>(true))", "Error reading JObject from JsonReader."),
])
def test_a_body_of_another_json_type_fails_as_newtonsoft_fails(body: bytes, source: str, message: str) -> None:
    assert message in failure_of(source, _request(body=body))


@pytest.mark.parametrize(("host", "query", "expected"), [
    ("gw.example", "", "https://gw.example/p"),
    ("gw.example:443", "", "https://gw.example/p"),  # the scheme's default port is not written
    ("gw.example:8443", "", "https://gw.example:8443/p"),
    ("gw.example:80", "", "https://gw.example:80/p"),  # 80 is http's default, not https's
    ("gw.example", "a=1&b=2", "https://gw.example/p?a=1&b=2"),
])
def test_a_url_is_written_as_dotnet_writes_it(host: str, query: str, expected: str) -> None:
    assert run("@(context.Request.Url.ToString())", _request(host=host, query=query)) == expected


@pytest.mark.parametrize(("source", "expected"), [
    # FIPS 180-2's test vector, and RFC 4231-style HMAC of the classic pangram (well-known values)
    ('@(BitConverter.ToString(SHA256.Create().ComputeHash(Encoding.UTF8.GetBytes("abc"))))',
     "BA-78-16-BF-8F-01-CF-EA-41-41-40-DE-5D-AE-22-23-B0-03-61-A3-96-17-7A-9C-B4-10-FF-61-F2-00-15-AD"),
    ('@(Convert.ToBase64String(new HMACSHA256(Encoding.UTF8.GetBytes("key")).ComputeHash('
     'Encoding.UTF8.GetBytes("The quick brown fox jumps over the lazy dog"))))',
     "97yD9DBThCSxMpjmqm+xQ+9NWaFJRhdZl0edvC0aPNg="),
])
def test_a_hash_is_the_algorithms(source: str, expected: str) -> None:
    assert run(source) == expected
