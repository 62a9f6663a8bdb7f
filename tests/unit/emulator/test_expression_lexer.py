"""The expression lexer reads C#'s tokens: what each literal, comment and interpolation hole becomes, and what it
refuses (and where)."""

from __future__ import annotations

import pytest

from toolkit.emulator.expressions import UnsupportedExpression
from toolkit.emulator.expressions.lexer import Token, tokenize


def lex(source: str, start: int = 0, end: int | None = None) -> list[tuple[str, str, int, object]]:
    return [(t.kind, t.text, t.pos, t.value) for t in tokenize(source, start, end)]


def refusal(source: str, start: int = 0, end: int | None = None) -> UnsupportedExpression:
    with pytest.raises(UnsupportedExpression) as caught:
        tokenize(source, start, end)
    return caught.value


@pytest.mark.parametrize(
    ("source", "kind", "value"),
    [
        ("42", "int", 42), ("1_000", "int", 1000), ("1__0", "int", 10), ("01", "int", 1),
        ("18446744073709551615", "int", 18446744073709551615),
        ("1U", "int", 1), ("1u", "int", 1), ("1L", "long", 1), ("1l", "long", 1),
        ("1UL", "long", 1), ("1ul", "long", 1), ("1Lu", "long", 1), ("1uL", "long", 1),
        ("0x1F", "int", 31), ("0X1f", "int", 31), ("0xFFd", "int", 4093), ("0x_1", "int", 1), ("0x1L", "long", 1),
        ("0b101", "int", 5), ("0B1", "int", 1), ("0b_1_0", "int", 2),
        (".5", "double", 0.5), ("1.25", "double", 1.25), ("1e3", "double", 1000.0), ("1E+3", "double", 1000.0),
        ("2.5E-3", "double", 0.0025), ("1e1_0", "double", 1e10), ("1.5e2", "double", 150.0),
        ("1d", "double", 1.0), ("1D", "double", 1.0), ("2f", "double", 2.0), ("2F", "double", 2.0),
        ("3m", "double", 3.0), ("3M", "double", 3.0), ("1.5m", "double", 1.5), ("1.5e3f", "double", 1500.0),
        ("1" + "0" * 20 + "d", "double", 1e20), ("1" + "0" * 20 + "M", "double", 1e20),
        ('"a b"', "string", "a b"), ('""', "string", ""), ("'a'", "string", "a"), ("'X'", "string", "X"), ("'\"'", "string", '"'),
        ("'\\''", "string", "'"), ("'\\u0041'", "string", "A"), ("'\\uFFFF'", "string", "\uffff"),
        ('@"a\\b"', "string", "a\\b"), ('@"a""b"', "string", 'a"b'), ('@""""', "string", '"'),
        ('@"a\nb"', "string", "a\nb"), ('@""', "string", ""),
    ],
)
def test_a_literal_is_one_token_with_its_csharp_value(source: str, kind: str, value: object) -> None:
    assert lex(source) == [(kind, source, 0, value), ("eof", "", len(source), None)]


@pytest.mark.parametrize(
    ("escape", "value"),
    [
        ('\\"', '"'), ("\\\\", "\\"), ("\\0", "\0"), ("\\a", "\a"), ("\\b", "\b"), ("\\f", "\f"), ("\\n", "\n"),
        ("\\r", "\r"), ("\\t", "\t"), ("\\v", "\v"), ("\\'", "'"),
        ("\\x4", "\x04"), ("\\x41", "A"), ("\\x041", "A"), ("\\x0041", "A"), ("\\x00410", "A0"), ("\\x41g", "Ag"),
        ("\\u0041", "A"), ("\\u00411", "A1"), ("\\U0001F600", "\U0001f600"), ("\\U0001F6000", "\U0001f6000"), ("\\U0010FFFF", "\U0010ffff"),
    ],
)
def test_a_string_reads_csharp_escape_sequences(escape: str, value: str) -> None:
    source = f'"{escape}"'
    assert lex(source)[0] == ("string", source, 0, value)
    assert tokenize(f'$"{escape}"')[0].value == (value,)


@pytest.mark.parametrize(
    ("source", "tokens"),
    [
        ("  a /* x */ 1 // c\n b", [("ident", "a", 2), ("int", "1", 12), ("ident", "b", 20)]),
        ("\n// c\nb", [("ident", "b", 6)]),
        ("// a\nb\nc", [("ident", "b", 5), ("ident", "c", 7)]),
        ("/* a */ b /* c */ d", [("ident", "b", 8), ("ident", "d", 18)]),
        ("a/**/b//x", [("ident", "a", 0), ("ident", "b", 5)]),
        ("a/*/b*/c", [("ident", "a", 0), ("ident", "c", 7)]),
        ("_x ab1_c", [("ident", "_x", 0), ("ident", "ab1_c", 3)]),
        ("a_.5", [("ident", "a_", 0), ("double", ".5", 2)]),
        ("1.x", [("int", "1", 0), ("op", ".", 1), ("ident", "x", 2)]),
        ("1..2", [("int", "1", 0), ("op", ".", 1), ("double", ".2", 2)]),
        ("1._5", [("int", "1", 0), ("op", ".", 1), ("ident", "_5", 2)]),
        ("x+'a'+y", [("ident", "x", 0), ("op", "+", 1), ("string", "'a'", 2), ("op", "+", 5), ("ident", "y", 6)]),
        ('"a"+@"b"+$"c"+d', [("string", '"a"', 0), ("op", "+", 3), ("string", '@"b"', 4), ("op", "+", 8),
                             ("interp", '$"c"', 9), ("op", "+", 13), ("ident", "d", 14)]),
        ("2d+x", [("double", "2d", 0), ("op", "+", 2), ("ident", "x", 3)]),
        ("1+0x1F", [("int", "1", 0), ("op", "+", 1), ("int", "0x1F", 2)]),
        ("0b1+23", [("int", "0b1", 0), ("op", "+", 3), ("int", "23", 4)]),
        ("f ?.5 : 1", [("ident", "f", 0), ("op", "?", 2), ("double", ".5", 3), ("op", ":", 6), ("int", "1", 8)]),
        ("a?.5", [("ident", "a", 0), ("op", "?", 1), ("double", ".5", 2)]),
        ("a?.b", [("ident", "a", 0), ("op", "?.", 1), ("ident", "b", 3)]),
        ("a<<=b", [("ident", "a", 0), ("op", "<<", 1), ("op", "=", 3), ("ident", "b", 4)]),
    ],
)
def test_a_source_splits_into_tokens_at_their_offsets_past_blanks_and_comments(source: str, tokens: list[tuple]) -> None:
    found = tokenize(source)
    assert [(t.kind, t.text, t.pos) for t in found] == [*tokens, ("eof", "", len(source))]


@pytest.mark.parametrize("op", "=> == != <= >= && || ?? ?. ++ -- += -= *= /= %= &= |= ^= << :: ->".split())
def test_a_two_character_operator_is_one_token(op: str) -> None:
    assert lex(f"a{op}b")[1] == ("op", op, 1, None)


@pytest.mark.parametrize("op", list("(){}[].,;:?+-*/%!<>=&|^~"))
def test_a_punctuation_character_is_an_operator_token(op: str) -> None:
    assert lex(f"a {op} b")[1] == ("op", op, 2, None)


@pytest.mark.parametrize(
    ("source", "start", "end", "tokens"),
    [
        ("a b", 0, 1, [("ident", "a", 0, None), ("eof", "", 1, None)]),
        ("xx 1", 2, None, [("int", "1", 3, 1), ("eof", "", 4, None)]),
        ("abc", 0, 2, [("ident", "ab", 0, None), ("eof", "", 2, None)]),
        ("a.5", 0, 2, [("ident", "a", 0, None), ("op", ".", 1, None), ("eof", "", 2, None)]),
        ("1.5", 0, 2, [("int", "1", 0, 1), ("op", ".", 1, None), ("eof", "", 2, None)]),
        ("1x", 0, 1, [("int", "1", 0, 1), ("eof", "", 1, None)]),
        ("1Lx", 0, 2, [("long", "1L", 0, 1), ("eof", "", 2, None)]),
        ("a?.5", 0, 3, [("ident", "a", 0, None), ("op", "?.", 1, None), ("eof", "", 3, None)]),
        ("1 // c\n2", 0, 4, [("int", "1", 0, 1), ("eof", "", 4, None)]),
    ],
)
def test_tokenize_reads_only_between_start_and_end(source: str, start: int, end: int | None, tokens: list) -> None:
    assert lex(source, start, end) == tokens


@pytest.mark.parametrize(
    ("source", "parts"),
    [
        ('$"a{x}b"', ("a", (4, 5), "b")),
        ('$"{x}"', ((3, 4),)),
        ('$""', ()),
        ('$"{a}{b}"', ((3, 4), (6, 7))),
        ('$"{{x}}"', ("{x}",)),
        ('$"{x}}}"', ((3, 4), "}")),
        ('$"a\\tb{x}"', ("a\tb", (7, 8))),
        ('$"{x:N2}"', ((3, 4, "N2"),)),
        ('$"{a:N}{b:D}"', ((3, 4, "N"), (8, 9, "D"))),
        ('$"{{}} {x:N}"', ("{} ", (8, 9, "N"))),
        ('$"{f(g(x)):N}"', ((3, 10, "N"),)),
        ('$"{X}"', ((3, 4),)),
        ('$"{x:yyyy-MM-dd} z"', ((3, 4, "yyyy-MM-dd"), " z")),
        ('$"{f(a):N}"', ((3, 7, "N"),)),
        ('$"{a[0]:N}"', ((3, 7, "N"),)),
        ('$"{(a ? b : c)}"', ((3, 14),)),
        ('$"{new[] {1, 2}.Length}"', ((3, 22),)),
        ('$"{f("}")}"', ((3, 9),)),
        ('$"{f("a\\"}")}"', ((3, 12),)),
        ('$"{f("\\"")}"', ((3, 10),)),
        ('$"{a + ""}"', ((3, 9),)),
        ("$\"{'}'}\"", ((3, 6),)),
        ('$"{x /* } */}"', ((3, 12),)),  # a brace inside a comment does not close the hole
        ('$"{x,5}"', ((3, 6),)),  # the alignment is the parser's: the hole runs to its brace
        ('$"{x,-5:N}"', ((3, 7, "N"),)),
        ('$"{x:N}}}"', ((3, 4, "N"), "}")),  # a format ends at the first brace; "}}" after it is text
    ],
)
def test_an_interpolated_string_splits_into_text_and_holes(source: str, parts: tuple) -> None:
    assert lex(source) == [("interp", source, 0, parts), ("eof", "", len(source), None)]


def test_interpolation_holes_are_offsets_into_the_whole_source() -> None:
    source = '1 + $"<{x:N2}>"'
    token = tokenize(source + " + y")[2]
    assert (token.kind, token.text, token.pos, token.value) == ("interp", source[4:], 4, ("<", (8, 9, "N2"), ">"))
    assert source[8:9] == "x"


@pytest.mark.parametrize(
    ("source", "reason", "column"),
    [
        ("1 /*/ 2", "unterminated comment", 3),
        ('x + "abc', "unterminated string literal", 5),
        ('"a\nb"', "unterminated string literal", 1),
        ('@"abc', "unterminated string literal", 1),
        ('$"ab', "unterminated string literal", 1),
        ('$"a\nb"', "unterminated string literal", 1),
        ('$"{x}', "unterminated string literal", 1),
        ('$"{x"', "unterminated interpolation hole in an interpolated string", 4),
        ('$"a{b"', "unterminated interpolation hole in an interpolated string", 5),
        ('$"{x:N2"', "unterminated interpolation hole in an interpolated string", 5),
        ('$"{x /* }"', "unterminated comment", 6),
        ('$"a}b"', "a '}' in an interpolated string's text must be doubled ('}}') (C# refuses it: CS8086)", 4),
        ('$"{x}}"', "a '}' in an interpolated string's text must be doubled ('}}') (C# refuses it: CS8086)", 6),
        ('$"{x:}"', "empty format specifier after ':' (C# refuses it: CS8089)", 5),
        ('$"{x // c}"', "a single-line comment in an interpolation hole (C# refuses it: CS8077)", 6),
        ("0x", "hexadecimal literal without digits", 1),
        ("0b", "binary literal without digits", 1),
        ("0x_", "a digit separator (_) must stand between digits", 3),
        ("1_", "a digit separator (_) must stand between digits", 2),
        ("1_e3", "a digit separator (_) must stand between digits", 2),
        ("x 1.5_", "a digit separator (_) must stand between digits", 6),
        ("0b102", "'2' is not a binary digit (0 or 1)", 5),
        ("0b1d", "numeric literal suffix 'd' is not valid C#", 4),
        ("x 1x", "numeric literal suffix 'x' is not valid C#", 4),
        ("1X", "numeric literal suffix 'X' is not valid C#", 2),
        ("1Ld", "numeric literal suffix 'd' is not valid C#", 3),
        ("1.5X", "numeric literal suffix 'X' is not valid C#", 4),
        ("1L_", "numeric literal suffix '_' is not valid C#", 3),
        ("1LL", "numeric literal suffix 'L' is not valid C#", 3),
        ("1ll", "numeric literal suffix 'l' is not valid C#", 3),
        ("1uu", "numeric literal suffix 'u' is not valid C#", 3),
        ("1ULL", "numeric literal suffix 'L' is not valid C#", 4),
        ("x 1\u0661+1", "numeric literal '1\u0661' uses non-ASCII digits", 3),
        ("x 1.5\u0661", "numeric literal '1.5\u0661' uses non-ASCII digits", 3),
        ("\u0661", "numeric literal '\u0661' uses non-ASCII digits", 1),
        ("x 1e", "malformed exponent in numeric literal '1e'", 3),
        ("1e+", "malformed exponent in numeric literal '1e+'", 1),
        ("1e_3", "malformed exponent in numeric literal '1e'", 1),
        ("1eX5", "malformed exponent in numeric literal '1e'", 1),
        ("1" + "0" * 20 + "X", "integer literal of 21 digits is outside the ulong range (C#: CS1021)", 1),
        ("x 1e400d", "numeric literal 1e400 is outside the range of double (C#: CS0594)", 3),
        ('"\\q"', "unrecognized escape sequence '\\q' (C# refuses it: CS1009)", 2),
        ('$"\\{x}"', "unrecognized escape sequence '\\{' (C# refuses it: CS1009)", 3),
        ('"\\xg"', "malformed escape sequence '\\x': \\x needs 1 to 4 hex digits", 2),
        ('"\\u004"', "malformed escape sequence '\\u004': \\u needs exactly 4 hex digits", 2),
        ('"\\U0041"', "malformed escape sequence '\\U0041': \\U needs exactly 8 hex digits", 2),
        ('"\\U00110000"', "escape sequence '\\U00110000' is past the last Unicode code point (10FFFF)", 2),
        ("'", "malformed character literal", 1),
        ("''", "malformed character literal", 1),
        ("x 'ab'", "malformed character literal", 3),
        ("'\n'", "malformed character literal", 1),
        ("'\\uFFFFx'", "malformed character literal", 1),
        ("'\\U0001F600'", "a character literal holds one UTF-16 code unit (C# refuses this one: CS1012)", 1),
        ("'\\U00010000'", "a character literal holds one UTF-16 code unit (C# refuses this one: CS1012)", 1),
        ("x @y", "'@' is only allowed at the start of a policy expression", 3),
        ('@"a" @x', "'@' is only allowed at the start of a policy expression", 6),
        ("a # b", "unexpected character '#'", 3),
        ("$x", "unexpected character '$'", 1),
    ],
)
def test_invalid_csharp_is_refused_where_it_goes_wrong(source: str, reason: str, column: int) -> None:
    error = refusal(source)
    assert (error.reason, error.column, error.limit) == (reason, column, False)


@pytest.mark.parametrize(
    ("source", "end", "reason", "column"),
    [
        ('"ab"', 3, "unterminated string literal", 1),
        ('@"ab"', 4, "unterminated string literal", 1),
        ('$"ab"', 4, "unterminated string literal", 1),
        ('"\\u0041"', 6, "malformed escape sequence '\\u004': \\u needs exactly 4 hex digits", 2),
        ('"\\n"', 2, "unrecognized escape sequence '\\' (C# refuses it: CS1009)", 2),
        ('"\\n"', 3, "unterminated string literal", 1),
        ("'a'", 2, "malformed character literal", 1),
        ("1e5", 2, "malformed exponent in numeric literal '1e'", 1),
        ("1e+5", 3, "malformed exponent in numeric literal '1e+'", 1),
        ('$"{x:N2}"', 7, "unterminated interpolation hole in an interpolated string", 5),
        ('$"{x}"', 4, "unterminated interpolation hole in an interpolated string", 4),
    ],
)
def test_a_literal_cut_by_the_end_offset_is_unterminated(source: str, end: int, reason: str, column: int) -> None:
    error = refusal(source, 0, end)
    assert (error.reason, error.column) == (reason, column)


@pytest.mark.parametrize(
    ("source", "hint"),
    [
        ("1x", "C#'s suffixes: L, U, UL (integers), D, F, M (reals)"),
        ('"\\q"', "C#'s escapes: \\' \\\" \\\\ \\0 \\a \\b \\f \\n \\r \\t \\v \\xH[H][H][H] \\uHHHH \\UHHHHHHHH"),
        ("1_", None),
    ],
)
def test_a_refusal_lists_what_csharp_accepts_instead(source: str, hint: str | None) -> None:
    assert refusal(source).hint == hint


def test_a_token_names_itself_for_messages() -> None:
    ident, op, number, eof = tokenize("a + 1")
    assert (ident.describe(), op.describe(), number.describe(), eof.describe()) == (
        "identifier 'a'", "'+'", "'1'", "the end of the expression")
    assert ident.is_word("a") and not ident.is_word("b") and not ident.is_op("a")
    assert op.is_op("+") and not op.is_op("-") and not op.is_word("+")
    assert Token("ident", "a", 0) == Token("ident", "a", 0, None)


@pytest.mark.parametrize(("source", "reason", "column", "limit"), [
    ("1L2", "a digit after the suffix of numeric literal '1L'", 3, False),
    ("1.5d3", "a digit after the suffix of numeric literal '1.5d'", 5, False),
    ("0b102", "'2' is not a binary digit (0 or 1)", 5, False),
    ("0x1m", "numeric literal suffix 'm' is not valid C#", 4, False),  # a real suffix on a hexadecimal integer
    ('$@"a{1}"', "verbatim interpolated strings", 1, True),  # valid C#: the emulator's limit
    ('@$"a"', "verbatim interpolated strings", 1, True),
])
def test_found_by_review_digits_after_a_suffix_and_verbatim_interpolation(source: str, reason: str, column: int,
                                                                         limit: bool) -> None:
    error = refusal(source)
    assert reason in error.reason and error.column == column and error.limit is limit


@pytest.mark.parametrize(("source", "holes"), [
    # found by review: a literal inside a hole ends at its own closing quote (an escaped backslash before it, a
    # verbatim string's backslash, a doubled quote in a verbatim string, a brace inside a char)
    ('$"{f("\\\\")}"', ((3, 10),)), ('$"{@"C:\\"}"', ((3, 9),)), ('$"{"a\\"b"}x"', ((3, 9), "x")),
    ('$"{@"a""b"}"', ((3, 10),)), ("$\"{'}'}\"", ((3, 6),)),
])
def test_a_string_or_char_inside_an_interpolation_hole_ends_at_its_own_quote(source: str, holes: tuple) -> None:
    assert tokenize(source)[0].value == holes


def test_the_last_lexer_cases_a_mutation_run_left() -> None:
    """An upper-case binary prefix, a verbatim interpolated string after other tokens (with its hint), and a
    verbatim string in a hole whose doubled quote comes before a backslash (which a verbatim string keeps)."""
    assert "'2' is not a binary digit" in refusal("0B12").reason
    error = refusal('1 + $@"a"')
    assert (error.column, error.limit, error.hint) == (5, True,
                                                       'use an interpolated string $"..." with escapes, or string.Format')
    assert tokenize('$"{@"a""\\"}"')[0].value == ((3, 10),)


@pytest.mark.parametrize(("source", "holes"), [
    # a comment in a hole: it ends at its own first "*/" (not one before it, not a later one), "/**/" is a whole
    # comment, and "*/*" is a multiplication before a comment
    ('x /* a */ + $"{y /* } */}"', ((15, 24),)),
    ('$"{x /**/}"', ((3, 9),)),
    ('$"{x */* } */ 2}"', ((3, 15),)),
    ('$"{f(@"a""")}"', ((3, 12),)),  # a verbatim string's doubled quote right before its closing quote
])
def test_a_comment_or_verbatim_string_in_a_hole_ends_where_csharp_ends_it(source: str, holes: tuple) -> None:
    token = next(t for t in tokenize(source) if t.kind == "interp")
    assert token.value == holes


def test_a_hole_comment_ends_at_its_own_string_not_a_later_one() -> None:
    assert [t.value for t in tokenize('$"{x /* a */}" + $"{y}" /* b */') if t.kind == "interp"] == [
        ((3, 12),), ((20, 21),)]


def test_a_hole_comment_closed_only_past_the_end_offset_is_unterminated() -> None:
    source = '$"{x /* }" + 1 */'
    error = refusal(source, 0, len('$"{x /* }"'))
    assert (error.reason, error.column) == ("unterminated comment", 6)


def test_a_verbatim_interpolated_string_is_refused_with_its_own_words() -> None:
    assert refusal('$@"a{1}"').reason == 'verbatim interpolated strings ($@"...") are not supported'


@pytest.mark.parametrize(("source", "holes"), [
    # an interpolated string inside a hole ends at its own closing quote: its holes, escapes and doubled braces
    # are its own (a quoted brace in its hole does not end the outer hole)
    ('$"[{$"{"}"}"}]"', ("[", (4, 12), "]")),
    ('$"{$"a{1:D2}b\\"c{{"}x"', ((3, 19), "x")),
])
def test_an_interpolated_string_in_a_hole_ends_at_its_own_quote(source: str, holes: tuple) -> None:
    assert tokenize(source)[0].value == holes


@pytest.mark.parametrize("source", ['$"{$"{x:N"', '$"{$"{x"', '$"{$"ab'])
def test_an_unterminated_interpolated_string_in_a_hole_is_refused(source: str) -> None:
    assert refusal(source).reason == "unterminated interpolation hole in an interpolated string"
