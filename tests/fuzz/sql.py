"""Queries for the read-only guard (`pipeline.warehouse.read_only`, `listings sql`): a read
and a write joined by the lexing DuckDB and a regex disagree on (docs/sql.md, "Why no
regex").

Each query puts reads and writes in a drawn order, wrapped in comments (`--` ended by `\\n`,
`\\r` or `\\r\\n`, `/* … */` nested to a drawn depth, closed too often or too seldom), with
keywords in drawn letter case, drawn whitespace between tokens and drawn runs of
semicolons. Whatever the text, the guard must refuse it or what runs must be harmless: no
file written, the warehouse unchanged (`test_fuzz.test_commented_sql_is_refused_or_harmless`).
"""

from __future__ import annotations

from hypothesis import strategies as st

# Reads, the words of each written by `_words` (one keyword a word, so case can vary).
READS = (
    ["select", "1"],
    ["explain", "select", "1"],
    ["pragma", "version"],
    ["describe", "select", "1"],
    ["select", "count(*)", "from", "listings"],
    # DuckDB expands a PIVOT without IN into several statements (a MULTI): a read
    ["pivot", "listings", "on", "position", "using", "count(*)"],
)
# Writes, each naming `{out}`: a file in the folder the test watches (or a database there).
WRITES = (
    ["copy", "(select 42)", "to", "'{out}/copy.csv'"],
    ["explain", "analyze", "copy", "(select 42)", "to", "'{out}/explained.csv'"],
    ["explain", "(analyze)", "copy", "(select 42)", "to", "'{out}/explained2.csv'"],
    ["pragma", "import_database('{out}/import')"],
    ["attach", "'{out}/attached.duckdb'", "as", "a"],
    ["export", "database", "'{out}/export'"],
    ["create", "table", "t", "as", "select", "1"],
    ["set", "threads", "=", "1"],
    ["install", "httpfs"],
    ["call", "pragma_version()"],
    # ... and a write holding one is a MULTI too
    ["copy", "(pivot", "listings", "on", "position", "using", "count(*))", "to", "'{out}/p.csv'"],
    ["explain", "analyze", "copy", "(pivot", "listings", "on", "position)", "to", "'{out}/e.csv'"],
)
SPACES = (" ", "\t", "\n", "\r", "\r\n", "\f", "\v", "  ")
COMMENT_ENDS = ("\n", "\r", "\r\n")


@st.composite
def comments(draw: st.DrawFn, hidden: str) -> str:
    """A comment, possibly wrapping `hidden` (text the comment may or may not hide)."""
    if draw(st.booleans()):
        return f"--{hidden}{draw(st.sampled_from(COMMENT_ENDS))}"
    opened = draw(st.integers(1, 4))
    closed = draw(st.integers(max(0, opened - 1), opened + 1))
    return "/*" * opened + f" {hidden} " + "*/" * closed


@st.composite
def _statement(draw: st.DrawFn, words: list[str]) -> str:
    out = []
    for word in words:
        if draw(st.booleans()):
            word = "".join(
                c.upper() if draw(st.booleans()) else c for c in word
            ) if word.isalpha() else word  # fmt: skip
        out.append(word)
        out.append(draw(st.sampled_from(SPACES)))
    return "".join(out)


# Comment pieces on their own, which open or close a comment only for one of two lexers:
# `-- */` ends a nested block comment in DuckDB but is a line comment to a regex, `\r`
# ends a line comment in DuckDB only, a nested `/*` needs its own `*/` in DuckDB only.
FRAGMENTS = ("/*", "*/", "/* /* */", "-- */\n", "-- */\r", "-- c\r", "--", "-- c\r\n", "*/ --")


@st.composite
def sandwiches(draw: st.DrawFn) -> str:
    """The shapes of the bypasses issue 21 found, drawn. Nested: a block comment opened to
    a depth and closed fewer times, a read inside it, a line comment holding the missing
    `*/`, then a write (`/* /* */ explain select 1 -- */ explain analyze copy …`: a regex
    sees the read and a comment, DuckDB the write). Carriage return: a write split by a
    line comment that `\r` ends for DuckDB only, a read after it on the line
    (`explain -- c\r analyze copy … -- \n`)."""
    words = draw(st.sampled_from(WRITES))
    # A read of the write's own kind (EXPLAIN, PRAGMA) is what a check by statement type
    # alone would let through.
    alike = [read for read in READS if read[0] == words[0]]
    read = draw(_statement(draw(st.sampled_from(alike or READS) | st.sampled_from(READS))))
    space = draw(st.sampled_from(SPACES))
    if draw(st.booleans()):
        depth = draw(st.integers(1, 4))
        closed = draw(st.integers(0, depth))
        opener = "/*" * depth + space + "*/" * closed
        line = "--" + draw(st.sampled_from(["", " c", " ;"])) + " " + "*/" * (depth - closed)
        return opener + space + read + line + space + draw(_statement(words))
    at = draw(st.integers(0, len(words)))
    head, tail = draw(_statement(words[:at])), draw(_statement(words[at:]))
    end = draw(st.sampled_from(["\r", "\r\r", "\r "]))
    return f"{head}-- {read}{end}{tail}--{draw(st.sampled_from(COMMENT_ENDS))}"


@st.composite
def commented_queries(draw: st.DrawFn) -> str:
    """A query for the guard: a drawn `sandwiches` (three times in four: the shapes that
    found the bypasses) or `free_queries`."""
    return draw(st.one_of(sandwiches(), sandwiches(), sandwiches(), free_queries()))


@st.composite
def free_queries(draw: st.DrawFn) -> str:
    """A query of reads, writes and comment fragments, each statement plain or inside
    comments, joined by drawn whitespace and semicolons; `{out}` is left for the caller
    to fill."""
    pieces = draw(
        st.lists(
            st.one_of(st.sampled_from(READS), st.sampled_from(WRITES), st.sampled_from(FRAGMENTS)),
            min_size=1,
            max_size=6,
        )
    )
    text = []
    for words in pieces:
        if isinstance(words, str):
            text.append(words + draw(st.sampled_from(SPACES)))
            continue
        statement = draw(_statement(words))
        how = draw(st.sampled_from(["plain", "hidden", "before", "after"]))
        if how == "hidden":
            statement = draw(comments(statement))
        elif how == "before":
            statement = draw(comments(draw(_statement(draw(st.sampled_from(READS)))))) + statement
        elif how == "after":
            statement += draw(comments(draw(_statement(draw(st.sampled_from(WRITES))))))
        text.append(statement)
        text.append(";" * draw(st.integers(0, 3)) + draw(st.sampled_from(SPACES)))
    return "".join(text)
