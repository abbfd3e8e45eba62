"""Text from files and pages made safe to draw on a terminal: control characters escaped.

A file name or a title may hold an escape sequence (`\\x1b]0;…` retitles the window,
`\\x1b[2J` clears it), a carriage return that draws over the line, an 8-bit control (C1:
`\\x9b` is CSI to some terminals) or a bidirectional override (U+202E) that shows text in
another order than it is stored. `escaped` writes each such character as Python writes it
in a string literal (`\\x1b`, `\\r`, `\\u202e`), so what is printed is what is stored,
visibly. `UNSAFE_UNDRAWN` are those DuckDB's table renderer leaves as they are (it escapes
C0 itself): `listings sql` escapes them before DuckDB draws a table. Why: docs/sql.md.
"""

from __future__ import annotations

# Bidirectional embeddings, overrides and isolates (Unicode's "Trojan Source" characters).
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
# What DuckDB's box renderer draws raw: DEL and the C1 controls, the bidi controls, and
# the line and paragraph separators (a terminal may break the line at them).
UNSAFE_UNDRAWN = "".join(map(chr, range(0x7F, 0xA0))) + BIDI_CONTROLS + "\u2028\u2029"
# ... and with the C0 controls (Unicode category Cc is C0, DEL and C1): every one.
UNSAFE = "".join(map(chr, range(0x20))) + UNSAFE_UNDRAWN


def escape_char(char: str) -> str:
    """One character as a Python string literal writes it (`\\x1b`, `\\n`, `\\u202e`)."""
    return char.encode("unicode_escape").decode("ascii")


_ESCAPES = str.maketrans({char: escape_char(char) for char in UNSAFE})


def escaped(text: str) -> str:
    """`text` with every `UNSAFE` character escaped."""
    return text.translate(_ESCAPES)


_LINE_ESCAPES = str.maketrans({char: escape_char(char) for char in UNSAFE if char != "\n"})


def escaped_lines(text: str) -> str:
    """`escaped`, but line feeds kept: a message of several lines (an SQL error and its
    caret line) stays several lines."""
    return text.translate(_LINE_ESCAPES)
