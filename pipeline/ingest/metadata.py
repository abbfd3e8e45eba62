"""What a snapshot is, apart from its text: fetch time, URL facts, identity.

`snapshot_facts` is step 2 of `read.read_batch`: from each file's sidecar, name, the
options and its mtime, in that order (docs/input-format.md §4), its fetch time, URL and
ids; then the URL's site, query and page, column-wise. A sidecar that cannot be read, or a
fetch time that cannot be true, is a `metadata_warning`, never a reason not to read a file.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NamedTuple
from urllib.parse import parse_qs, unquote, urlsplit

import polars as pl

from pipeline.config import DEFAULT_SITE_TIME_ZONE, MAX_PAGE_BYTES
from pipeline.ingest import sources
from pipeline.ingest.sources import Source
from pipeline.ingest.walk import SIDECAR_SUFFIX
from pipeline.vocab import READ_FRAME

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
    # When the run reading the files started (aware): the fetch times it believes end a day
    # after it (`plausible`). None: every time within the years 1 to 9999 is believed.
    run_started_at: datetime | None = None

    def time_zone(self, site: str | None) -> str:
        return dict(self.time_zones).get(site or "", DEFAULT_SITE_TIME_ZONE)

    def time_zone_of(self, site: pl.Expr) -> pl.Expr:
        """`time_zone` for a column of sites."""
        return site.replace_strict(
            dict(self.time_zones), default=DEFAULT_SITE_TIME_ZONE, return_dtype=pl.String
        )


def parse_timestamp(value: str) -> datetime:
    """An ISO 8601 time as aware UTC; a time without zone is taken as UTC.

    ValueError for anything else, including a time whose UTC reading falls outside the
    years 1 to 9999 (`9999-12-31T23:00:00-05:00`), where Python's own error is an
    OverflowError.
    """
    return _timestamp(value)[0]


def _timestamp(value: str) -> tuple[datetime, bool]:
    """(`parse_timestamp(value)`, whether `value` gave no offset and was taken as UTC)."""
    moment = datetime.fromisoformat(value.strip())
    naive = moment.tzinfo is None
    if naive:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC), naive
    except OverflowError:
        raise ValueError(f"{value!r} is out of range in UTC") from None


def naive_time(name: str, value: str) -> str:
    """The warning for a sidecar's fetch time written without an offset (taken as UTC)."""
    return (
        f"sidecar {name} fetched_at {value!r} has no UTC offset: taken as UTC (a local time "
        "would be off by its zone's offset; write it with Z or +HH:MM)"
    )


def site_name(host: str | None) -> str | None:
    """A host name as the site it names: lower-cased, without the trailing dot of a fully
    qualified name (`WENKU.IT.` is `wenku.it`); None for none or an empty one."""
    return (host or "").lower().removesuffix(".") or None


def _site_names(hosts: pl.Expr) -> pl.Expr:
    """`site_name` of a column of host names (null for an empty one)."""
    site = hosts.str.to_lowercase().str.strip_suffix(".")
    return pl.when(site != "").then(site)


def sidecar_url(meta: dict[str, object]) -> str | None:
    """The sidecar's URL when it gives one (a non-empty string), else None."""
    url = meta.get("url")
    return url if isinstance(url, str) and url else None


def parse_sidecar(data: bytes | None, source: Source) -> tuple[dict[str, object], str | None]:
    """Sidecar bytes → (metadata, None or a warning: a fetch time without an offset, taken
    as UTC), or ({}, why it was ignored): all of it or nothing.

    Whatever the bytes hold, the answer is one of the two (docs/input-format.md §4): a UTF-8
    BOM is allowed, as an editor on Windows writes one; JSON nested deeper than the
    decoder's recursion limit, a time out of range in UTC and a URL that cannot be taken
    apart (`http://[::1/…`) or stored (a lone surrogate from a `\\ud800` escape) make the
    sidecar ignored, like any other unreadable one.
    """
    if data is None:
        return {}, None
    name = f"{sources.as_text(sources.file_name(source))}{SIDECAR_SUFFIX}"
    if len(data) > sources.MAX_SIDECAR_BYTES:
        limit = sources.MAX_SIDECAR_BYTES / 2**20
        return {}, f"sidecar {name} ignored: larger than {limit:g} MiB, not a sidecar"
    try:
        meta = json.loads(data.decode("utf-8-sig"))
        if not isinstance(meta, dict):
            raise ValueError("not a JSON object")
        warning = None
        if "fetched_at" in meta:
            given = str(meta["fetched_at"])
            meta["fetched_at"], naive = _timestamp(given)
            warning = naive_time(name, given) if naive else None
        url = sidecar_url(meta)
        if url is not None:
            if not _storable(url):
                raise ValueError("its url holds a lone surrogate (a \\ud800 escape): not text")
            urlsplit(url)
    except RecursionError:
        return {}, f"sidecar {name} ignored: JSON nested too deeply"
    except ValueError as error:  # UnicodeError and json's errors are ValueErrors too
        return {}, sources.as_text(f"sidecar {name} ignored: {error}")
    return meta, None if warning is None else sources.as_text(warning)


# What `snapshot_facts` records per file, in order; fetched_at as epoch microseconds.
_FACT_COLUMNS = ("snapshot_id", "content_sha256", "fetched_at", "fetched_at_source", "url",
                 "metadata_warning", "read_seconds")  # fmt: skip
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def snapshot_facts(files: sources.Files, options: ReadOptions) -> pl.DataFrame:
    """Step 2 of `read.read_batch`: per file, its sidecar → fetch time, URL, ids (file by
    file: a sidecar is JSON, the ids hash the bytes); then site, query, page and time zone
    for the batch at once. `read_seconds` is each file's own time here.

    A file that could not be read has no sidecar read and an id from its path
    (`unreadable_ids`).
    """
    rows: list[tuple[object, ...]] = []
    for path, name, raw, mtime_ns, sidecar, sidecar_error, failure in zip(
        files.paths, files.names, files.raws, files.mtimes, files.sidecars,
        files.sidecar_errors, files.failures, strict=True,
    ):  # fmt: skip
        started = time.perf_counter()
        if failure is not None:
            fetched_at, origin, _ = fetch_time(path, {}, options, mtime_ns)
            content, snapshot = unreadable_ids(name, fetched_at)
            url, warning = None, None
        else:
            if sidecar_error is None:
                meta, sidecar_warning = parse_sidecar(sidecar, path)
            else:
                meta, sidecar_warning = {}, sidecar_not_read(path, sidecar_error)
            fetched_at, origin, time_warning = fetch_time(path, meta, options, mtime_ns)
            warning = "; ".join(filter(None, [sidecar_warning, time_warning])) or None
            url = sidecar_url(meta)
            content, snapshot = hashes(raw, fetched_at, url)
        micros = (fetched_at - _EPOCH) // _MICROSECOND
        rows.append((snapshot, content, micros, origin, url, warning,
                     time.perf_counter() - started))  # fmt: skip
    columns = map(list, zip(*rows, strict=True) if rows else [()] * len(_FACT_COLUMNS))
    # Aware datetimes are slow for polars to take in one by one; epoch microseconds are not.
    schema = {column: READ_FRAME[column] for column in _FACT_COLUMNS}
    frame = pl.DataFrame(
        dict(zip(_FACT_COLUMNS, columns, strict=True)),
        schema={**schema, "fetched_at": pl.Int64},
    ).with_columns(pl.col("fetched_at").cast(schema["fetched_at"]))
    return pl.concat(
        [frame, url_facts_frame(frame["url"], options.site)], how="horizontal"
    ).with_columns(time_zone=options.time_zone_of(pl.col("site")))


def _storable(text: str) -> bool:
    """Whether a table can store the text: UTF-8 has no lone surrogates."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def sidecar(source: Source) -> tuple[dict[str, object], str | None]:
    """A snapshot's sidecar: (metadata, None), or ({}, why it was ignored or not read)."""
    try:
        data = sources.sidecar_bytes(source)
    except OSError as error:
        return {}, sidecar_not_read(source, error)
    return parse_sidecar(data, source)


def sidecar_not_read(source: Source, error: OSError) -> str:
    """The warning for a sidecar that is there but cannot be read (a FIFO, no permission)."""
    name = sources.as_text(sources.file_name(source))
    return sources.as_text(f"sidecar {name}{SIDECAR_SUFFIX} not read: {error.strerror or error}")


# How far after the run's start a fetch time may be and still be believed: the scraper's
# clock may run ahead of the run's, or a local time be written as UTC (zones reach +14 h).
FUTURE_SLACK = timedelta(days=1)
# No page of these sites was fetched before this: an earlier time is a zeroed or FAT-era
# mtime (1970, 1980), a typo, or a placeholder.
EARLIEST_FETCH = datetime(2000, 1, 1, tzinfo=UTC)


class FetchTime(NamedTuple):
    """A snapshot's fetch time, where it came from (`vocab.FETCHED_AT_SOURCES`), and the
    warning naming the times passed over as implausible (None if none was)."""

    at: datetime
    source: str
    warning: str | None = None


def run_start() -> datetime:
    """Now, as the start of a run (`ReadOptions.run_started_at`): the one place a run reads
    the clock, so a test can give it a time instead."""
    return datetime.now(UTC)


def implausible(moment: datetime, options: ReadOptions) -> str | None:
    """Why `moment` cannot be when a page was fetched, for the run `options` describe; None
    if it can (always, for a run that gives no start time)."""
    started = options.run_started_at
    if started is None:
        return None
    if moment > started + FUTURE_SLACK:
        return f"is after the run started ({_iso(started)})"
    if moment < EARLIEST_FETCH:
        return f"is before {EARLIEST_FETCH.year}"
    return None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def fetch_time(
    source: Source, meta: dict[str, object], options: ReadOptions, mtime_ns: int
) -> FetchTime:
    """The fetch time from the first source that gives a believable one (docs/input-format.md
    §4): the sidecar, a time in the file name, `--fetched-at`, the mtime. The mtime is the
    last resort: after the run's start it is taken as the run's start, before 2000 it is
    kept; either way the warning says so."""
    passed: list[str] = []
    for origin, label, moment in _given_times(source, meta, options):
        why = implausible(moment, options)
        if why is None:
            return FetchTime(moment, origin, _passed_over(passed, label))
        passed.append(f"{label} {_iso(moment)} {why}")
    mtime = datetime.fromtimestamp(mtime_ns // 10**9, tz=UTC)
    why = implausible(mtime, options)
    if why is None:
        return FetchTime(mtime, "mtime", _passed_over(passed, "the file's mtime"))
    passed.append(f"the file's mtime {_iso(mtime)} {why}")
    started = options.run_started_at
    if started is not None and mtime > started:
        return FetchTime(started, "mtime", _passed_over(passed, "the run's start"))
    return FetchTime(mtime, "mtime", "; ".join(passed) + ": kept, as nothing else gives one")


def _given_times(
    source: Source, meta: dict[str, object], options: ReadOptions
) -> Iterator[tuple[str, str, datetime]]:
    """(source, how a warning names it, the time) of each source before the mtime that
    gives a time, in order of precedence."""
    if isinstance(meta.get("fetched_at"), datetime):
        name = f"{sources.as_text(sources.file_name(source))}{SIDECAR_SUFFIX}"
        yield "sidecar", f"sidecar {name} fetched_at", meta["fetched_at"]  # type: ignore[misc]
    match = _FILENAME_TIME.search(sources.file_name(source))
    if match:
        try:
            named = datetime(*map(int, match.groups()), tzinfo=UTC)
        except ValueError:
            pass  # digits that only look like a time: fall through
        else:
            yield "filename", "the time in the file name", named
    if options.fetched_at is not None:
        yield "option", "--fetched-at", options.fetched_at.astimezone(UTC)


def _passed_over(passed: list[str], used: str) -> str | None:
    """The warning for the times passed over before the one `used`, or None."""
    return f"{'; '.join(passed)}: fetch time from {used} instead" if passed else None


_INT32_MAX = 2**31 - 1


def url_facts(url: str | None, site_option: str | None) -> dict[str, object]:
    """site, query and page from a URL (docs/input-format.md §4); a site is named by
    `site_name` (`WENKU.IT.` is `wenku.it`), the URL's host before `site_option`.

    A URL that cannot be taken apart gives none of them (a sidecar's is refused before it
    gets here; a page's own may still be one); `page` is a positive decimal number that fits
    an Int32, else null.
    """
    site_option = site_name(site_option)
    if not url:
        return {"url": None, "site": site_option, "query": None, "page": None}
    try:
        parts = urlsplit(url)
    except ValueError:
        return {"url": url, "site": site_option, "query": None, "page": None}
    params = parse_qs(parts.query)
    return {
        "url": url,
        "site": site_name(parts.hostname) or site_option,
        "query": params.get("wd", [None])[0],
        "page": _page_number(params.get("page", ["1"])[0]),  # the site's default is the first
    }


def _page_number(text: str) -> int | None:
    """A `page` parameter as the page it names: a positive number within Int32, else None.

    str.isdigit() takes `²` and int() does not; int() also refuses more than 4300 digits.
    """
    if not text.isdecimal():
        return None
    try:
        number = int(text)
    except ValueError:
        return None
    return number if 1 <= number <= _INT32_MAX else None


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
            site=pl.coalesce(
                _site_names(pl.col("host")), pl.lit(site_name(site_option), pl.String)
            ),
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
        page_number = page_number.scatter(others, [fact["page"] for fact in facts])
    return pl.DataFrame([site, query, page_number])


def content_hash(raw: bytes) -> str:
    """A file's identity for incremental runs: changed bytes are a new snapshot file."""
    return hashlib.sha256(raw).hexdigest()


def snapshot_id(raw: bytes, fetched_at: datetime, url: str | None = None) -> str:
    """Same bytes at the same time from the same URL keep their id across runs; another time
    or another URL is another snapshot (docs/input-format.md §4)."""
    return hashes(raw, fetched_at, url)[1]


def hashes(raw: bytes, fetched_at: datetime, url: str | None = None) -> tuple[str, str]:
    """(content_hash, snapshot_id) from one pass over the bytes: the id continues the hash."""
    content, snapshot, _ = identities(raw, fetched_at, url)
    return content, snapshot


def unreadable_ids(name: str, fetched_at: datetime) -> tuple[str, str]:
    """(content_hash, snapshot_id) of a file that cannot be read: no bytes, and an id from
    its path (as text) and fetch time, so each such file is its own snapshot."""
    content, _ = hashes(b"", fetched_at)
    _, snapshot = hashes(f"unreadable file {name}".encode(), fetched_at)
    return content, snapshot


def identities(raw: bytes, fetched_at: datetime, url: str | None) -> tuple[str, str, str]:
    """(content_hash, snapshot_id, the id without the URL) from one pass over the bytes.

    The id hashes the bytes, then the fetch time, then the sidecar's URL where there is one.
    Two empty result pages fetched at one moment for `wd=alpha` and `wd=beta` are byte for
    byte the same: without the URL they were one snapshot and `beta` was lost. A snapshot
    without a URL keeps the id it always had (the third value, for any snapshot), so a lake
    written before the URL counted is recognised by it and never gets a page twice.
    """
    digest = hashlib.sha256(raw)
    content = digest.hexdigest()
    digest.update(b"\n" + fetched_at.isoformat().encode())
    legacy = digest.hexdigest()[:20]
    if not url:
        return content, legacy, legacy
    digest.update(b"\n" + url.encode("utf-8", "surrogatepass"))
    return content, digest.hexdigest()[:20], legacy
