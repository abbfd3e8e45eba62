"""The sites' template rules, applied forwards: documents rendered into the pages the
parsers read, in every form. It is the tests' and benchmarks' oracle, not part of the
runtime (not shipped; `pipeline` and `flows` may not import it: pyproject's import contract).

`fields` holds what every form shares (a document, sizes, ages, ratings, the price line,
the pager), `text` the flattened text, `html` the site's HTML, `api` the search API's JSON.
Why it is written as it is: docs/architecture.md, "The oracle".
"""
