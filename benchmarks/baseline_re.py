"""The parser targets' "careful pure-Python" baseline: a per-listing `re` parser, Parquet out.

What a careful engineer writes without a dataframe engine: loop over files, decode, cut
each page with one `re` tail pattern, then read every field by the site's rules in plain
Python (exact size bounds, age intervals, glued-price readings with per-site evidence,
own-line and repeated titles, the footer), check each row, and write listings, snapshots
and rejects as Parquet. It does the same work as `listings normalise` (docs/input-format.md)
and must find the same valid listings on generated input; it is not a second source of
truth, only the speed reference the pipeline must beat by 5x.

Differences from the pandas reference baseline the parser targets were set against,
stated so the comparison stays honest: rows are gathered as plain Python lists per column
and written with pyarrow directly (`pa.table(columns)`; one row group per batch), without
pandas (it was not installed when this was written; a pandas DataFrame per batch would only
make the baseline slower, and the comparison easier); files are taken in the pipeline's
byte-bounded batches, so its memory stays bounded (the reference held all rows in one
DataFrame). benchmarks/RESULTS.md, "Measurements behind design choices", has both times.

`python -m benchmarks.baseline_re DIR --out OUT` runs it alone.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import re
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq

SIDECAR_SUFFIX = ".meta.json"
DEFAULT_BATCH_BYTES = 64 * 2**20

TAIL = re.compile(
    r"(?P<price>[0-9]+) (?P<credit>[^\s|0-9][^\s|]*) \| (?P<pages>[^|\n]*?) 页 \| "
    r"(?P<size>[^\s|]+ [A-Za-z]+|[^\s|]*[A-Za-z]+)"
    r"(?: \| (?P<age>[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}|[^|\n]*?[^|\n0-9. ]))?"
    r"(?P<rating>[0-9]+(?:\.[0-9]+)?)(?P<sep>\r?\n|[ \t]|$)"
)
FOOTER = re.compile(
    r"(?P<before>[\s\S]*?)(?P<footer>共 (?P<total>[0-9]{1,12}) 条(?:\s*- [1-9][0-9]{0,8})*)\s*"
)
PAGER = re.compile(r"- ([0-9]+)")
SIZE = re.compile(
    r"(?:(?P<int>[0-9]{1,6})\.(?P<dec>[0-9]{2}) (?P<unit>B|KB|MB|GB|TB)|(?P<zero>0 Bytes))"
)
AGE = re.compile(
    r"(?:(?P<just>刚刚)|(?P<n>[0-9]{1,7}) (?P<unit>分钟|小时|天|月|年)前"
    r"|(?P<abs>[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}))"
)
RATING = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,2})?")
PAGES = re.compile(r"[0-9]{1,9}|-")
FILENAME_TIME = re.compile(
    r"(?<![0-9])(\d{4})-?(\d{2})-?(\d{2})[T_](\d{2})[-:]?(\d{2})[-:]?(\d{2})Z?(?![0-9])"
)

UNITS = {"B": 0, "KB": 1, "MB": 2, "GB": 3, "TB": 4}
MINUTE, HOUR, DAY = 60, 3600, 86400
MONTH, YEAR = 30 * DAY, 360 * DAY
AGE_UNITS = {"分钟": (MINUTE, 59), "小时": (HOUR, 23), "天": (DAY, 29), "月": (MONTH, 12)}
SITE_ZONE = ZoneInfo("Asia/Shanghai")  # pipeline.config.DEFAULT_SITE_TIME_ZONE
MIN_REPEATED, REPEAT_CANDIDATES, MAX_REPEATED = 4, 8, 200

LISTING_SCHEMA = pa.schema(
    [
        ("snapshot_id", pa.string()), ("position", pa.int32()),
        ("byte_start", pa.int64()), ("byte_end", pa.int64()),
        ("heading", pa.string()), ("title", pa.string()), ("description", pa.string()),
        ("title_source", pa.string()), ("price", pa.int64()), ("price_text", pa.string()),
        ("price_ambiguous", pa.bool_()), ("credit", pa.string()), ("pages", pa.int32()),
        ("size_text", pa.string()), ("size_bytes", pa.int64()),
        ("size_bytes_min", pa.int64()), ("size_bytes_max", pa.int64()),
        ("age_text", pa.string()),
        ("uploaded_at_min", pa.timestamp("us", "UTC")),
        ("uploaded_at_max", pa.timestamp("us", "UTC")),
        ("rating", pa.float64()), ("score", pa.int32()), ("rating_anomaly", pa.bool_()),
        ("site", pa.string()), ("fetched_at", pa.timestamp("us", "UTC")),
    ]
)  # fmt: skip
SNAPSHOT_SCHEMA = pa.schema(
    [
        ("snapshot_id", pa.string()), ("source_path", pa.string()),
        ("byte_count", pa.int64()), ("content_sha256", pa.string()),
        ("fetched_at", pa.timestamp("us", "UTC")), ("fetched_at_source", pa.string()),
        ("url", pa.string()), ("site", pa.string()), ("query", pa.string()),
        ("page", pa.int32()), ("total_results", pa.int64()), ("last_page", pa.int32()),
        ("listing_count", pa.int32()), ("reject_count", pa.int32()),
        ("read_error", pa.string()),
    ]
)  # fmt: skip
REJECT_SCHEMA = pa.schema(
    [
        ("snapshot_id", pa.string()), ("source_path", pa.string()),
        ("position", pa.int32()), ("byte_start", pa.int64()), ("byte_end", pa.int64()),
        ("fragment", pa.string()), ("reason", pa.string()),
    ]
)  # fmt: skip


@dataclass
class BaselineResult:
    seconds: float
    files: int
    listings: int  # valid listings written
    rejects: int


# --- fields, by the site's rendering rules -------------------------------------------


def parse_size(text: str) -> tuple[int, int, int] | str:
    """(point, min, max) bytes, or why no byte count renders as `text`."""
    m = SIZE.fullmatch(text)
    if m is None:
        return f"unknown size {text!r}"
    if m["zero"]:
        return 0, 0, 0
    unit = UNITS[m["unit"]]
    scale = 1024**unit
    cents = int(m["int"]) * 100 + int(m["dec"])
    low = max(((2 * cents - 1) * scale + 199) // 200, scale)
    high = ((2 * cents + 1) * scale + 199) // 200 - 1
    if unit < 4:
        high = min(high, scale * 1024 - 1)
    if low > high:
        return f"size {text!r} cannot be rendered"
    return min(max((2 * cents * scale + 100) // 200, low), high), low, high


def parse_age(text: str | None, fetched_at: datetime) -> tuple[datetime, datetime] | str | None:
    """Inclusive upload-time interval, None when the age is hidden, or why it is invalid."""
    if text is None:
        return None
    m = AGE.fullmatch(text)
    if m is None:
        return f"age {text!r} cannot be rendered"
    fetched = fetched_at.replace(microsecond=0)
    if m["abs"]:
        # The site's local minute, in the default site zone (the baseline takes no options).
        clock = datetime.strptime(m["abs"], "%Y-%m-%d %H:%M")
        earliest = clock.replace(tzinfo=SITE_ZONE, fold=0).astimezone(UTC)
        latest = clock.replace(tzinfo=SITE_ZONE, fold=1).astimezone(UTC)
        return earliest, min(latest + timedelta(seconds=MINUTE - 1), fetched)
    if m["just"]:
        low, high = 0, MINUTE - 1
    else:
        n, unit = int(m["n"]), m["unit"]
        if unit == "年":
            if n < 1:
                return f"age {text!r} cannot be rendered"
            low, high = (YEAR + 1 if n == 1 else n * YEAR), (n + 1) * YEAR - 1
        else:
            step, n_max = AGE_UNITS[unit]
            if not 1 <= n <= n_max:
                return f"age {text!r} cannot be rendered"
            low = n * step
            high = n * step if unit == "月" and n == 12 else (n + 1) * step - 1
    return fetched - timedelta(seconds=high), fetched - timedelta(seconds=low)


def split_title(heading: str) -> tuple[str | None, str | None, str]:
    """(title, description, source): only where the text proves the boundary."""
    if "\n" in heading:
        title, description = heading.split("\n", 1)
        return title.rstrip("\r"), description, "own_line"
    opening = heading[:MIN_REPEATED]
    if len(opening) == MIN_REPEATED:
        head = heading[: 2 * MAX_REPEATED]
        start = MIN_REPEATED
        for _ in range(REPEAT_CANDIDATES):
            at = head.find(opening, start)
            if at < 0:
                break
            x = heading[:at]
            if heading.startswith(x + x) and not x[-1].isspace():  # titles are trimmed
                return x, heading[at:], "repetition"
            start = at + 1
    return None, None, "unknown"


def choose_price(run: str, evidence: Counter[str]) -> int:
    """Length of the reading taken from a glued digit run (see docs/input-format.md §1.2)."""
    if len(run) == 1:
        return 1
    best: tuple[int, int] | None = None
    for length in range(1, len(run) + 1):
        reading = run[len(run) - length :]
        if length > 1 and reading.startswith("0"):
            continue
        seen = evidence.get(reading, 0)
        if seen and (best is None or (seen, length) > best):
            best = (seen, length)
    if best is not None:
        return best[1]
    return max(len(run.lstrip("0")), 1)


# --- files ------------------------------------------------------------------------------


def decode(raw: bytes) -> str | None:
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError):
            return None
    if not raw or b"\x00" in raw:
        return None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding).replace("\r\n", "\n")
        except UnicodeDecodeError:
            continue
    return None


def read_snapshot(path: Path) -> tuple[dict[str, object], str | None]:
    raw = path.read_bytes()
    meta: dict[str, object] = {}
    sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
    if sidecar.exists():
        try:
            meta = json.loads(sidecar.read_text(encoding="utf-8"))
        except ValueError:
            meta = {}
    if "fetched_at" in meta:
        fetched_at = datetime.fromisoformat(str(meta["fetched_at"])).astimezone(UTC)
        source = "sidecar"
    elif m := FILENAME_TIME.search(path.name):
        fetched_at, source = datetime(*map(int, m.groups()), tzinfo=UTC), "filename"
    else:
        fetched_at = datetime.fromtimestamp(int(path.stat().st_mtime), tz=UTC)
        source = "mtime"
    url = meta.get("url") if isinstance(meta.get("url"), str) else None
    site = query = page = None
    if url:
        parts = urlsplit(url)
        params = parse_qs(parts.query)
        site, query = parts.hostname, params.get("wd", [None])[0]
        page_text = params.get("page", ["1"])[0]
        page = int(page_text) if page_text.isdigit() and int(page_text) >= 1 else None
    digest = hashlib.sha256(raw)
    digest.update(b"\n" + fetched_at.isoformat().encode())
    text = decode(raw)
    row = {
        "snapshot_id": digest.hexdigest()[:20],
        "source_path": str(path),
        "byte_count": len(raw),
        "content_sha256": hashlib.sha256(raw).hexdigest(),
        "fetched_at": fetched_at,
        "fetched_at_source": source,
        "url": url,
        "site": site,
        "query": query,
        "page": page,
        "total_results": None,
        "last_page": None,
        "listing_count": 0,
        "reject_count": 0,
        "read_error": None if text is not None else "undecodable or empty",
    }
    return row, text


def _columns(schema: pa.Schema) -> dict[str, list[object]]:
    return {name: [] for name in schema.names}


def _reject(rejects: dict[str, list[object]], snap: dict[str, object], **row: object) -> None:
    rejects["snapshot_id"].append(snap["snapshot_id"])
    rejects["source_path"].append(snap["source_path"])
    for name in ("position", "byte_start", "byte_end", "fragment", "reason"):
        rejects[name].append(row.get(name))
    snap["reject_count"] = int(snap["reject_count"]) + 1  # type: ignore[call-overload]


def parse_batch(paths: list[Path]) -> tuple[pa.Table, pa.Table, pa.Table]:
    """(listings, snapshots, rejects) for a batch of files."""
    pages: list[tuple[dict[str, object], str | None]] = [read_snapshot(p) for p in paths]
    found: list[tuple[dict[str, object], int, int, int, str, re.Match[str]]] = []
    snapshots = _columns(SNAPSHOT_SCHEMA)
    rejects = _columns(REJECT_SCHEMA)
    evidence: dict[object, Counter[str]] = {}
    for snap, text in pages:
        if text is None:
            _reject(rejects, snap, byte_start=0, byte_end=snap["byte_count"], fragment="",
                    reason=snap["read_error"])  # fmt: skip
            continue
        offset_chars = offset_bytes = 0
        for position, m in enumerate(TAIL.finditer(text), start=1):
            chunk = text[offset_chars : m.end()]
            heading_raw = text[offset_chars : m.start()]
            lead = len(heading_raw) - len(heading_raw.lstrip())
            byte_start = offset_bytes + len(heading_raw[:lead].encode())
            found.append((snap, position, byte_start, offset_bytes, heading_raw[lead:], m))
            offset_chars = m.end()
            offset_bytes += len(chunk.encode())
            if len(m["price"]) == 1:
                evidence.setdefault(snap["site"], Counter())[m["price"]] += 1
        rest = text[offset_chars:]
        footer = FOOTER.fullmatch(rest)
        before = footer["before"] if footer else rest
        if footer:
            snap["total_results"] = int(footer["total"])
            pager = [int(n) for n in PAGER.findall(footer["footer"])]
            snap["last_page"] = max(pager) if pager else None
        if before.strip():
            lead = len(before) - len(before.lstrip())
            start = offset_bytes + len(before[:lead].encode())
            _reject(rejects, snap, byte_start=start,
                    byte_end=start + len(before.strip().encode()), fragment=before.strip(),
                    reason="text outside listings and footer")  # fmt: skip

    listings = _columns(LISTING_SCHEMA)
    for snap, position, byte_start, _, heading_with_price, m in found:
        run = m["price"]
        chosen = choose_price(run, evidence.get(snap["site"], Counter()))
        heading = heading_with_price + run[: len(run) - chosen]
        tail = m.group(0)[: len(m.group(0)) - len(m["sep"])]
        byte_end = byte_start + len(heading_with_price.encode()) + len(tail.encode())
        fetched_at: datetime = snap["fetched_at"]  # type: ignore[assignment]
        errors = []
        size = parse_size(m["size"])
        if isinstance(size, str):
            errors.append(size)
        age = parse_age(m["age"], fetched_at)
        if isinstance(age, str):
            errors.append(age)
        rating = float(m["rating"]) if RATING.fullmatch(m["rating"]) else None
        if rating is None or rating > 5:
            errors.append(f"rating {m['rating']!r} is not a score/100 decimal")
        pages_text = m["pages"]
        if not PAGES.fullmatch(pages_text) or pages_text == "0":
            errors.append(f"pages {pages_text!r} is not a positive integer or '-'")
        if not heading:
            errors.append("empty heading")
        if isinstance(age, tuple) and not age[0] <= age[1] <= fetched_at:
            errors.append("upload interval out of order")
        if errors:
            _reject(rejects, snap, position=position, byte_start=byte_start, byte_end=byte_end,
                    fragment=heading_with_price + tail, reason="; ".join(errors))  # fmt: skip
            continue
        assert isinstance(size, tuple) and rating is not None
        title, description, source = split_title(heading)
        price = run[len(run) - chosen :]
        row = {
            "snapshot_id": snap["snapshot_id"],
            "position": position,
            "byte_start": byte_start,
            "byte_end": byte_end,
            "heading": heading,
            "title": title,
            "description": description,
            "title_source": source,
            "price": int(price) if len(price) <= 18 else None,
            "price_text": run,
            "price_ambiguous": len(run) > 1,
            "credit": m["credit"],
            "pages": None if pages_text == "-" else int(pages_text),
            "size_text": m["size"],
            "size_bytes": size[0],
            "size_bytes_min": size[1],
            "size_bytes_max": size[2],
            "age_text": m["age"],
            "uploaded_at_min": age[0] if age else None,
            "uploaded_at_max": age[1] if age else None,
            "rating": rating,
            "score": round(rating * 100),
            "rating_anomaly": rating < 1,
            "site": snap["site"],
            "fetched_at": fetched_at,
        }
        for name, value in row.items():
            listings[name].append(value)
        snap["listing_count"] = int(snap["listing_count"]) + 1  # type: ignore[call-overload]
    for snap, _ in pages:
        for name in SNAPSHOT_SCHEMA.names:
            snapshots[name].append(snap[name])
    return (
        pa.table(listings, schema=LISTING_SCHEMA),
        pa.table(snapshots, schema=SNAPSHOT_SCHEMA),
        pa.table(rejects, schema=REJECT_SCHEMA),
    )


def _batches(paths: list[Path], max_bytes: int) -> list[list[Path]]:
    batches: list[list[Path]] = [[]]
    size = 0
    for path in paths:
        length = path.stat().st_size
        if batches[-1] and size + length > max_bytes:
            batches.append([])
            size = 0
        batches[-1].append(path)
        size += length
    return [batch for batch in batches if batch]


def run_baseline(
    files: list[Path], out_dir: Path, batch_bytes: int = DEFAULT_BATCH_BYTES
) -> BaselineResult:
    """Parse `files` and write out_dir/{listings,snapshots,rejects}.parquet."""
    start = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    schemas = {"listings": LISTING_SCHEMA, "snapshots": SNAPSHOT_SCHEMA, "rejects": REJECT_SCHEMA}
    writers = {
        name: pq.ParquetWriter(out_dir / f"{name}.parquet", schema, compression="snappy")
        for name, schema in schemas.items()
    }
    listings = rejects = 0
    try:
        for batch in _batches(files, batch_bytes):
            names = ("listings", "snapshots", "rejects")
            tables = dict(zip(names, parse_batch(batch), strict=True))
            for name, table in tables.items():
                writers[name].write_table(table)
            listings += tables["listings"].num_rows
            rejects += tables["rejects"].num_rows
    finally:
        for writer in writers.values():
            writer.close()
    return BaselineResult(time.perf_counter() - start, len(files), listings, rejects)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.baseline_re",
        description="Careful pure-Python `re` parser with Parquet output (the 5x baseline).",
    )
    parser.add_argument("folder", type=Path, help="folder of page files (*.txt + sidecars)")
    parser.add_argument("--out", type=Path, required=True, help="folder for the Parquet files")
    args = parser.parse_args(argv)
    files = sorted(p for p in args.folder.rglob("*.txt") if p.is_file())
    result = run_baseline(files, args.out)
    print(
        f"{result.listings:,} listings, {result.rejects:,} rejects from {result.files:,} files "
        f"in {result.seconds:.2f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
