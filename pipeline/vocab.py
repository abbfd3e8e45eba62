"""The contract's words: the values coded columns take, and the read frame's columns.

`pipeline.schemas` holds the tables' pandera models and checks these vocabularies; they
live here, apart from it, because importing pandera is slow and the stages that only need
the words (reading files, a read-only `listings sql`) must not pay for it.
Nothing here imports anything from the project: every layer may use it.
"""

from __future__ import annotations

import polars as pl

# The lake's tables and the name of each one's pandera model in `pipeline.schemas`, in the
# order their files are written (snapshots last: a group shows nothing to readers that join
# on snapshots until its snapshot rows exist). Every other list of the tables derives from it.
TABLE_MODELS = {"listings": "Listing", "rejects": "Reject", "snapshots": "Snapshot"}
TABLES = tuple(TABLE_MODELS)

# What form a snapshot file holds (detected from its name and first visible character).
FORMS = ("text", "html", "json", "unreadable")
# Where a snapshot's fetch time came from, best first; `mtime` means approximate
# (docs/input-format.md §4).
FETCHED_AT_SOURCES = ("sidecar", "filename", "option", "mtime")
# How a listing's title/description boundary was found; `unknown` keeps the whole heading
# and no title (docs/input-format.md §1.1).
TITLE_SOURCES = ("own_line", "repetition", "known_title", "html", "json", "catalogue", "unknown")
# The file family the site shows as a document's icon, by extension (with its dot, as the
# search API gives it; docs/input-format.md §3.1). Any other extension is `other`.
FILE_FAMILY_OF_EXT = {
    ".pdf": "pdf",
    **dict.fromkeys((".doc", ".docx", ".rtf", ".wps", ".odt", ".dot"), "word"),
    **dict.fromkeys((".ppt", ".pptx", ".pps", ".ppsx", ".dps", ".odp", ".pot"), "ppt"),
    **dict.fromkeys((".xls", ".xlsx", ".et", ".ods", ".csv", ".tsv"), "excel"),
    ".txt": "text",
    ".epub": "epub",
    ".mobi": "mobi",
    ".chm": "chm",
    ".umd": "umd",
}
FILE_FAMILIES = ("pdf", "word", "ppt", "excel", "text", "epub", "mobi", "chm", "umd", "other")
# What kind of page a snapshot is (docs/input-format.md, "Layouts"): a search-result page, or
# a category/list page, which prints its listings in another order.
PAGE_TYPES = ("search", "category")
# The page layouts the parser knows, one per distinct version of the sites' templates; each
# name's record (repository, path, commits, what it prints) is in `pipeline.parse.layouts`,
# and a test ties the two. Recorded per snapshot in `snapshots.layout`.
LAYOUTS = (
    "moredoc-2022-12",
    "moredoc-2023-01",
    "moredoc-2023-04",
    "moredoc-web-2024-07",
    "moredoc-list-2022-12",
    "moredoc-list-2023-04",
    "moredoc-web-list-2024-07",
    "dochub-2018-04",
    "dochub-2018-08",
    "dochub-2018-08-11",
    "dochub-list-2018",
    "moredoc-api",
)
# The stage that turned a piece of input into a reject.
REJECT_STAGES = ("read", "parse", "validate")
# How much a data-quality finding should worry an analyst (the warehouse's
# rpt_data_quality), worst first: the order its ENUM sorts in and severity_rank counts.
FINDING_SEVERITIES = ("high", "medium", "low")
# What a data-quality finding is about: a document (dim_documents) or a snapshot (one page).
FINDING_SUBJECTS = ("document", "snapshot")
# What a failing data test of the warehouse does: `error` stops the build, `warn` reports.
TEST_SEVERITIES = ("error", "warn")
# How a data test came out (dbt's words, as its run_results.json spells them): no rows, rows
# of a `warn` test, rows of an `error` test. The warehouse's `_test_results` stores them.
TEST_STATUSES = ("pass", "warn", "fail")

# One row per snapshot file as the ingest stage reads it: metadata, and the decoded text
# (null when the file is unreadable; `read_error` says why and `fragment` previews it).
READ_FRAME = {
    "snapshot_id": pl.String,
    "source_path": pl.String,
    "byte_count": pl.Int64,
    "mtime_ns": pl.Int64,
    "content_sha256": pl.String,
    "fetched_at": pl.Datetime("us", "UTC"),
    "fetched_at_source": pl.String,
    "url": pl.String,
    "site": pl.String,
    "time_zone": pl.String,  # the zone the site prints absolute times in (not stored)
    "query": pl.String,
    "page": pl.Int32,
    "form": pl.String,
    "read_error": pl.String,
    "metadata_warning": pl.String,
    "text": pl.String,
    "fragment": pl.String,
    "read_seconds": pl.Float64,
}
