"""Edges of the .NET value semantics (toolkit.emulator.expressions.dotnet) found by mutation testing: the exact
messages a policy's on-error or a trace shows, the range boundaries of conversions and integer arithmetic, and the
small runtime classes (URL, message, body, JWT, headers)."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from toolkit.emulator.expressions.dates import CsDateTimeOffset
from toolkit.emulator.expressions.dotnet import (Body, CsChar, CsList, CsLong, Jwt, Message, MultiValueDict, Url,
                                                 arithmetic, compare, convert, display, enumerate_items, equals,
                                                 format_item, message_of, parse_double, parse_int, to_string, unbox)
from toolkit.emulator.expressions.errors import CsError
from toolkit.emulator.expressions.formatting import timespan_text
from toolkit.emulator.expressions.jtoken import JObject, JValue

OVERFLOW = "Arithmetic operation resulted in an overflow."
NULL_REFERENCE = "Object reference not set to an instance of an object."


def refusal(call, *args) -> str:
    with pytest.raises(CsError) as caught:
        call(*args)
    return str(caught.value)


# -- conversions of JSON values (Newtonsoft's explicit operators) ---------------------------------------------


@pytest.mark.parametrize("target", ["int?", "Int32?"])
def test_a_nullable_target_converts_as_its_value_type(target: str) -> None:
    assert convert(JValue(5), target) == 5
    assert convert(JValue(None), target) is None  # null stays null


def test_a_nullable_long_target_gives_a_long() -> None:
    assert type(convert(JValue(5), "Int64?")) is CsLong


def test_a_string_value_converts_to_itself() -> None:
    assert convert(JValue("text"), "string") == "text"
    assert convert(JValue(1.5), "string") == "1.5"


@pytest.mark.parametrize(("value", "expected"), [(True, True), (False, False), (0, False), (2, True), (0.0, False)])
def test_a_value_converts_to_bool_as_convert_to_boolean(value: object, expected: bool) -> None:
    assert convert(JValue(value), "bool") is expected


@pytest.mark.parametrize(("value", "name"), [(1.5, "Float"), (True, "Boolean")])
def test_only_an_integer_or_a_one_character_string_converts_to_char(value: object, name: str) -> None:
    assert refusal(convert, JValue(value), "char") == f"Can not convert {name} to Char."
    assert convert(JValue(66), "char") == CsChar("B")
    assert refusal(convert, JValue("ab"), "char") == "Could not convert string to char: ab."


def test_a_long_holds_64_bits_and_no_more() -> None:
    assert convert(JValue(2**63 - 1), "long") == 2**63 - 1
    assert refusal(convert, JValue(2**63), "long") == "Value was either too large or too small for an Int64."


def test_a_date_value_converts_to_itself_or_its_offset() -> None:
    when = datetime(2024, 1, 2, 3, 4, 5, 678000)  # no zone: Unspecified, which the text form would not keep
    assert convert(JValue(when), "DateTime") is when
    offset = convert(JValue(when), "DateTimeOffset")
    assert type(offset) is CsDateTimeOffset and offset.replace(tzinfo=None) == when
    assert refusal(convert, JValue("no date"), "DateTime") == "Could not convert string to DateTime: no date."


@pytest.mark.parametrize(("target", "name"), [("Guid", "Guid"), ("Guid?", "Guid"), ("JObject", "JObject")])
def test_a_value_no_conversion_takes_names_the_clr_short_name(target: str, name: str) -> None:
    assert refusal(convert, JValue(1.5), target) == f"Can not convert Float to {name}."


# -- conversions of other values ------------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["object", "dynamic", "var"])
def test_a_conversion_to_object_keeps_the_value(target: str) -> None:
    value = CsList([1])
    assert convert(value, target) is value


def test_a_container_token_is_no_string() -> None:
    assert refusal(convert, JObject({}), "String") == "Can not convert Object to String."


def test_a_date_converts_to_an_offset_only_when_asked() -> None:
    when = datetime(2024, 1, 2, tzinfo=UTC)
    assert type(convert(when, "DateTime")) is datetime
    assert type(convert(when, "DateTimeOffset")) is CsDateTimeOffset


def test_an_unknown_cast_is_the_emulators_limit() -> None:
    assert refusal(convert, 5, "Foo") == "the local emulator does not support a cast to (Foo) (APIM does)"


def test_a_claims_dict_cast_to_jwt_is_a_jwt() -> None:
    assert isinstance(convert({"sub": "x"}, "Jwt"), Jwt)
    assert isinstance(unbox({"sub": "x"}, "Jwt"), Jwt)


def test_unboxing_null_to_a_value_type_is_a_null_reference() -> None:
    assert refusal(unbox, None, "int") == NULL_REFERENCE


@pytest.mark.parametrize(("value", "target", "expected"), [
    (2147483647.9, "int", 2147483647), (-2147483648.9, "int", -(2**31)), (-2147483648.5, "int", -(2**31)),
    (9.2233720368547748e18, "long", 9223372036854774784),
])
def test_a_double_converts_toward_zero_inside_the_range(value: float, target: str, expected: int) -> None:
    assert convert(value, target) == expected


@pytest.mark.parametrize(("value", "target"), [
    (-2147483649.0, "int"), (2147483648.0, "int"), (2147483648.5, "int"), (math.nan, "int"), (9.223372036854775808e18, "long"),
])
def test_a_double_past_the_range_overflows(value: float, target: str) -> None:
    assert refusal(convert, value, target) == OVERFLOW


def test_a_one_character_string_converts_to_char_and_a_longer_one_does_not() -> None:
    converted = convert("a", "char")
    assert type(converted) is CsChar and converted == "a"
    assert refusal(convert, "ab", "char") == "Unable to cast object of type 'System.String' to type 'System.Char'."


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
def test_a_double_with_no_char_code_overflows(value: float) -> None:
    assert refusal(convert, value, "char") == OVERFLOW


def test_a_long_converts_to_a_double_whole() -> None:
    converted = convert(CsLong(2**40 + 1), "double")
    assert type(converted) is float and converted == 1099511627777.0


# -- arithmetic and comparisons -------------------------------------------------------------------------------


@pytest.mark.parametrize(("op", "a", "b", "expected"), [
    ("+", 3_000_000_000, 1, 3_000_000_001),  # an operand past the int range: long arithmetic
    ("-", 0, -(2**31), -(2**31)),  # int.MinValue is an int: 0 - int.MinValue wraps
    ("+", 1, 2**31 - 1, -(2**31)),  # int.MaxValue is an int: + 1 wraps
    ("+", timedelta(hours=1), timedelta(minutes=30), timedelta(hours=1, minutes=30)),
    ("-", timedelta(hours=1), timedelta(minutes=30), timedelta(minutes=30)),
])
def test_integer_and_timespan_arithmetic(op: str, a: object, b: object, expected: object) -> None:
    assert arithmetic(op, a, b) == expected


def test_integer_failures_have_dotnets_messages() -> None:
    assert refusal(arithmetic, "/", 1, 0) == "Attempted to divide by zero."
    assert refusal(arithmetic, "%", 1, 0) == "Attempted to divide by zero."
    assert refusal(arithmetic, "/", -(2**31), -1) == OVERFLOW
    assert refusal(arithmetic, "%", CsLong(-(2**63)), -1) == OVERFLOW


def test_an_integer_meets_a_double_as_a_double() -> None:
    assert equals(float(2**63 - 1), CsLong(2**63 - 1))  # (double)long.MaxValue == long.MaxValue in C#
    assert equals(CsLong(2**63 - 1), float(2**63 - 1))
    assert equals(CsLong(2**53 + 1), CsLong(2**53 + 1))  # two integers stay exact
    assert compare("<", CsLong(2**53), CsLong(2**53 + 1))


def test_a_char_compares_with_a_one_character_string_by_code() -> None:
    assert compare("<", CsChar("a"), "b")
    assert compare("<", "a", CsChar("b"))
    assert not compare(">", CsChar("a"), "b")


def test_a_container_token_equals_only_itself_and_a_value_token_its_value() -> None:
    token = JObject({"a": JValue(1)})
    assert not equals(token, {"a": JValue(1)})
    assert equals(token, token)
    assert equals(5, JValue(5)) and equals(JValue(5), 5)


# -- text -----------------------------------------------------------------------------------------------------


def test_to_string_of_a_json_value_with_a_formatting_is_json_and_with_a_format_its_value_formatted() -> None:
    assert to_string(JValue("a"), "None") == '"a"'
    assert to_string(JValue(True), "Indented") == "true"
    assert to_string(JValue(1.5), "N2") == "1.50"
    assert to_string(JValue(None), "N2") == ""
    assert to_string(JValue("a")) == "a"


def test_to_string_of_an_object_indented_or_not() -> None:
    token = JObject({"a": JValue(1)})
    assert to_string(token, "None") == '{"a":1}'
    assert to_string(token, "Indented") == '{\n  "a": 1\n}'
    assert refusal(to_string, None) == NULL_REFERENCE


def test_a_guids_formats() -> None:
    guid = uuid.UUID("12345678-1234-5678-1234-567812345678")
    assert to_string(guid, "") == "12345678-1234-5678-1234-567812345678"
    assert to_string(guid, "b") == "{12345678-1234-5678-1234-567812345678}"
    assert refusal(to_string, guid, "Q") == (
        'Format string can be only "D", "d", "N", "n", "P", "p", "B", "b", "X" or "x".')


def test_display_of_null_a_timespan_and_an_array() -> None:
    assert display(None) == ""
    assert display(timedelta(hours=1, seconds=5)) == timespan_text(timedelta(hours=1, seconds=5)) == "01:00:05"
    assert display(CsList(["a"])) == "System.String[]"


def test_a_format_item_pads_only_when_asked_and_shows_null_as_nothing() -> None:
    assert format_item("", None) == "" and format_item(datetime(2024, 1, 2), "") == "1/2/2024 12:00:00 AM"
    assert format_item(1.5, "N2") == "1.50"
    assert format_item(None, "N2") == ""
    when = datetime(2024, 1, 2, 15, 4, 5)
    assert format_item(when, None) == display(when)
    assert format_item("a", None, 3) == "  a" and format_item("a", None, -3) == "a  "
    assert refusal(format_item, "a", None, 1_000_000) == "Input string was not in a correct format."


def test_parse_int_at_the_int_range_and_past_it() -> None:
    assert parse_int("2147483647") == 2**31 - 1
    assert parse_int("-2147483648") == -(2**31)
    assert parse_int("000") == 0 and parse_int("-0") == 0
    too_big = "Value was either too large or too small for an Int32."
    assert refusal(parse_int, "-2147483649") == too_big
    assert refusal(parse_int, "1" * 25) == too_big
    assert refusal(parse_int, None) == "Value cannot be null. (Parameter 's')"
    assert refusal(parse_double, None) == "Value cannot be null. (Parameter 's')"


def test_what_is_not_enumerable_says_so() -> None:
    assert refusal(enumerate_items, None) == "Value cannot be null. (Parameter 'source')"
    assert refusal(enumerate_items, 5) == "System.Int32 is not enumerable."


@pytest.mark.parametrize(("error", "message"), [
    (KeyError("k"), "The given key 'k' was not present in the dictionary."),
    (KeyError(), "The given key '' was not present in the dictionary."),
    (ZeroDivisionError(), "Attempted to divide by zero."),
    (IndexError(), "Index was outside the bounds of the array."),
    (OverflowError(), OVERFLOW),
])
def test_python_errors_read_as_dotnets(error: BaseException, message: str) -> None:
    assert message_of(error) == message


# -- runtime classes ------------------------------------------------------------------------------------------


def test_query_parameters_are_case_sensitive_and_keep_blank_values() -> None:
    query = Url("https", "example.test", 443, "/p", "A=1&a=2&a=3&blank=").query_dict()
    assert query.get("a") == "2,3" and query.get("A") == "1"
    assert query.get("blank") == "" and query.get("missing", "default") == "default"
    with pytest.raises(KeyError) as caught:
        query["missing"]
    assert caught.value.args == ("missing",)


def test_headers_are_case_insensitive() -> None:
    headers = MultiValueDict()
    headers["Content-Type"] = CsList(["a", "b"])
    assert headers.get("content-type") == "a,b" and "CONTENT-TYPE" in headers


@pytest.mark.parametrize(("scheme", "port", "text"), [
    ("http", 80, "http://h/p?q=1"), ("https", 443, "https://h/p?q=1"), ("http", 81, "http://h:81/p?q=1"),
    ("http", 443, "http://h:443/p?q=1"),
])
def test_a_url_names_only_a_port_its_scheme_does_not_imply(scheme: str, port: int, text: str) -> None:
    assert Url(scheme, "h", port, "/p", "q=1").to_string() == text


def test_a_message_keeps_what_it_was_given() -> None:
    url = Url("https", "h", 443, "/", "")
    message = Message(201, "Created", {"a": CsList(["1"])}, b'{"x": 1}', "POST", url)
    assert (message.status, message.reason, message.headers, message.method, message.url, message.raw) == (
        201, "Created", {"a": ["1"]}, "POST", url, b'{"x": 1}')
    assert message.body.as_type("string", True) == '{"x": 1}'
    assert message.body.as_type("JObject", True).get("x") == JValue(1)


def test_reading_a_body_without_preserve_content_consumes_it() -> None:
    consumed = []
    body = Body(lambda: "é".encode(), lambda: consumed.append(True))
    assert body.as_type("string", True) == "é" and consumed == []
    assert body.as_type("string", False) == "é" and consumed == [True]


def test_a_jwts_claims_are_lists() -> None:
    assert Jwt({"aud": ["a", "b"], "sub": "user-1"}).claim_dict() == {"aud": ["a", "b"], "sub": ["user-1"]}


# -- type names and dates -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("a", "b"), [("string[]", "System.String[]"), ("string []", "String[]"),
                                      ("int[][]", "Int32[][]")])
def test_type_names_compare_by_the_type_they_name(a: str, b: str) -> None:
    from toolkit.emulator.expressions.cstypes import same_type

    assert same_type(a, b)
    assert not same_type(a, "long[]")


def test_a_json_date_in_utc_stays_utc_whatever_the_machines_zone(machine_time_zone) -> None:
    from toolkit.emulator.expressions.dates import kind, parse

    machine_time_zone("Asia/Kolkata")  # UTC+05:30: a conversion to the machine's zone would show
    value = parse("2024-01-02T03:04:05Z", "bad date", utc_stays_utc=True)
    offset_date = parse("2024-01-02T03:04:05+00:00", "bad date", utc_stays_utc=True)
    assert (kind(value), value.hour, value.utcoffset()) == ("Utc", 3, timedelta(0))
    assert kind(offset_date) == "Local"  # an offset, even +00:00, converts to local time (which is UTC here)


def test_a_datetimeoffset_converts_to_itself_keeping_its_offset() -> None:
    from datetime import timezone

    from toolkit.emulator.expressions.dates import to_offset

    india = CsDateTimeOffset(2024, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    assert to_offset(india) is india
