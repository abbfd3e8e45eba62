"""What a snapshot is, apart from its text: fetch time, URL facts, identity.

Metadata comes, in the order docs/input-format.md §4 gives, from a sidecar
`<file>.meta.json`, the file name, explicit options, and last the file's mtime (recorded as
an approximate source). A sidecar that cannot be read is ignored as a whole, with a
`metadata_warning`; it never stops the file from being read.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qs, unquote, urlsplit

import polars as pl

from pipeline.config import DEFAULT_SITE_TIME_ZONE, MAX_PAGE_BYTES
from pipeline.ingest import sources
from pipeline.ingest.sources import Source
from pipeline.ingest.walk import SIDECAR_SUFFIX

# `…_20261126T081900Z.txt`, `…-2026-11-26T08-19-00.txt`: a UTC timestamp in the name.
_FILENAME_TIME = re.compile(
    r"(?<![0-9])(\d{4})-?(\d{2})-?(\d{2})[T_](\d{2})[-:]?(\d{2})[-:]?(\d{2})Z?(?![0-9])"
)


@dataclass(frozen=True)
class ReadOptions:
    """What the caller knows about snapshots: fetch time and site where no sidecar says,
    and the time zone each site prints absolute times in (host → IANA zone; a site not
    named here uses `config.DEFAULT_SITE_TIME_ZONE`)."""

    fetched_at: datetime | None = None
    site: str | None = None
    time_zones: tuple[tuple[str, str], ...] = ()
    max_page_bytes: int = MAX_PAGE_BYTES  # larger pages (decompressed) are read errors

    def time_zone(self, site: str | None) -> str:
        return dict(self.time_zones).get(site or "", DEFAULT_SITE_TIME_ZONE)

    def time_zone_of(self, site: pl.Expr) -> pl.Expr:
        """`time_zone` for a column of sites."""
        return site.replace_strict(
            dict(self.time_zones), default=DEFAULT_SITE_TIME_ZONE, return_dtype=pl.String
        )


def parse_timestamp(value: str) -> datetime:
    """An ISO 8601 time as aware UTC; a time without zone is taken as UTC."""
    moment = datetime.fromisoformat(value.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def parse_sidecar(data: bytes | None, source: Source) -> tuple[dict[str, object], str | None]:
    """Sidecar bytes → (metadata, None), or ({}, why it was ignored): all of it or nothing."""
    if data is None:
        return {}, None
    try:
        meta = json.loads(data.decode("utf-8"))
        if not isinstance(meta, dict):
            raise ValueError("not a JSON object")
        if "fetched_at" in meta:
            meta["fetched_at"] = parse_timestamp(str(meta["fetched_at"]))
        return meta, None
    except (ValueError, UnicodeDecodeError) as error:
        return {}, f"sidecar {sources.file_name(source)}{SIDECAR_SUFFIX} ignored: {error}"


def sidecar(source: Source) -> tuple[dict[str, object], str | None]:
    return parse_sidecar(sources.sidecar_bytes(source), source)


def fetch_time(
    source: Source, meta: dict[str, object], options: ReadOptions, mtime_ns: int
) -> tuple[datetime, str]:
    if isinstance(meta.get("fetched_at"), datetime):
        return meta["fetched_at"], "sidecar"  # type: ignore[return-value]
    match = _FILENAME_TIME.search(sources.file_name(source))
    if match:
        try:
            return datetime(*map(int, match.groups()), tzinfo=UTC), "filename"
        except ValueError:
            pass  # digits that only look like a time: fall through
    if options.fetched_at is not None:
        return options.fetched_at.astimezone(UTC), "option"
    return datetime.fromtimestamp(mtime_ns // 10**9, tz=UTC), "mtime"


def url_facts(url: str | None, site_option: str | None) -> dict[str, object]:
    if not url:
        return {"url": None, "site": site_option, "query": None, "page": None}
    parts = urlsplit(url)
    params = parse_qs(parts.query)
    page = params.get("page", ["1"])[0]  # the site's default page is the first
    return {
        "url": url,
        "site": parts.hostname or site_option,
        "query": params.get("wd", [None])[0],
        "page": int(page) if page.isdigit() and int(page) >= 1 else None,
    }


_INT32_MAX = 2**31 - 1

# URLs that urlsplit takes apart exactly like this: a valid scheme, `//`, an ASCII host
# (letters, digits, dots, hyphens) with an optional numeric port, no tab/CR/LF (urlsplit
# deletes those). Anything else goes through `url_facts` itself.
_PLAIN_URL = (
    r"^[A-Za-z][A-Za-z0-9+.\-]*://(?<host>[A-Za-z0-9.\-]*)(?::[0-9]*)?"
    r"(?:/[^?#\t\n\r]*)?(?:\?(?<query>[^#\t\n\r]*))?(?:#[^\t\n\r]*)?$"
)

# parse_qs unquotes names too: a name with an escape might decode to `wd` or `page`.
_ESCAPED_NAME = r"(?:^|&)[^&=]*%[^&=]*="


def url_facts_frame(urls: pl.Series, site_option: str | None) -> pl.DataFrame:
    """`url_facts` for a column of URLs (site, query, page): plain URLs in polars.

    parse_qs keeps the first non-blank value of a name, so `(?:^|&)wd=([^&]+)` finds it.
    Only distinct `wd` values are unquoted (in Python: the pages of a query share it); a
    page is read here only when it is ASCII without escapes and of at most nine digits.
    Every other non-null URL goes through `url_facts` itself.
    """
    page = pl.col("page_raw")
    digits = page.str.contains(r"^[0-9]{1,9}$")
    not_a_number = (
        page.str.contains(r"^[\x00-\x7F]*$")
        & ~page.str.contains("%", literal=True)
        & ~page.str.contains(r"^[0-9]*$")
    )
    # The site's default page is the first.
    number = (
        pl.when(page.is_null())
        .then(pl.lit(1, pl.Int64))
        .when(digits)
        .then(page.cast(pl.Int64, strict=False))
    )
    parts = (
        pl.DataFrame([urls.rename("url")])
        .select(pl.col("url").str.extract_groups(_PLAIN_URL).alias("parts"))
        .unnest("parts")
        .with_columns(pl.col("query").fill_null(""))
        .with_columns(
            query=pl.col("query").str.extract(r"(?:^|&)wd=([^&]+)", 1),
            page_raw=pl.col("query").str.extract(r"(?:^|&)page=([^&]+)", 1),
            escaped_name=pl.col("query").str.contains(_ESCAPED_NAME),
        )
        .select(
            plain=pl.col("host").is_not_null()
            & ~pl.col("escaped_name")
            & (page.is_null() | digits | not_a_number),
            site=pl.when(pl.col("host") != "")
            .then(pl.col("host").str.to_lowercase())
            .otherwise(pl.lit(site_option, pl.String)),
            query=pl.col("query"),
            page=pl.when(pl.col("host").is_not_null()).then(number),
        )
        .with_columns(page=pl.when(pl.col("page") >= 1).then(pl.col("page")).cast(pl.Int32))
    )
    query = parts["query"]
    escaped = query.filter(query.str.contains("[%+]")).unique().to_list()
    if escaped:
        query = query.replace(escaped, [unquote(value.replace("+", " ")) for value in escaped])
    site, page_number = parts["site"], parts["page"]
    others = (~parts["plain"] & urls.is_not_null()).arg_true().to_list()
    if others:
        facts = [url_facts(urls[i], site_option) for i in others]
        site = site.scatter(others, [fact["site"] for fact in facts])
        query = query.scatter(others, [fact["query"] for fact in facts])
        # A page number beyond Int32 is no page: null, where a frame of read_one rows would
        # fail the whole batch over one sidecar.
        pages = [fact["page"] for fact in facts]
        page_number = page_number.scatter(
            others, [None if page is None or page > _INT32_MAX else page for page in pages]
        )
    return pl.DataFrame([site, query, page_number])


def content_hash(raw: bytes) -> str:
    """A file's identity for incremental runs: changed bytes are a new snapshot file."""
    return hashlib.sha256(raw).hexdigest()


def snapshot_id(raw: bytes, fetched_at: datetime) -> str:
    """Same bytes at the same time keep their id across runs; another time is another snapshot."""
    return hashes(raw, fetched_at)[1]


def hashes(raw: bytes, fetched_at: datetime) -> tuple[str, str]:
    """(content_hash, snapshot_id) from one pass over the bytes: the id continues the hash."""
    digest = hashlib.sha256(raw)
    content = digest.hexdigest()
    digest.update(b"\n" + fetched_at.isoformat().encode())
    return content, digest.hexdigest()[:20]
