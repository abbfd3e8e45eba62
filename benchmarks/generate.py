"""A seeded corpus of realistic search-result pages: two years of daily crawls.

`python -m benchmarks.generate --listings 100000 --out DIR [--seed S] [--form F]` writes the
pages as a crawler saves them, one folder per UTC fetch day, each page with its `.meta.json`
sidecar (url and fetched_at):

    DIR/raw/2024-11-01/wenku.it-redis-p1.txt (+ .meta.json)      the corpus: 730 days
    DIR/increments/2026-11-01/wenku.it-docker-p1.txt              then 30 days of 50 pages

The same pages can be written in each input form (`FORMS`, docs/input-format.md §1–§3.2):
`text` (the flattened text above, the default), `html` (the server's HTML), `html-saved`
(the same page as a browser's "Save Page As" leaves it) and `json` (the search API's
response). Every form comes from one simulation and one generator state: the same seed
gives the same crawl, the same fetch times and the same documents in every form; only the
rendering, the file suffix (`.txt`, `.html`, `.json`) and, for `json`, the sidecar's URL
(the API's `/api/v1/document/search`) differ. What a form cannot carry is adapted, never
redrawn: HTML and JSON show a description on one line (a browser collapses the text form's
line break; the document key ignores whitespace), and the API always sends a creation time,
so a document without an upload time (`刚刚` in the other forms) is sent as created at the
fetch. The facts only HTML and JSON show (the site's document id, the file extension,
keywords, view/download/favourite/comment counts, the search time and the site's document
count) are drawn from generators of their own, so the text form's pages are byte for byte
what they were before the other forms existed.

Each day's crawl walks several of the 12 queries from page 1, pages seconds apart. Every
query has a slowly evolving pool of documents (`_Site`), so a document recurs: it is seen
on many days, its age text rendered relative to each fetch time, which is what makes the
warehouse's interval intersection and its grouping by document real work. Pages are
rendered by `pipeline.render` (the functions the property tests trust), so a generated
page is exactly what the site would have shown for that truth. No hypothesis here: a
benchmark wants a fast, reproducible, *typical* mix, not adversarial shrinking.

The mix (rates approximate, chosen to resemble wenku.it): sizes log-uniform from 1 KB to
2 GB; upload ages log-uniform from a day to ~6 years at the start, then new uploads every
day; descriptions of a few hundred characters mixing CJK and ASCII; ~30% of titles on
their own line, ~10% repeated (slides), the rest glued; ~15% of descriptions end in
digits (ambiguous glued prices); ~5% of page counts `-`; ~3% of listings without the age
block; ~20% of pages flattened further (a space between listings instead of a line
break); prices mostly 0; 0.5% of documents with no upload time (always `刚刚`, so their
sightings contradict each other: a real data-quality finding the warehouse reports).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from pipeline.parse.render import (
    DEFAULT_TEXT_LAYOUT,
    Document,
    ambiguities,
    pager_window,
    render_html_page,
    render_json_page,
    render_page,
)

SITE_HOST = "wenku.it"
SITE = f"https://{SITE_HOST}"
CREDIT = "码力"
SIDECAR_SUFFIX = ".meta.json"
PER_PAGE = 10

CORPUS_DIR, INCREMENTS_DIR = "raw", "increments"
# The input forms a corpus can be written in, and each one's page file suffix.
FORMS = ("text", "html", "html-saved", "json")
SUFFIXES = {"text": ".txt", "html": ".html", "html-saved": ".html", "json": ".json"}
API_PATH = "/api/v1/document/search"  # the search API the `json` form's pages come from
CORPUS_START = datetime(2024, 11, 1, tzinfo=UTC)  # 730 days: 2024-11 … 2026-10
CORPUS_DAYS = 730
INCREMENT_DAYS = 30  # 2026-11-01 … 2026-11-30, one scheduled run a day
INCREMENT_PAGES = 50

# The simulated site (see `_Site`).
POOL_MIN, POOL_MAX = 1000, 5000  # documents a query finds at the start
UPLOADS_PER_DAY = (0.5, 4.0)  # new documents per query and day, drawn per query
SECOND_QUERY_SHARE = 0.15  # new documents that a second query finds too
TOP_RANKS = 100  # half of the new and promoted documents land in the top this many
PROMOTIONS_PER_DAY = 2.0  # documents jumping from anywhere to the top PROMOTED_TO ranks
PROMOTED_TO = 300
SWAPS_PER_DAY = 10.0  # neighbours in the top PROMOTED_TO ranks trading places
QUERIES_PER_DAY = (3, 8)  # queries crawled a day (more if a day's pages need them)
CRAWL_START_LATEST_S = 20 * 3600  # a day's crawl starts before 20:00 UTC, ends the same day
PAGE_GAP_S = (2, 15)  # seconds between two pages of one crawl
QUERY_GAP_S = (10, 120)  # seconds between two queries' crawls
FLATTENED_SHARE = 0.2
NO_AGE_SHARE = 0.03
NO_UPLOAD_TIME_SHARE = 0.005

QUERIES = (
    "kubernetes", "数据库", "云原生", "golang", "微服务", "redis", "机器学习", "docker",
    "架构设计", "python", "服务网格", "大数据",
)  # fmt: skip
TECH = (
    "Kubernetes", "Docker", "Istio", "Envoy", "Nacos", "Dubbo", "Spring Cloud", "Redis",
    "MySQL", "PostgreSQL", "TiDB", "ClickHouse", "Kafka", "Pulsar", "Flink", "Spark",
    "Prometheus", "Grafana", "etcd", "Helm", "Go", "Rust", "Python", "Serverless",
    "Service Mesh", "eBPF", "Harbor", "CurveFS", "OceanBase", "sealos",
)  # fmt: skip
TOPICS = (
    "架构与原理", "最佳实践", "源码剖析", "性能优化", "入门指南", "运维手册", "设计与实现",
    "生产环境落地", "高可用方案", "多集群管理", "可观测性建设", "安全加固", "容量规划",
    "故障排查案例", "迁移实践", "调度系统", "存储引擎", "网络模型", "开发者大会分享",
)  # fmt: skip
AUTHORS = ("王成昌", "邹佳", "翟佳", "高磊", "刘超", "张磊", "李响", "陈皓")
PHRASES = (
    "云原生", "分布式系统", "微服务架构", "服务治理", "数据库", "高可用", "容灾演练",
    "弹性伸缩", "多租户隔离", "存储计算分离", "读写分离", "一致性协议", "服务发现",
    "负载均衡", "灰度发布", "蓝绿部署", "流量调度", "可观测性", "日志收集", "链路追踪",
    "指标监控", "告警收敛", "资源隔离", "镜像仓库", "持续交付", "自动化运维", "故障自愈",
    "混沌工程", "容器编排", "节点调度", "垃圾回收", "快照备份", "主从复制", "分片集群",
    "事务|分析混合计算", "第 3 页起为附录", "约 12 MB 内存", "共享存储", "对象存储",
    "目 录", "一、业务背景", "二、技术架构", "三、实践总结", "• 容量", "• 一致性",
    "阿里巴巴", "蚂蚁金服", "网易云", "字节跳动", "技术专家", "开源社区",
)  # fmt: skip
WORDS = (
    "API", "Server", "SDK", "Pod", "Node", "Operator", "CRD", "Raft", "Paxos", "HTAP",
    "OLTP", "OLAP", "QPS", "SLA", "CPU", "GPU", "VPC", "TLS", "gRPC", "HTTP/2", "WAL",
    "LSM-Tree", "B+Tree", "MVCC", "CNI", "CSI", "Sidecar", "DaemonSet", "StatefulSet",
)  # fmt: skip
MAX_AGE_SECONDS = 6 * 365 * 86400
# The facts only the HTML and JSON forms show. Extensions with their weights (icons: pdf,
# ppt, word, excel, text, epub, mobi, chm, and `other` for .zip).
EXTS = (
    (".pdf", 55), (".pptx", 14), (".docx", 10), (".ppt", 4), (".doc", 4), (".xlsx", 3),
    (".txt", 3), (".zip", 3), (".epub", 2), (".mobi", 1), (".chm", 1),
)  # fmt: skip
KEYWORDS = (*TECH, *QUERIES, "分布式系统", "微服务架构", "可观测性", "高可用", "服务治理")
MAX_KEYWORDS = 4
SEARCH_SECONDS = (0.002, 0.25)  # the search time the HTML tips and the API report


def _log_uniform(rng: random.Random, low: float, high: float) -> int:
    return int(math.exp(rng.uniform(math.log(low), math.log(high))))


def _title(rng: random.Random) -> str:
    tech, topic = rng.choice(TECH), rng.choice(TOPICS)
    shape = rng.random()
    if shape < 0.5:
        return f"{tech} {topic}"
    if shape < 0.7:
        return f"{tech}{topic}-{rng.choice(AUTHORS)}"
    if shape < 0.85:
        return f"{rng.randint(1, 30):02d}-{tech}{topic}"
    return f"深入 {tech}：{rng.choice(PHRASES)}的{topic}"


def _description(rng: random.Random, own_line: bool) -> str:
    parts: list[str] = []
    length, target = 0, rng.randint(60, 360)
    while length < target:
        piece = rng.choice(PHRASES) if rng.random() < 0.7 else rng.choice(WORDS)
        parts.append(piece)
        parts.append(rng.choice(("", " ", " ", "，", "。", " • ")))
        length += len(piece) + 1
    text = "".join(parts[:-1])
    if own_line and rng.random() < 0.15:
        cut = text.find(" ", len(text) // 2)
        if cut > 0:
            text = text[:cut] + "\n" + text[cut + 1 :]
    if rng.random() < 0.15:  # slide numbers, years, counts: the glued price becomes ambiguous
        text += rng.choice((f"{rng.randint(2, 40)}/{rng.randint(20, 60)}", "2023", "10"))
    return text.strip()


def _document(rng: random.Random, uploaded_at: datetime | None, layout: str) -> Document:
    """A document that renders unambiguously with `layout` (re-drawn until it does).

    An `own_line` document must also read back when a page flattened further shows it
    glued (its line breaks lost): `_flattened` is that rendering, and it is checked too.
    """
    while True:
        score = 300 if rng.random() < 0.8 else rng.choice((100, 200, 350, 400, 450, 500, 3))
        doc = Document(
            title=_title(rng),
            description=_description(rng, own_line=layout == "own_line"),
            price=0 if rng.random() < 0.97 else rng.choice((1, 2, 3, 5, 10, 20)),
            credit=CREDIT,
            pages=None if rng.random() < 0.05 else _log_uniform(rng, 1, 1500),
            size_bytes=_log_uniform(rng, 1024, 2 * 1024**3),
            uploaded_at=uploaded_at,
            score=score,
        )
        if ambiguities(doc, layout):
            continue
        if layout == "own_line" and ambiguities(*_flattened(doc, layout)):
            continue
        return doc


def _site_facts(rng: random.Random, doc_id: int) -> dict[str, object]:
    """What only the HTML and JSON forms show of a document: its id, file type, keywords
    and counts (the text form renders none of them)."""
    exts, weights = zip(*EXTS, strict=True)
    views = _log_uniform(rng, 1, 200_000) if rng.random() < 0.95 else 0
    keywords = rng.sample(KEYWORDS, rng.randint(0, MAX_KEYWORDS))
    return {
        "document_id": doc_id + 1,  # the site's ids start at 1
        "ext": rng.choices(exts, weights)[0],
        "keywords": ",".join(keywords),
        "view_count": views,
        "download_count": int(views * rng.uniform(0, 0.3)),
        "favorite_count": int(views * rng.uniform(0, 0.02)),
        "comment_count": rng.randint(1, 20) if rng.random() < 0.2 else 0,
    }


def _flattened(doc: Document, layout: str) -> tuple[Document, str]:
    """How a page flattened further shows a document: no line breaks, so no own-line title.

    Only whitespace changes, which the warehouse's document key ignores: it is still the
    same document.
    """
    if layout != "own_line":
        return doc, layout
    return replace(doc, description=doc.description.replace("\n", " ")), "glued"


def _layout(rng: random.Random) -> str:
    # A document's title layout is its own (slides repeat their title on every page they
    # are shown on). Pages flattened further (FLATTENED_SHARE) lose line breaks, so an
    # own-line title shows glued there; own-line is drawn more often to keep ~30 % overall.
    r = rng.random()
    if r < 0.1:
        return "repeated"
    if r < 0.1 + 0.3 / (1 - FLATTENED_SHARE):
        return "own_line"
    return "glued"


@dataclass(frozen=True)
class Page:
    """One saved results page: where the crawler put it, its text and its sidecar."""

    part: str  # CORPUS_DIR or INCREMENTS_DIR
    day: str  # the UTC fetch day, YYYY-MM-DD: the folder it is saved in
    name: str  # <site>-<query>-p<N>.txt (.html, .json: the form's suffix)
    text: str
    sidecar: dict[str, str]
    doc_ids: tuple[int, ...]  # the documents shown, best ranked first: the same id, the same
    docs: tuple[Document, ...]  # document; and the truths rendered, in the same order
    form: str = "text"  # one of FORMS

    @property
    def path(self) -> str:
        """Relative to the dataset's root: `raw/2025-03-14/wenku.it-redis-p2.txt`."""
        return f"{self.part}/{self.day}/{self.name}"


@dataclass
class _Query:
    """One query's results as the site ranks them: document ids, best first."""

    name: str
    ranked: list[int]
    uploads_per_day: float
    evolved_at: datetime


@dataclass(frozen=True)
class _Shown:
    """A document and its title layout, as normal and as flattened pages show it."""

    doc: Document
    layout: str
    flat_doc: Document
    flat_layout: str


class _Site:
    """The simulated library: a slowly evolving pool of documents per query.

    Each query starts with a pool of POOL_MIN..POOL_MAX documents uploaded before the
    corpus starts. Whenever a query is crawled, the time since its last crawl is played
    out first: new uploads arrive (some ranked near the top, some deep; a few also match
    a second query), a few documents jump up the ranking and neighbours swap. So the first
    pages of a query show mostly the same documents day after day, each rendered with its
    age relative to that day's fetch time. Documents are drawn lazily, from a generator
    seeded by (seed, document id), when first shown: one that is never on a crawled page
    costs nothing but its upload time.
    """

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.uploaded_at: list[datetime | None] = []
        self.shown: dict[int, _Shown] = {}
        self.queries: list[_Query] = []
        for name in QUERIES:
            size = _log_uniform(self.rng, POOL_MIN, POOL_MAX)
            ranked = [self._upload(None) for _ in range(size)]
            rate = self.rng.uniform(*UPLOADS_PER_DAY)
            self.queries.append(_Query(name, ranked, rate, CORPUS_START))

    def _upload(self, at: datetime | None) -> int:
        """A new document id; uploaded at `at`, or before the corpus starts if None."""
        rng = self.rng
        if rng.random() < NO_UPLOAD_TIME_SHARE:
            uploaded = None
        elif at is None:
            age = _log_uniform(rng, 86400, MAX_AGE_SECONDS)
            uploaded = CORPUS_START - timedelta(seconds=age)
        else:
            uploaded = at
        self.uploaded_at.append(uploaded)
        return len(self.uploaded_at) - 1

    def _rank(self, size: int) -> int:
        """Where a new or promoted document lands: often near the top, else anywhere."""
        if self.rng.random() < 0.5:
            return self.rng.randint(0, min(size, TOP_RANKS))
        return self.rng.randint(0, size)

    def _count(self, per_day: float, days: float) -> int:
        expected = per_day * days
        return int(expected) + (self.rng.random() < expected - int(expected))

    def evolve(self, query: _Query, now: datetime) -> None:
        """Play out the time since `query` was last crawled: uploads, promotions, swaps."""
        rng, since = self.rng, query.evolved_at
        seconds = int((now - since).total_seconds())
        days = seconds / 86400
        for _ in range(self._count(query.uploads_per_day, days)):
            doc_id = self._upload(since + timedelta(seconds=rng.randint(0, seconds)))
            query.ranked.insert(self._rank(len(query.ranked)), doc_id)
            if rng.random() < SECOND_QUERY_SHARE:
                other = rng.choice(self.queries)
                if other is not query:
                    other.ranked.insert(self._rank(len(other.ranked)), doc_id)
        ranked = query.ranked
        for _ in range(self._count(PROMOTIONS_PER_DAY, days)):
            ranked.insert(rng.randint(0, PROMOTED_TO), ranked.pop(rng.randrange(len(ranked))))
        for _ in range(self._count(SWAPS_PER_DAY, days)):
            i = rng.randrange(min(len(ranked) - 1, PROMOTED_TO))
            ranked[i], ranked[i + 1] = ranked[i + 1], ranked[i]
        query.evolved_at = now

    def show(self, doc_id: int) -> _Shown:
        shown = self.shown.get(doc_id)
        if shown is None:
            rng = random.Random(f"{self.seed}:{doc_id}")
            layout = _layout(rng)
            doc = _document(rng, self.uploaded_at[doc_id], layout)
            # The HTML/JSON facts from a generator of their own: the text form is unchanged.
            facts = _site_facts(random.Random(f"{self.seed}:{doc_id}:facts"), doc_id)
            doc = replace(doc, **facts)
            shown = _Shown(doc, layout, *_flattened(doc, layout))
            self.shown[doc_id] = shown
        return shown

    def page(
        self,
        query: _Query,
        page_no: int,
        fetched_at: datetime,
        form: str = "text",
        text_layout: str = DEFAULT_TEXT_LAYOUT.name,
    ) -> tuple[str, tuple[int, ...], tuple[Document, ...]]:
        """Page `page_no` of `query` fetched at `fetched_at` (always a full page) in `form`:
        its text, and the ids and truths of the documents on it.

        The site's generator is drawn from exactly as for the text form whatever `form` is,
        so every form of a corpus shows the same documents at the same fetch times.
        """
        rng = self.rng
        ids = tuple(query.ranked[(page_no - 1) * PER_PAGE : page_no * PER_PAGE])
        flattened = rng.random() < FLATTENED_SHARE
        shown = [self.show(i) for i in ids]
        total = len(query.ranked)
        last_page = -(-total // PER_PAGE)
        show_age = [rng.random() >= NO_AGE_SHARE for _ in shown]
        if form == "text":
            docs = tuple(s.flat_doc if flattened else s.doc for s in shown)
            text = render_page(
                docs,
                fetched_at,
                total_results=total,
                last_page=last_page,
                pager=pager_window(page_no, last_page),
                separator=" " if flattened else "\n",
                title_layouts=[s.flat_layout if flattened else s.layout for s in shown],
                show_age=show_age,
                layout=text_layout,
            )
            return text, ids, docs
        # A browser shows a description on one line, so HTML and JSON carry the flat one.
        # A slide deck's text repeats its title: the text form's second copy is the start of
        # the document's own description, which is what the site stores and serves.
        docs = tuple(
            replace(s.flat_doc, description=s.flat_doc.title + s.flat_doc.description)
            if s.layout == "repeated"
            else s.flat_doc
            for s in shown
        )
        page_rng = random.Random(f"{self.seed}:{query.name}:{page_no}:{fetched_at.isoformat()}")
        spend = f"{page_rng.uniform(*SEARCH_SECONDS):.3f}"
        if form == "json":
            # The API always has a creation time: a document without one (`刚刚` on the
            # other forms' pages) says it was created at this fetch.
            docs = tuple(
                replace(d, uploaded_at=fetched_at) if d.uploaded_at is None else d for d in docs
            )
            return render_json_page(docs, total_results=total, search_seconds=spend), ids, docs
        if form not in ("html", "html-saved"):
            raise ValueError(f"form must be one of {FORMS}, got {form!r}")
        text = render_html_page(
            docs,
            fetched_at,
            total_results=total,
            last_page=last_page,
            current_page=page_no,
            site_document_count=len(self.uploaded_at),
            search_seconds=spend,
            saved=form == "html-saved",
            show_age=show_age,
        )
        return text, ids, docs

    def crawl_day(
        self,
        part: str,
        day: datetime,
        pages: int,
        form: str = "text",
        text_layout: str = DEFAULT_TEXT_LAYOUT.name,
    ) -> Iterator[Page]:
        """One day's crawl: several queries, each walked from page 1, pages seconds apart."""
        rng = self.rng
        order = rng.sample(self.queries, len(self.queries))
        crawls = min(pages, len(order), max(rng.randint(*QUERIES_PER_DAY), -(-pages // 40)))
        weights = [rng.random() + 0.25 for _ in range(crawls)]
        depths = [1] * crawls
        for i in rng.choices(range(crawls), weights, k=pages - crawls):
            depths[i] += 1
        at = day + timedelta(seconds=rng.randint(0, CRAWL_START_LATEST_S))
        folder = day.strftime("%Y-%m-%d")
        overflow = 0
        for n, query in enumerate(order):
            if n < crawls:
                want = depths[n] + overflow
            elif overflow:
                want = overflow
            else:
                break
            self.evolve(query, at)
            depth = min(want, len(query.ranked) // PER_PAGE)
            overflow = want - depth
            for page_no in range(1, depth + 1):
                at += timedelta(seconds=rng.randint(*PAGE_GAP_S))
                text, ids, docs = self.page(query, page_no, at, form, text_layout)
                sidecar = {
                    "url": _url(query.name, page_no, form),
                    "fetched_at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                }
                name = f"{SITE_HOST}-{query.name}-p{page_no}{SUFFIXES[form]}"
                yield Page(part, folder, name, text, sidecar, ids, docs, form)
            at += timedelta(seconds=rng.randint(*QUERY_GAP_S))
        if overflow:
            raise ValueError(f"{pages} pages on {folder} are more than every query holds")


def _url(query: str, page_no: int, form: str) -> str:
    """The URL a page of `form` was fetched from: the search page, or the search API."""
    if form == "json":
        return f"{SITE}{API_PATH}?wd={quote(query)}&page={page_no}&size={PER_PAGE}"
    return f"{SITE}/search?wd={quote(query)}&page={page_no}"


def pages_per_day(n_pages: int, days: int) -> list[int]:
    """`n_pages` spread evenly over `days` (the counts differ by at most one)."""
    return [(d + 1) * n_pages // days - d * n_pages // days for d in range(days)]


def generate_corpus(
    n_listings: int,
    *,
    seed: int = 0,
    form: str = "text",
    days: int = CORPUS_DAYS,
    increment_days: int = INCREMENT_DAYS,
    increment_pages: int = INCREMENT_PAGES,
    text_layout: str = DEFAULT_TEXT_LAYOUT.name,
) -> Iterator[Page]:
    """Yield the pages of `n_listings` fetched over `days` days, then the increments.

    The corpus (`part` CORPUS_DIR) is `n_listings / 10` full pages on `days` consecutive
    UTC days from CORPUS_START; the increments (`part` INCREMENTS_DIR) are
    `increment_pages` pages on each of the `increment_days` days after it, from the same
    simulated site, so their documents recur too. Same arguments, same pages, byte for
    byte; the corpus does not depend on the increments' arguments. `form` (one of FORMS)
    changes only how the pages are rendered and named: every form of the same arguments
    shows the same documents at the same fetch times. `text_layout` (one of
    `render.TEXT_LAYOUTS`) is the layout text pages are printed in.
    """
    if n_listings <= 0 or n_listings % PER_PAGE:
        raise ValueError(f"n_listings must be a positive multiple of {PER_PAGE}, got {n_listings}")
    if form not in FORMS:
        raise ValueError(f"form must be one of {FORMS}, got {form!r}")
    site = _Site(seed)
    schedule = [
        (CORPUS_DIR, d, count)
        for d, count in enumerate(pages_per_day(n_listings // PER_PAGE, days))
    ]
    schedule += [(INCREMENTS_DIR, days + d, increment_pages) for d in range(increment_days)]
    for part, d, count in schedule:
        if count:
            day = CORPUS_START + timedelta(days=d)
            yield from site.crawl_day(part, day, count, form, text_layout)


def write_corpus(
    root: Path, n_listings: int, seed: int = 0, form: str = "text", **options: int
) -> list[Path]:
    """Write the pages and sidecars under `root` (`raw/DAY/…`, `increments/DAY/…`).

    Returns the page files written (sidecars not included), in generation order.
    `options` go to `generate_corpus` (days, increment_days, increment_pages).
    """
    written: list[Path] = []
    made: set[Path] = set()
    for page in generate_corpus(n_listings, seed=seed, form=form, **options):
        path = root / page.path
        if path.parent not in made:
            path.parent.mkdir(parents=True, exist_ok=True)
            made.add(path.parent)
        path.write_text(page.text, encoding="utf-8", newline="")
        sidecar = json.dumps(page.sidecar, ensure_ascii=False) + "\n"
        path.with_name(path.name + SIDECAR_SUFFIX).write_text(sidecar, encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.generate",
        description=(
            "Write a seeded corpus of generated search-result pages with sidecars: "
            f"OUT/{CORPUS_DIR}/YYYY-MM-DD/… over --days days, then "
            f"OUT/{INCREMENTS_DIR}/YYYY-MM-DD/… for the increments."
        ),
    )
    parser.add_argument("--listings", type=int, required=True, help="listings in the corpus")
    parser.add_argument("--out", type=Path, required=True, help="folder to write into")
    parser.add_argument("--seed", type=int, default=0, help="default: %(default)s")
    parser.add_argument(
        "--form", choices=FORMS, default="text", help="input form to write (default: %(default)s)"
    )
    parser.add_argument("--days", type=int, default=CORPUS_DAYS, help="default: %(default)s")
    parser.add_argument(
        "--increment-days", type=int, default=INCREMENT_DAYS, help="default: %(default)s"
    )
    parser.add_argument(
        "--increment-pages", type=int, default=INCREMENT_PAGES, help="default: %(default)s"
    )
    args = parser.parse_args(argv)
    start = time.perf_counter()
    paths = write_corpus(
        args.out,
        args.listings,
        seed=args.seed,
        form=args.form,
        days=args.days,
        increment_days=args.increment_days,
        increment_pages=args.increment_pages,
    )
    print(
        f"{args.listings:,} listings over {args.days} days and "
        f"{args.increment_days} increments: {len(paths):,} {args.form} pages written to {args.out} "
        f"in {time.perf_counter() - start:.1f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
