"""The C# that real policies use: statement blocks, JSON tokens, LINQ, new, interpolation, dates, static classes."""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest

from toolkit.emulator.expressions import CsType, ExpressionRuntimeError, compile_expression
from toolkit.emulator.expressions.jtoken import JArray, JObject, JValue
from toolkit.emulator.policy import RequestContext

CHAT = {"model": "gpt-4o", "stream": False, "messages": [
    {"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi there"}]}


def request(body: Any = CHAT, **fields: Any) -> RequestContext:
    ctx = RequestContext(
        "POST", "/openai/deployments/gpt-4o/chat/completions", query="api-version=2024-10-21&x=1",
        headers=[("Host", "gw.example:8443"), ("X-User", "alice"), ("Accept", "a"), ("Accept", "b")],
        body=body if isinstance(body, bytes) else json.dumps(body).encode(), api_path="openai",
        subscription_id="sub-1", subscription_name="Team A", api_id="azure-openai", region="West Europe",
    )
    ctx.variables.update(fields)
    return ctx


def run(source: str, ctx: Any = None) -> Any:
    return compile_expression(source).evaluate(ctx if ctx is not None else request())


def failure_of(source: str, ctx: Any = None) -> str:
    """The message of the failure ``source`` meets when it runs (it must fail)."""
    with pytest.raises(ExpressionRuntimeError) as caught:
        run(source, ctx)
    return str(caught.value)


EVALUATED: list[tuple[str, Any]] = [
    # statement blocks
    ("@{ var x = 2; int y = 3; return x * y + 1; }", 7),
    ("@{ var s = 0; foreach (var m in context.Request.Body.As<JObject>(preserveContent: true)[\"messages\"]) "
     "{ s += ((string)m[\"content\"]).Length; } return s; }", len("Be brief.") + len("Hi there")),
    ("@{ var n = 0; for (int i = 0; i < 5; i++) { if (i == 3) { continue; } n += i; } return n; }", 0 + 1 + 2 + 4),
    ("@{ var n = 0; for (int i = 0; i < 10; i++) { if (i == 2) break; n++; } return n; }", 2),
    ("@{ string r; switch (context.Request.Method.ToLower()) { case \"get\": r = \"read\"; break; "
     "case \"post\": case \"put\": r = \"write\"; break; default: r = \"other\"; break; } return r; }", "write"),
    ("@{ if (context.Request.Method == \"GET\") { return 1; } else if (context.Request.Method == \"POST\") "
     "{ return 2; } return 3; }", 2),
    ("@{ try { return JObject.Parse(\"not json\").ToString(); } catch { return \"bad\"; } }", "bad"),
    ("@{ try { var j = JObject.Parse(\"{\\\"id\\\":\\\"x\\\"}\"); return (string)j[\"id\"]; } catch { return null; } }", "x"),
    # JSON
    ("@(context.Request.Body.As<JObject>(true)[\"model\"].ToString())", "gpt-4o"),
    ("@((string)context.Request.Body.As<JObject>(preserveContent: true)[\"model\"])", "gpt-4o"),
    ("@(context.Request.Body.As<JObject>(true)[\"missing\"] == null)", True),
    ("@(context.Request.Body.As<JObject>(true)[\"stream\"] != null && "
     "context.Request.Body.As<JObject>(true)[\"stream\"].Type != JTokenType.Null)", True),
    ("@((bool)context.Request.Body.As<JObject>(true)[\"stream\"] == false)", True),
    ("@(new JObject(new JProperty(\"a\", 1), new JProperty(\"b\", \"x\")).ToString(Formatting.None))",
     '{"a":1,"b":"x"}'),
    ("@(new JObject(new JProperty(\"a\", new JArray(new[] { \"x\", \"y\" }))).ToString())",
     '{\n  "a": [\n    "x",\n    "y"\n  ]\n}'),
    ("@(JsonConvert.SerializeObject(new { resource = \"r\", servers = new[] { \"s1\" } }))",
     '{"resource":"r","servers":["s1"]}'),
    ("@(JToken.Parse(\"[1,2,3]\").Count())", 3),
    ("@(((JArray)JArray.Parse(\"[1,2]\"))[1].Value<int>())", 2),
    ("@(JObject.Parse(\"{\\\"a\\\":{\\\"b\\\":5}}\")[\"a\"].Value<int>(\"b\"))", 5),
    ("@(JObject.Parse(\"{\\\"model\\\":\\\"m\\\"}\").Property(\"model\")?.Value?.ToString() ?? string.Empty)", "m"),
    ("@(JObject.Parse(\"{}\").Property(\"model\")?.Value?.ToString() ?? string.Empty)", ""),
    ("@(JObject.Parse(\"{\\\"value\\\":[]}\")[\"value\"].HasValues)", False),
    ("@{ var o = new JObject(); o[\"k\"] = \"v\"; o.Add(\"n\", 2); return o.ToString(Formatting.None); }",
     '{"k":"v","n":2}'),
    ("@{ JArray b = new JArray(); b.Add(new JObject() { { \"name\", \"x\" }, { \"p\", 1 } }); "
     "return b[0].Value<string>(\"name\"); }", "x"),
    # LINQ and lambdas
    ("@(string.Concat(context.Request.Body.As<JObject>(true)[\"messages\"].Select(m => m.Value<string>(\"content\"))"
     ".ToArray()))", "Be brief.Hi there"),
    ("@(context.Request.Body.As<JObject>(true)[\"messages\"].Any(m => (string)m[\"role\"] == \"system\"))", True),
    ("@(context.Request.Body.As<JObject>(true)[\"messages\"].Where(m => (string)m[\"role\"] == \"user\").Count())", 1),
    ("@((string)context.Request.Body.As<JObject>(true)[\"messages\"].FirstOrDefault(m => (string)m[\"role\"] == \"user\")"
     "[\"content\"])", "Hi there"),
    ("@(new[] { 3, 1, 2 }.OrderBy(x => x).First())", 1),
    ("@(string.Join(\",\", new[] { \"b\", \"a\" }.OrderBy(p => p)))", "a,b"),
    # strings, chars, interpolation, ?? and ?.
    ("@($\"{context.Request.Method}:{context.Subscription.Id}\")", "POST:sub-1"),
    ("@($\"{{literal}} {1 + 2}\")", "{literal} 3"),
    # alignment pads to a width, on the left (positive) or on the right (negative), after any format; null is ""
    ("@($\"[{context.Request.Method,6}][{7,-4:D2}][{(string)null,2}][{\"long text\",3}]\")",
     "[  POST][07  ][  ][long text]"),
    ("@($\"{Math.Max(1, 2),3}|{1 /* } */}\")", "  2|1"),
    ("@($\"[{$\"{\"}\"}\"}]\")", "[}]"),  # an interpolated string in a hole, with a quoted brace in its own hole
    ("@(\"a/b/c\".Split('/')[1])", "b"),
    ("@(\"a-model/x\".Split(new[] { \"model/\" }, 2, StringSplitOptions.None)[1])", "x"),
    ("@(@\"C:\\dir\")", "C:\\dir"),
    ("@(context.Variables.GetValueOrDefault<string>(\"none\") ?? \"anon\")", "anon"),
    ("@(context.Request.Method.Substring(1, 2).ToLowerInvariant())", "os"),
    ("@(\"x\".Equals(\"X\", StringComparison.OrdinalIgnoreCase))", True),
    ("@(string.IsNullOrEmpty(context.Subscription.Name) ? context.Subscription.Id : context.Subscription.Name)", "Team A"),
    ("@(String.Concat(\"n=\", context.Variables[\"n\"]))", "n=5"),
    ("@(context.Request.Method.Length)", 4),
    # numbers
    ("@(7 / 2)", 3), ("@(-7 / 2)", -3), ("@(7 % 3)", 1), ("@(7.0 / 2)", 3.5), ("@(-context.Response.StatusCode)", None),
    ("@(Math.Round(2.345, 2))", 2.35), ("@(Math.Max(3, 9))", 9), ("@(Convert.ToInt32(\"42\") + 1)", 43),
    ("@(int.Parse((string)context.Variables[\"s\"]) > 0)", True),
    ("@(Convert.ToInt32(context.Variables[\"n\"]) > 0)", True),
    # context members
    ("@(context.Request.Url.Host)", "gw.example"),
    ("@(context.Request.Url.Port)", 8443),
    ("@(context.Request.Url.Query.GetValueOrDefault(\"x\", \"\"))", "1"),
    ("@(context.Request.OriginalUrl.ToString())",
     "https://gw.example:8443/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21&x=1"),
    ("@(context.Request.Headers.GetValueOrDefault(\"accept\", \"\"))", "a,b"),
    ("@(context.Request.Headers.ContainsKey(\"x-user\"))", True),
    ("@(context.Request.Headers[\"X-User\"][0])", "alice"),
    ("@(context.Deployment.Region)", "West Europe"),
    ("@(context.Product.Name == null && context.User.Id == null)", True),
    ("@(context.Variables.ContainsKey(\"n\") && context.Variables.Count > 0)", True),
    ("@(context.LastError?.PolicyId)", None),
    # dates and guids
    ("@(new DateTime(2024, 1, 2, 3, 4, 5).ToString(\"yyyyMMddTHHmmssZ\"))", "20240102T030405Z"),
    ("@(new DateTime(2024, 1, 2).AddDays(1).Day)", 3),
    ("@((new DateTime(2024, 1, 2) - new DateTime(2024, 1, 1)).TotalHours)", 24.0),
    ("@(TimeSpan.FromMinutes(2).TotalSeconds)", 120.0),
    ("@(Regex.IsMatch(\"gpt-4o-mini\", \"^gpt-4o\"))", True),
    ("@(Regex.Replace(\"a1b22\", \"[0-9]+\", \"#\"))", "a#b#"),
    ("@(System.Uri.EscapeDataString(\"a b/c\"))", "a%20b%2Fc"),
]


@pytest.mark.parametrize(("source", "expected"), EVALUATED)
def test_real_world_csharp_evaluates_like_apim(source: str, expected: Any) -> None:
    assert run(source, request(n=5, s="12")) == expected


def test_guid_and_now_have_their_types() -> None:
    value = run("@(Guid.NewGuid().ToString())")
    assert uuid.UUID(value).version == 4
    now = run("@(DateTime.UtcNow)")
    assert isinstance(now, datetime) and abs((datetime.now(now.tzinfo) - now)) < timedelta(seconds=5)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z", run("@(DateTime.UtcNow.ToString(\"o\"))"))


def test_mock_response_block_from_the_ai_gateway_labs_builds_json() -> None:
    source = """@{
        var random = new Random();
        double temperature;
        var format = "Celsius";
        var descriptions = new[] { "Clear skies", "Rainy" };
        var city = context.Request.MatchedParameters["city"];
        switch (city.ToLower())
        {
            case "seattle":
                format = "Fahrenheit";
                temperature = random.Next(14, 95) + random.NextDouble();
                break;
            default:
                temperature = random.Next(-5, 35) + random.NextDouble();
                break;
        }
        return new JObject(
            new JProperty("city", city),
            new JProperty("temperature", Math.Round(temperature, 1)),
            new JProperty("temperature_format", format),
            new JProperty("description", descriptions[random.Next(descriptions.Length)])
            ).ToString();
    }"""
    ctx = request()
    ctx.matched_parameters = {"city": "Seattle"}
    answer = json.loads(compile_expression(source).evaluate(ctx))
    assert answer["city"] == "Seattle" and answer["temperature_format"] == "Fahrenheit"
    assert 14 <= answer["temperature"] <= 96 and answer["description"] in ("Clear skies", "Rainy")


def test_locals_are_private_to_each_evaluation() -> None:
    expression = compile_expression("@{ var x = (int)context.Variables[\"n\"]; return x * 2; }")
    assert [expression.evaluate(request(n=n)) for n in (1, 2, 3)] == [2, 4, 6]
    assert expression.result_type is CsType.INT


@pytest.mark.parametrize(("source", "message"), [
    ("@(JObject.Parse(\"[1]\"))", "Error reading JObject"),
    ("@((string)JObject.Parse(\"{\\\"a\\\":{}}\")[\"a\"])", "Can not convert Object to String."),
    ("@(context.Request.Body.As<JObject>(true)[\"missing\"].ToString())", "Object reference not set"),
    ("@(new[] { 1 }[3])", "Index was out of range"),
    ("@(1 / (context.Variables.Count - 1))", "Attempted to divide by zero"),
    ("@{ var n = 0; for (;;) { n++; } return n; }", "the loop ran more than 10000 times"),
    ("@(context.Request.Body.As<JObject>(true)[\"messages\"].First(m => (string)m[\"role\"] == \"tool\"))",
     "Sequence contains no matching element"),
    ("@((JObject)context.Variables[\"n\"])", "Unable to cast object of type 'System.Int32' to type 'Newtonsoft.Json.Linq.JObject'."),
    ("@((DateTime)context.Variables[\"n\"])", "Unable to cast object of type 'System.Int32' to type 'System.DateTime'."),
    ("@((Guid)context.Variables[\"n\"])", "Unable to cast object of type 'System.Int32' to type 'System.Guid'."),
    ("@((decimal)context.Variables[\"n\"])", "Unable to cast object of type 'System.Int32' to type 'System.Decimal'."),
    ("@((long)JObject.Parse(\"{}\"))", "Can not convert Object to Int64."),
    # what APIM runs and the emulator cannot says so, even when it is found only at run time
    ("@(context.Request.Body.As<XDocument>().ToString())",
     "the local emulator does not support Body.As<XDocument>() (APIM does)"),
    ("@((1.5).ToString(\"C\"))", "the local emulator does not support the numeric format 'C' (APIM does)"),
])
def test_runtime_failures_read_like_dotnet(source: str, message: str) -> None:
    with pytest.raises(ExpressionRuntimeError) as caught:
        run(source, request(n=5))
    assert message in caught.value.message


def test_preserve_content_false_consumes_the_body_only_for_the_reader() -> None:
    ctx = request()
    assert run("@(context.Request.Body.As<string>(preserveContent: true).Length > 0)", ctx) is True
    assert ctx.request_body  # the emulator keeps the body: APIM only forbids a second non-preserving read


def test_json_tokens_keep_their_identity_in_variables() -> None:
    ctx = request()
    ctx.variables["body"] = run("@(context.Request.Body.As<JObject>(true))", ctx)
    assert isinstance(ctx.variables["body"], JObject)
    assert run("@(((JObject)context.Variables[\"body\"])[\"messages\"].Count())", ctx) == 2
    assert isinstance(run("@(JArray.Parse(\"[]\"))", ctx), JArray)
    assert isinstance(run("@(JToken.Parse(\"1\"))", ctx), JValue)


def test_jobject_get_value() -> None:
    source = '@(JObject.Parse("{\\"Name\\":\\"a\\"}").GetValue("name", StringComparison.OrdinalIgnoreCase).ToString())'
    assert run(source) == "a"
    assert run('@(JObject.Parse("{\\"Name\\":\\"a\\"}").GetValue("name") == null)') is True


def test_dates_stay_dates_in_json_tokens() -> None:
    source = ('@{ var o = new JObject() { { "retryAfter", DateTime.MinValue } }; '
              'return DateTime.UtcNow > o.Value<DateTime>("retryAfter") && o["retryAfter"].Type == JTokenType.Date; }')
    assert run(source) is True
    # Newtonsoft writes a date with its kind's zone: new DateTime(...) is Unspecified (no zone), UtcNow is Utc ("Z")
    assert run('@(JsonConvert.SerializeObject(new { at = new DateTime(2024, 1, 2) }))') == '{"at":"2024-01-02T00:00:00"}'
    assert run('@(JsonConvert.SerializeObject(new { at = DateTime.SpecifyKind(new DateTime(2024, 1, 2, 3, 4, 5, 600), '
               'DateTimeKind.Utc) }))') == '{"at":"2024-01-02T03:04:05.6Z"}'


@pytest.mark.parametrize(("source", "expected"), [
    # DateTime.Parse: a zone converts to local time (UTC on APIM's hosts), kind Local; no zone, kind Unspecified
    ('@(DateTime.Parse("2024-01-01T10:00:00+02:00").Hour)', 8),
    ('@(DateTime.Parse("2024-01-01T10:00:00+02:00").ToString("o"))', "2024-01-01T08:00:00.0000000+00:00"),
    ('@(DateTime.Parse("2024-01-01T10:00:00Z").Kind.ToString())', "Local"),
    ('@(DateTime.Parse("2024-01-01").ToString("o"))', "2024-01-01T00:00:00.0000000"),
    ('@(new DateTime(2024, 1, 2).ToString("yyyy-MM-ddK") + DateTime.MinValue.ToString("%K"))', "2024-01-02"),
    ('@(DateTime.UtcNow.ToString("%K") + DateTime.Now.ToString("%K") + DateTime.Today.ToString("%K"))',
     "Z+00:00+00:00"),  # "K" alone would be a standard format, which K is not: a FormatException, as in .NET
    ('@(DateTime.UtcNow.Kind == DateTimeKind.Utc && DateTime.Now.Kind == DateTimeKind.Local)', True),
    ('@(new DateTime(2024, 1, 1).ToUniversalTime().ToString("o"))', "2024-01-01T00:00:00.0000000Z"),
    ('@(DateTime.UtcNow.ToLocalTime().Kind.ToString())', "Local"),
    ('@(DateTime.SpecifyKind(DateTime.UtcNow, DateTimeKind.Unspecified).ToString("%K"))', ""),
    ('@(DateTime.UtcNow.AddDays(1).Kind.ToString() + new DateTime(2024, 1, 1).AddHours(1).Kind.ToString())',
     "UtcUnspecified"),  # arithmetic keeps the kind
    ('@(DateTime.Parse("2024-01-01T10:00:00+02:00") == new DateTime(2024, 1, 1, 8, 0, 0))', True),  # kinds aside
    # DateTimeOffset: offset 0, "+00:00" in its text, Unix times
    ('@(DateTimeOffset.UtcNow.ToString("o").EndsWith("+00:00") && DateTimeOffset.UtcNow.Offset == TimeSpan.Zero)', True),
    ('@(DateTimeOffset.FromUnixTimeSeconds(1700000000).ToString())', "11/14/2023 10:13:20 PM +00:00"),
    ('@(DateTimeOffset.FromUnixTimeMilliseconds(1700000000123).ToUnixTimeMilliseconds())', 1700000000123),
    ('@(DateTimeOffset.FromUnixTimeSeconds(-1).AddMilliseconds(500).ToUnixTimeSeconds())', -1),  # rounded down
    ('@(DateTimeOffset.UtcNow.ToUnixTimeSeconds() > 1700000000)', True),
    ('@(DateTimeOffset.FromUnixTimeSeconds(0).UtcDateTime.ToString("o"))', "1970-01-01T00:00:00.0000000Z"),
    ('@(DateTimeOffset.FromUnixTimeSeconds(0).DateTime.Kind.ToString())', "Unspecified"),
    ('@(DateTimeOffset.FromUnixTimeSeconds(0).LocalDateTime.ToString("%K"))', "+00:00"),
    ('@(DateTimeOffset.FromUnixTimeSeconds(60).Date.ToString("o"))', "1970-01-01T00:00:00.0000000"),
    ('@(DateTimeOffset.UtcNow > DateTime.UtcNow.AddDays(-1))', True),
    ('@(JsonConvert.SerializeObject(new { at = DateTimeOffset.FromUnixTimeSeconds(0) }))', '{"at":"1970-01-01T00:00:00+00:00"}'),
])
def test_dates_carry_their_kind_and_date_time_offsets_their_offset(source: str, expected: object) -> None:
    assert run(source) == expected


@pytest.mark.parametrize(("source", "message"), [
    ("@(DateTime.UtcNow.ToUnixTimeSeconds())", "'System.DateTime' does not contain a definition for 'ToUnixTimeSeconds'"),
    ("@(DateTimeOffset.UtcNow.Kind)", "'System.DateTimeOffset' does not contain a definition for 'Kind'"),
    ("@(DateTime.UtcNow.Offset)", "'System.DateTime' does not contain a definition for 'Offset'"),
    ("@(DateTimeOffset.FromUnixTimeSeconds(253402300800))",
     "Valid values are between -62135596800 and 253402300799, inclusive. (Parameter 'seconds')"),
    ("@(DateTimeOffset.FromUnixTimeMilliseconds(-62135596800001))",
     "Valid values are between -62135596800000 and 253402300799999, inclusive. (Parameter 'milliseconds')"),
    ('@(DateTime.SpecifyKind(DateTime.UtcNow, "Zulu"))', "where a DateTimeKind is expected"),
    ("@(DateTime.SpecifyKind(DateTimeOffset.UtcNow, DateTimeKind.Utc))", "'System.DateTimeOffset' where a DateTime"),
])
def test_date_members_of_the_other_type_and_out_of_range_unix_times_fail_as_dotnet(source: str, message: str) -> None:
    with pytest.raises(ExpressionRuntimeError, match=re.escape(message)):
        run(source)


@pytest.mark.parametrize(("source", "expected"), [
    # the ends of DateTimeOffset's range, in seconds and in milliseconds
    ("@(DateTimeOffset.FromUnixTimeSeconds(-62135596800).ToString(\"o\"))", "0001-01-01T00:00:00.0000000+00:00"),
    ("@(DateTimeOffset.FromUnixTimeSeconds(253402300799).ToString(\"o\"))", "9999-12-31T23:59:59.0000000+00:00"),
    ("@(DateTimeOffset.FromUnixTimeMilliseconds(253402300799999).ToUnixTimeMilliseconds())", 253402300799999),
    ("@(DateTimeOffset.FromUnixTimeMilliseconds(-62135596800000).Year)", 1),
    # an Unspecified date (no zone) still compares with a Utc one, by its clock, as .NET compares ticks
    ('@(DateTime.Parse("2024-01-01") < DateTime.UtcNow && DateTime.Parse("2024-01-01").Kind == DateTimeKind.Unspecified)',
     True),
    # a DateTimeOffset converts to itself, not to a DateTime
    ("@(DateTimeOffset.FromUnixTimeSeconds(0).ToUniversalTime().ToString())", "1/1/1970 12:00:00 AM +00:00"),
    ("@(DateTimeOffset.FromUnixTimeSeconds(0).ToLocalTime().ToUnixTimeSeconds())", 0),
])
def test_date_time_offset_range_ends_and_conversions(source: str, expected: object) -> None:
    assert run(source) == expected


@pytest.mark.parametrize(("source", "message"), [
    ("@(DateTimeOffset.FromUnixTimeSeconds(-62135596801))", "between -62135596800 and 253402300799"),
    ("@(DateTimeOffset.FromUnixTimeMilliseconds(253402300800000))", "between -62135596800000 and 253402300799999"),
    ('@(DateTime.Parse("next tuesday"))', "String 'next tuesday' was not recognized as a valid DateTime."),
    ("@(DateTime.UtcNow.ToUnixTimeMilliseconds())", "does not contain a definition for 'ToUnixTimeMilliseconds'"),
])
def test_date_failures_say_what_dotnet_says(source: str, message: str) -> None:
    with pytest.raises(ExpressionRuntimeError, match=re.escape(message)):
        run(source)


def test_a_date_without_a_zone_is_unspecified() -> None:
    from datetime import datetime

    from toolkit.emulator.expressions import dates

    assert dates.kind(datetime(2024, 1, 1)) == "Unspecified"
    assert dates.zone_suffix(datetime(2024, 1, 1)) == ""


@pytest.mark.parametrize(("source", "expected"), [
    ('@(context.Variables["n"] is int)', True),
    ('@(context.Variables["n"] is string)', False),
    ('@(context.Variables["s"] is not string)', False),
    ('@(context.Variables.GetValueOrDefault("none") is null)', True),
    ('@(context.Variables["s"] as string ?? "none")', "12"),
    ('@(context.Variables["n"] as string ?? "none")', "none"),
    ('@(JObject.Parse("{}") is JObject)', True),
    ('@($"{2.5:F2}|{7:D3}|{new DateTime(2024, 1, 2):yyyy-MM-dd}")', "2.50|007|2024-01-02"),
])
def test_type_tests_and_format_specifiers(source: str, expected: Any) -> None:
    assert run(source, request(n=5, s="12")) == expected


def test_hostile_nesting_is_refused_not_a_crash() -> None:
    from toolkit.emulator.expressions import UnsupportedExpression

    with pytest.raises(UnsupportedExpression, match="nested deeper than"):
        compile_expression("@(" + "(" * 3000 + "1" + ")" * 3000 + ")")


@pytest.mark.parametrize(("source", "expected"), [
    # found by review: a JSON date in "Z" is Utc as Newtonsoft reads it (DateTime.Parse would make it Local)
    ('@(((DateTime)JObject.Parse("{\\"d\\":\\"2024-01-01T10:00:00Z\\"}")["d"]).ToString("o"))',
     "2024-01-01T10:00:00.0000000Z"),
    ('@(JObject.Parse("{\\"d\\":\\"2024-01-01T10:00:00Z\\"}")["d"].Value<DateTime>().Kind.ToString())', "Utc"),
    ('@(JObject.Parse("{\\"d\\":\\"2024-01-01T12:00:00+02:00\\"}")["d"].Value<DateTime>().ToString("o"))',
     "2024-01-01T10:00:00.0000000+00:00"),  # an offset still converts to local time
    ('@(JObject.Parse("{\\"d\\":\\"2024-01-01T10:00:00Z\\"}")["d"].Value<DateTimeOffset>().ToUnixTimeSeconds())',
     1704103200),
    # a DateTimeOffset is no DateTime, and a DateTime converts to one where C# converts it
    ("@{ object o = DateTimeOffset.UtcNow; return o is DateTime; }", False),
    ("@{ object o = DateTimeOffset.UtcNow; return o is DateTimeOffset; }", True),
    ("@{ DateTimeOffset d = DateTime.UtcNow; return d.ToUnixTimeSeconds() > 0; }", True),
    ("@{ DateTimeOffset d = DateTimeOffset.UtcNow; d = new DateTime(1970, 1, 2); return d.ToUnixTimeSeconds(); }",
     86400),
    ("@(((DateTimeOffset)DateTime.UtcNow).ToUnixTimeSeconds() > 0)", True),
    ("@(DateTimeOffset.FromUnixTimeSeconds(0).Equals(DateTime.SpecifyKind(new DateTime(1970, 1, 1), DateTimeKind.Utc)))",
     True),  # Equals(DateTimeOffset), the DateTime converted
    ("@(DateTime.UtcNow.Equals(DateTimeOffset.UtcNow))", False),  # DateTime.Equals(object): not a DateTime
])
def test_json_dates_keep_newtonsofts_kind_and_date_time_offsets_convert_as_csharp(source: str, expected: object) -> None:
    assert run(source) == expected


@pytest.mark.parametrize(("source", "message"), [
    ('@(DateTime.Parse("0001-01-01T00:30:00+01:00"))', "was not recognized as a valid DateTime"),  # before year 1
    ("@(DateTime.Parse(null))", "Value cannot be null. (Parameter 's')"),
    ("@(DateTimeOffset.FromUnixTimeSeconds(\"x\"))", "Argument of type 'System.String' where an integer is expected."),
])
def test_date_arguments_that_dotnet_refuses_fail_with_its_message(source: str, message: str) -> None:
    with pytest.raises(ExpressionRuntimeError, match=re.escape(message)):
        run(source)
