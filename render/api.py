"""The search API's JSON form (docs/input-format.md §3.2): a page as moredoc's gRPC
gateway writes it (`render_json_page`), timestamps as protojson writes them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

from render.fields import COUNT_FIELDS, Document, listing_document_id

_INT32_MAX = 2**31 - 1
_INT64_MAX = 2**63 - 1


def render_timestamp(t: datetime) -> str:
    """A google.protobuf.Timestamp as protojson writes it: RFC 3339 in UTC with `Z`, and 0,
    3 or 6 fractional digits (whole seconds: none).

    >>> render_timestamp(datetime(2023, 1, 5, 4, 30, tzinfo=UTC))
    '2023-01-05T04:30:00Z'
    """
    if t.utcoffset() is None:
        raise ValueError("a timestamp must be timezone-aware")
    t = t.astimezone(UTC)
    text = f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}"
    if t.microsecond:
        fraction = f"{t.microsecond:06d}"
        text += "." + (fraction[:3] if fraction.endswith("000") else fraction)
    return text + "Z"


def _api_document(doc: Document, position: int) -> dict[str, object]:
    if doc.uploaded_at is None:
        raise ValueError(
            f"listing {position} has no uploaded_at: the API always sends created_at, so a "
            "missing upload time (the text form's 刚刚) has no JSON form"
        )
    for name, value, limit in (
        ("document_id", listing_document_id(doc, position), _INT64_MAX),
        ("size_bytes", doc.size_bytes, _INT64_MAX),
        ("pages", doc.pages or 0, _INT32_MAX),
        ("price", doc.price, _INT32_MAX),
        ("score", doc.score, _INT32_MAX),
        *((count, getattr(doc, count), _INT32_MAX) for count in COUNT_FIELDS),
    ):
        if value > limit:
            raise ValueError(f"listing {position}: {name} {value} does not fit the API's field")
    created = render_timestamp(doc.uploaded_at)
    fields: tuple[tuple[str, object], ...] = (
        ("id", str(listing_document_id(doc, position))),
        ("uuid", doc.uuid or ""),
        ("title", doc.title),
        ("keywords", doc.keywords),
        ("description", doc.description),
        ("pages", doc.pages or 0),
        ("size", str(doc.size_bytes) if doc.size_bytes else ""),
        ("price", doc.price),
        ("score", doc.score),
        ("ext", doc.ext),
        ("created_at", created),
        ("updated_at", created),
        ("download_count", doc.download_count),
        ("view_count", doc.view_count),
        ("favorite_count", doc.favorite_count),
        ("comment_count", doc.comment_count),
        ("username", ""),
    )
    return {name: value for name, value in fields if value != 0 and value != ""}


def render_json_page(
    docs: Sequence[Document],
    *,
    total_results: int,
    search_seconds: str = "0.012",
    indent: int | None = None,
) -> str:
    """The search API's response for one page, `{"total": …, "spend": …, "document": […]}`,
    by the gRPC gateway's rules (docs/input-format.md §3.2).

    Field names are snake_case, in this order: `id`, `title`, `keywords`, `description`,
    `pages`, `size`, `price`, `score`, `ext`, `created_at`, `updated_at`, `download_count`,
    `view_count`, `favorite_count`, `comment_count`, `username`. 64-bit integers (`id`,
    `size`, `total`) are strings, 32-bit ones numbers; every field at its zero value (0, "",
    an empty list) is left out, at the top level too: a free document has no `price`, an
    unrated one no `score`, a page without results no `document`.

    Decisions the caller should know:
    - `pages` None is the API's zero value: the key is absent, and reads back as unknown
      pages (the page shows `-`).
    - `created_at` is `uploaded_at` (`render_timestamp`); `updated_at` repeats it, as the
      Document has no separate update time. `uploaded_at` None has no JSON form (the API
      always has a creation time): ValueError.
    - `username` is always absent: the Document has no uploader. A document without an id
      gets its 1-based position (`listing_document_id`), as in the HTML form.
    - A value the API's field cannot hold (a price or count above 2**31 - 1, a size above
      2**63 - 1) raises ValueError.
    - Without `indent` the output is compact (`","` and `":"` separators, as a gateway
      writes it); with it, `json.dumps`'s indented form. Non-ASCII is written as is.
    """
    if total_results < 0:
        raise ValueError(f"total_results must be >= 0, got {total_results}")
    documents = [_api_document(doc, position) for position, doc in enumerate(docs, start=1)]
    page: dict[str, object] = {}
    if total_results:
        page["total"] = str(total_results)
    if search_seconds:
        page["spend"] = search_seconds
    if documents:
        page["document"] = documents
    if indent is None:
        return json.dumps(page, ensure_ascii=False, separators=(",", ":"))
    return json.dumps(page, ensure_ascii=False, indent=indent)
