"""The expression lexer reads C#'s tokens: what each literal, comment and interpolation hole becomes, and what it
refuses (and where)."""

from __future__ import annotations
