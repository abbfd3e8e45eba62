"""A seeded corpus of realistic search-result pages: years of daily crawls, the mix users see.

`python -m benchmarks.generate --listings 100000 --out DIR [--seed S] [--days D | --years Y]
[--form F] [--twins SHARE] [--workers N]` writes the pages as a crawler saves them, one folder
per UTC fetch day, each page with its `.meta.json` sidecar (url and fetched_at):

    DIR/raw/2024-11-01/wenku.it-redis-p1.txt (+ .meta.json)      the corpus: 730 days
    DIR/raw/2024-11-01/wenku.it-redis-p1.json (+ .meta.json)     a twin: the same results
    DIR/increments/2026-11-01/wenku.it-docker-p1.txt              then 30 days of 50 pages

**The mix** (what users' crawls hold; rates approximate, chosen to resemble wenku.it and the
catalogue-heavy crawl of the issue that found the title step's cliff):

- *Many documents, recurring.* A 1 M-listing corpus over 730 days shows ~0.4 M distinct
  documents: the top results of a query come back day after day (their age text rendered
  relative to each fetch), while uploads, promotions and deep pages keep bringing new ones,
  so the warehouse's grouping by document is real work and so is the title catalogue.
- *Titles*: ~1/3 of listings print the title on its own line (an exact title), ~10 % are
  slides repeating it (exact too), the rest glue it to the description (a boundary only the
  catalogue of exact titles can show). Titles are nearly all distinct, as real ones are.
- *HTML/JSON twins*: for `TWIN_SHARE` of its page fetches the crawler also saved the same
  results as the site's HTML or the search API's JSON (half each), seconds later, in their
  own file with their own suffix and sidecar, as `--form html`/`json` writes them; about a
  tenth of the documents are seen on such a page, all over the span. Twins count in the
  listings: a corpus of N listings is N/10 page files of every form together.
- sizes log-uniform from 1 KB to 2 GB; upload ages log-uniform from a day to ~6 years at
  the start, then new uploads every day; descriptions of a few hundred characters mixing
  CJK and ASCII; ~15 % of descriptions end in digits (ambiguous glued prices); ~5 % of page
  counts `-`; ~3 % of listings without the age block; ~20 % of text pages flattened further
  (a space between listings instead of a line break, so an own-line title shows glued
  there); prices mostly 0; 0.5 % of documents with no upload time (always `刚刚`, so their
  sightings contradict each other: a real data-quality finding the warehouse reports).

**The site** (`_Site`): each query has a ranked pool of documents that evolves between two
crawls of it (uploads, most of them near the top; promotions; neighbours swapping; results
past `RESULTS_CAP` dropped). Each day the crawler walks about half of its queries from page
1, pages seconds apart; the number of queries grows with the pages a day (`queries_for`),
so every size has about the same depth per query and the same share of new documents. Pages
are rendered by `render` (the functions the property tests trust), so a
generated page is exactly what the site would have shown for that truth. No hypothesis
here: a benchmark wants a fast, reproducible, *typical* mix, not adversarial shrinking.

**Forms.** `--form` writes every page in one input form (`FORMS`): `text` (the default),
`html` (the server's HTML), `html-saved` (as a browser's "Save Page As" leaves it), `json`
(the search API's response); such single-form corpora have no twins by default
(`--twins 0` gives the text one the kit's per-form section compares), and every form of the
same arguments shows the same documents at the same fetch times: only the rendering, the
file suffix and, for `json`, the sidecar's URL (the API's `/api/v1/document/search`) differ.
What a form cannot carry is adapted, never redrawn: HTML and JSON show a description on
one line, a slide deck's description starts with the title its text repeats, and the API
always sends a creation time (a document without one is sent as created at the fetch).

**Speed.** The simulation (which documents are on which page when) is sequential and
cheap; drawing the documents and rendering the pages is the work, and `write_corpus` does
it on `workers` processes, chunks of consecutive days each (the pages do not depend on
the number of workers). Same seed and arguments, same pages, byte for byte; the corpus does
not depend on the increments' arguments.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import random
import sys
import time
from array import array
from collections import OrderedDict, deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from render.api import render_json_page
from render.fields import DEFAULT_TEXT_LAYOUT, Document, pager_window
from render.html import render_html_page
from render.text import ambiguities, render_page

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
# A corpus ends the day before CORPUS_END, whatever its length, and its increments start
# then: every fetch time lies in the past, which a run requires (docs/input-format.md §4).
CORPUS_END = datetime(2026, 11, 1, tzinfo=UTC)
CORPUS_DAYS = 730
CORPUS_START = CORPUS_END - timedelta(days=CORPUS_DAYS)  # the default's: 2024-11 … 2026-10
INCREMENT_DAYS = 30  # then one scheduled run a day, 50 pages each
INCREMENT_PAGES = 50

# The simulated site (see `_Site`).
POOL_MIN, POOL_MAX = 1000, 5000  # documents a query finds at the start
RESULTS_CAP = 10_000  # results a query lists at most: past it the lowest ranked drop out
UPLOADS_PER_DAY = (10.0, 40.0)  # new documents per query and day, drawn per query
TOP_SHARE = 0.7  # of new and promoted documents land in the top TOP_RANKS, the rest anywhere
SECOND_QUERY_SHARE = 0.15  # new documents that a second query finds too
TOP_RANKS = 100
PROMOTIONS_PER_DAY = 2.0  # documents jumping from anywhere to the top PROMOTED_TO ranks
PROMOTED_TO = 300
SWAPS_PER_DAY = 10.0  # neighbours in the top PROMOTED_TO ranks trading places
# The crawler: the queries it knows grow with its pages a day (one query per this many),
# and each day it walks this share of them from page 1 (more if a day's pages need them).
PAGES_PER_QUERY_AND_DAY = 2.5
QUERY_SHARE_PER_DAY = (0.25, 0.67)
MAX_MEAN_DEPTH = 40  # pages per query crawl at most on average (more queries if more)
CRAWL_START_LATEST_S = 20 * 3600  # a day's crawl starts before 20:00 UTC, ends the same day
PAGE_GAP_S = (2, 15)  # seconds between two pages of one crawl
QUERY_GAP_S = (10, 120)  # seconds between two queries' crawls
FLATTENED_SHARE = 0.2
NO_AGE_SHARE = 0.03
NO_UPLOAD_TIME_SHARE = 0.005
# Title layouts, as a share of listings: own line (exact), repeated (slides: exact), glued.
OWN_LINE_SHARE = 1 / 3
REPEATED_SHARE = 0.1
# HTML/JSON twins: page fetches also saved in another form, the same results seconds later.
TWIN_SHARE = 0.04
TWIN_FORMS = ("html", "json")
TWIN_DELAY_S = (0, 5)

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
EVENTS = (
    "QCon", "ArchSummit", "GOTC", "KubeCon China", "GopherChina", "DTCC", "SACC",
    "PyCon China", "CNCF 线上研讨会", "内部技术分享", "阿里云栖大会", "InfoQ 直播",
)  # fmt: skip
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
# The phrases a title may hold: no digit, pipe, bullet or space (those are the description's).
TITLE_PHRASES = tuple(p for p in PHRASES if not any(c.isdigit() or c in "|• 、" for c in p))
WORDS = (
    "API", "Server", "SDK", "Pod", "Node", "Operator", "CRD", "Raft", "Paxos", "HTAP",
    "OLTP", "OLAP", "QPS", "SLA", "CPU", "GPU", "VPC", "TLS", "gRPC", "HTTP/2", "WAL",
    "LSM-Tree", "B+Tree", "MVCC", "CNI", "CSI", "Sidecar", "DaemonSet", "StatefulSet",
)  # fmt: skip
# A description's pieces: a phrase 70 % of the time, else a word; then a separator.
_PIECES = (*PHRASES, *WORDS)
_PIECE_WEIGHTS = tuple(
    itertools.accumulate([0.7 / len(PHRASES)] * len(PHRASES) + [0.3 / len(WORDS)] * len(WORDS))
)
_SEPARATORS = ("", " ", " ", "，", "。", " • ")
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
NO_TIME = -(2**62)  # an upload time the site does not have (`刚刚`), in the epoch array
DOC_CACHE = 150_000  # documents a renderer keeps drawn (recent sightings recur)
CHUNK_FETCHES = 400  # page fetches a worker renders at a time (consecutive days)


def _log_uniform(rng: random.Random, low: float, high: float) -> int:
    return int(math.exp(rng.uniform(math.log(low), math.log(high))))


def _title(rng: random.Random) -> str:
    """A title; the shapes multiply out to tens of millions, so nearly every one is new."""
    choice, tech, topic = rng.choice, rng.choice(TECH), rng.choice(TOPICS)
    shape = rng.random()
    if shape < 0.35:
        return f"{tech} {topic}：{choice(TITLE_PHRASES)}与{choice(TITLE_PHRASES)}-{choice(AUTHORS)}"
    if shape < 0.55:
        event = f"{choice(EVENTS)} {rng.randint(2015, 2026)}"
        return f"{tech}{topic}：{choice(TITLE_PHRASES)}-{choice(AUTHORS)}（{event}）"
    if shape < 0.8:
        version = f"{rng.randint(1, 9)}.{rng.randint(0, 30)}"
        return f"{rng.randint(1, 60):02d}-{tech} {version} {topic}：{choice(TITLE_PHRASES)}"
    phrases = f"{choice(TITLE_PHRASES)}与{choice(TITLE_PHRASES)}"
    return f"深入 {tech}：{phrases}的{topic}（第 {rng.randint(1, 12)} 版）"


def _description(rng: random.Random, own_line: bool) -> str:
    target = rng.randint(60, 360)
    parts: list[str] = []
    length = 0
    while length < target:  # a piece and its separator are ~6 characters: one draw mostly
        k = (target - length) // 5 + 2
        pieces = rng.choices(_PIECES, cum_weights=_PIECE_WEIGHTS, k=k)
        separators = rng.choices(_SEPARATORS, k=k)
        for piece, separator in zip(pieces, separators, strict=True):
            parts.append(piece)
            parts.append(separator)
            length += len(piece) + 1
            if length >= target:
                break
    text = "".join(parts[:-1])
    if own_line and rng.random() < 0.15:
        cut = text.find(" ", len(text) // 2)
        if cut > 0:
            text = text[:cut] + "\n" + text[cut + 1 :]
    if rng.random() < 0.15:  # slide numbers, years, counts: the glued price becomes ambiguous
        text += rng.choice((f"{rng.randint(2, 40)}/{rng.randint(20, 60)}", "2023", "10"))
    return text.strip()


def _document(
    rng: random.Random,
    uploaded_at: datetime | None,
    layout: str,
    facts: dict[str, object] | None = None,
) -> Document:
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
            **(facts or {}),  # type: ignore[arg-type]
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
    if "\n" not in doc.description:
        return doc, "glued"
    return replace(doc, description=doc.description.replace("\n", " ")), "glued"


def _layout(rng: random.Random) -> str:
    # A document's title layout is its own (slides repeat their title on every page they
    # are shown on). Pages flattened further (FLATTENED_SHARE) lose line breaks, so an
    # own-line title shows glued there: own-line is drawn more often to keep
    # OWN_LINE_SHARE of the listings.
    r = rng.random()
    if r < REPEATED_SHARE:
        return "repeated"
    if r < REPEATED_SHARE + OWN_LINE_SHARE / (1 - FLATTENED_SHARE):
        return "own_line"
    return "glued"


def _query_names() -> tuple[str, ...]:
    """Every query the crawler may know, in the order it learns them: the 12 first."""
    names = list(QUERIES)
    techs = [tech.lower().replace(" ", "") for tech in TECH]
    names += [tech for tech in techs if tech not in names]
    names += [f"{tech}{topic}" for topic in TOPICS for tech in techs]
    return tuple(names)


QUERY_NAMES = _query_names()


def queries_for(n_pages: int, days: int) -> int:
    """How many queries a crawler of `n_pages` over `days` days walks: one per
    PAGES_PER_QUERY_AND_DAY pages a day, at least the 12 `QUERIES`."""
    wanted = round(n_pages / max(days, 1) / PAGES_PER_QUERY_AND_DAY)
    return min(max(len(QUERIES), wanted), len(QUERY_NAMES))


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
    twin: bool = False  # saved beside a text page of the same results, in another form
    title_layouts: tuple[str, ...] = ()  # text form: each listing's title layout as printed

    @property
    def path(self) -> str:
        """Relative to the dataset's root: `raw/2025-03-14/wenku.it-redis-p2.txt`."""
        return f"{self.part}/{self.day}/{self.name}"


@dataclass(frozen=True)
class Fetch:
    """One page fetch as the simulation decided it: everything its rendering needs."""

    part: str
    day: str
    query: str
    page_no: int
    fetched_at: datetime
    form: str
    ids: tuple[int, ...]
    uploaded: tuple[int, ...]  # epoch seconds of each document's upload, NO_TIME for none
    total: int  # results the query lists
    site_documents: int  # documents the site holds (the HTML tips print it)
    flattened: bool
    show_age: tuple[bool, ...]
    twin: bool = False


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
    """The simulated library and its crawler: which documents a page shows, when.

    Each query starts with a pool of POOL_MIN..POOL_MAX documents uploaded before the
    corpus starts. Whenever a query is crawled, the time since its last crawl is played
    out first: new uploads arrive (most ranked near the top, some deep; a few also match a
    second query), a few documents jump up the ranking and neighbours swap; results past
    RESULTS_CAP drop out. So the first pages of a query show mostly the same documents day
    after day, and new ones every time. Only ids and upload times live here (documents are
    drawn when rendered, `_Renderer`), so a long crawl's state stays small.
    """

    def __init__(
        self, seed: int, n_queries: int = len(QUERIES), start: datetime = CORPUS_START
    ) -> None:
        self.seed = seed
        self.start_s = int(start.timestamp())
        self.rng = random.Random(seed)
        self.twin_rng = random.Random(f"{seed}:twins")
        self.uploaded_at = array("q")  # epoch seconds, NO_TIME for none
        self.queries: list[_Query] = []
        for name in QUERY_NAMES[:n_queries]:
            size = _log_uniform(self.rng, POOL_MIN, POOL_MAX)
            ranked = [self._upload(None) for _ in range(size)]
            rate = self.rng.uniform(*UPLOADS_PER_DAY)
            self.queries.append(_Query(name, ranked, rate, start))

    def _upload(self, at: int | None) -> int:
        """A new document id; uploaded at `at` (epoch seconds), or before the corpus starts
        if None."""
        rng = self.rng
        if rng.random() < NO_UPLOAD_TIME_SHARE:
            uploaded = NO_TIME
        elif at is None:
            uploaded = self.start_s - _log_uniform(rng, 86400, MAX_AGE_SECONDS)
        else:
            uploaded = at
        self.uploaded_at.append(uploaded)
        return len(self.uploaded_at) - 1

    def _rank(self, size: int) -> int:
        """Where a new or promoted document lands: mostly near the top, else anywhere."""
        if self.rng.random() < TOP_SHARE:
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
        touched = {id(query): query}
        since_s = int(since.timestamp())
        for _ in range(self._count(query.uploads_per_day, days)):
            doc_id = self._upload(since_s + rng.randint(0, seconds))
            query.ranked.insert(self._rank(len(query.ranked)), doc_id)
            if rng.random() < SECOND_QUERY_SHARE:
                other = rng.choice(self.queries)
                if other is not query:
                    other.ranked.insert(self._rank(len(other.ranked)), doc_id)
                    touched[id(other)] = other
        ranked = query.ranked
        for _ in range(self._count(PROMOTIONS_PER_DAY, days)):
            ranked.insert(rng.randint(0, PROMOTED_TO), ranked.pop(rng.randrange(len(ranked))))
        for _ in range(self._count(SWAPS_PER_DAY, days)):
            i = rng.randrange(min(len(ranked) - 1, PROMOTED_TO))
            ranked[i], ranked[i + 1] = ranked[i + 1], ranked[i]
        for changed in touched.values():
            del changed.ranked[RESULTS_CAP:]
        query.evolved_at = now

    def _fetch(
        self,
        rng: random.Random,
        part: str,
        folder: str,
        query: _Query,
        page_no: int,
        at: datetime,
        form: str,
        twin: bool = False,
    ) -> Fetch:
        ids = tuple(query.ranked[(page_no - 1) * PER_PAGE : page_no * PER_PAGE])
        flattened = rng.random() < FLATTENED_SHARE
        show_age = tuple(rng.random() >= NO_AGE_SHARE for _ in ids)
        uploaded = tuple(self.uploaded_at[i] for i in ids)
        return Fetch(
            part, folder, query.name, page_no, at, form, ids, uploaded, len(query.ranked),
            len(self.uploaded_at), flattened and form == "text", show_age, twin,
        )  # fmt: skip

    def _plan_twins(self, pages: int, twin_share: float) -> list[bool]:
        """For each page fetch of a day's `pages` files, whether a twin is saved beside it."""
        twins: list[bool] = []
        files = 0
        while files < pages:
            twin = files + 2 <= pages and self.twin_rng.random() < twin_share
            twins.append(twin)
            files += 1 + twin
        return twins

    def crawl_day(
        self, part: str, day: datetime, pages: int, form: str = "text", twin_share: float = 0.0
    ) -> Iterator[Fetch]:
        """One day's crawl of `pages` files: queries walked from page 1, pages seconds apart,
        and the twins saved beside some of them."""
        rng = self.rng
        twins = self._plan_twins(pages, twin_share) if twin_share > 0 else [False] * pages
        fetches = len(twins)
        order = rng.sample(self.queries, len(self.queries))
        share = rng.uniform(*QUERY_SHARE_PER_DAY)
        crawls = min(
            fetches, len(order), max(round(share * len(order)), -(-fetches // MAX_MEAN_DEPTH))
        )
        weights = [rng.random() + 0.25 for _ in range(crawls)]
        depths = [1] * crawls
        for i in rng.choices(range(crawls), weights, k=fetches - crawls):
            depths[i] += 1
        at = day + timedelta(seconds=rng.randint(0, CRAWL_START_LATEST_S))
        folder = day.strftime("%Y-%m-%d")
        overflow, done = 0, 0
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
                yield self._fetch(rng, part, folder, query, page_no, at, form)
                if twins[done]:
                    trng = self.twin_rng
                    twin_at = at + timedelta(seconds=trng.randint(*TWIN_DELAY_S))
                    twin_form = trng.choice(TWIN_FORMS)
                    yield self._fetch(trng, part, folder, query, page_no, twin_at, twin_form, True)
                done += 1
            at += timedelta(seconds=rng.randint(*QUERY_GAP_S))
        if overflow:
            raise ValueError(f"{pages} pages on {folder} are more than every query holds")


class _Renderer:
    """Draws documents (from a generator seeded by the seed and the document id, so a
    document is the same whoever draws it, and when) and renders fetches into pages."""

    def __init__(self, seed: int, text_layout: str = DEFAULT_TEXT_LAYOUT.name) -> None:
        self.seed = seed
        self.text_layout = text_layout
        self.shown: OrderedDict[int, _Shown] = OrderedDict()

    def show(self, doc_id: int, uploaded: int) -> _Shown:
        shown = self.shown.get(doc_id)
        if shown is not None:
            self.shown.move_to_end(doc_id)
            return shown
        rng = random.Random(f"{self.seed}:{doc_id}")
        layout = _layout(rng)
        at = None if uploaded == NO_TIME else datetime.fromtimestamp(uploaded, UTC)
        # The HTML/JSON facts from a generator of their own.
        facts = _site_facts(random.Random(f"{self.seed}:{doc_id}:facts"), doc_id)
        doc = _document(rng, at, layout, facts)
        shown = _Shown(doc, layout, *_flattened(doc, layout))
        self.shown[doc_id] = shown
        if len(self.shown) > DOC_CACHE:
            self.shown.popitem(last=False)
        return shown

    def render(self, fetch: Fetch) -> Page:
        shown = [self.show(i, u) for i, u in zip(fetch.ids, fetch.uploaded, strict=True)]
        form, at = fetch.form, fetch.fetched_at
        last_page = -(-fetch.total // PER_PAGE)
        sidecar = {"url": _url(fetch.query, fetch.page_no, form),
                   "fetched_at": at.strftime("%Y-%m-%dT%H:%M:%SZ")}  # fmt: skip
        name = f"{SITE_HOST}-{fetch.query}-p{fetch.page_no}{SUFFIXES[form]}"

        def page(text: str, docs: tuple[Document, ...], layouts: tuple[str, ...] = ()) -> Page:
            return Page(fetch.part, fetch.day, name, text, sidecar, fetch.ids, docs, form,
                        fetch.twin, layouts)  # fmt: skip

        if form == "text":
            flat = fetch.flattened
            docs = tuple(s.flat_doc if flat else s.doc for s in shown)
            layouts = tuple(s.flat_layout if flat else s.layout for s in shown)
            text = render_page(
                docs,
                at,
                total_results=fetch.total,
                last_page=last_page,
                pager=pager_window(fetch.page_no, last_page),
                separator=" " if flat else "\n",
                title_layouts=list(layouts),
                show_age=list(fetch.show_age),
                layout=self.text_layout,
            )
            return page(text, docs, layouts)
        # A browser shows a description on one line, so HTML and JSON carry the flat one.
        # A slide deck's text repeats its title: the text form's second copy is the start of
        # the document's own description, which is what the site stores and serves.
        docs = tuple(
            replace(s.flat_doc, description=s.flat_doc.title + s.flat_doc.description)
            if s.layout == "repeated"
            else s.flat_doc
            for s in shown
        )
        page_rng = random.Random(f"{self.seed}:{fetch.query}:{fetch.page_no}:{at.isoformat()}")
        spend = f"{page_rng.uniform(*SEARCH_SECONDS):.3f}"
        if form == "json":
            # The API always has a creation time: a document without one (`刚刚` on the
            # other forms' pages) says it was created at this fetch.
            docs = tuple(replace(d, uploaded_at=at) if d.uploaded_at is None else d for d in docs)
            return page(render_json_page(docs, total_results=fetch.total, search_seconds=spend),
                        docs)  # fmt: skip
        text = render_html_page(
            docs,
            at,
            total_results=fetch.total,
            last_page=last_page,
            current_page=fetch.page_no,
            site_document_count=fetch.site_documents,
            search_seconds=spend,
            saved=form == "html-saved",
            show_age=list(fetch.show_age),
        )
        return page(text, docs)


def _url(query: str, page_no: int, form: str) -> str:
    """The URL a page of `form` was fetched from: the search page, or the search API."""
    if form == "json":
        return f"{SITE}{API_PATH}?wd={quote(query)}&page={page_no}&size={PER_PAGE}"
    return f"{SITE}/search?wd={quote(query)}&page={page_no}"


def pages_per_day(n_pages: int, days: int) -> list[int]:
    """`n_pages` spread evenly over `days` (the counts differ by at most one)."""
    return [(d + 1) * n_pages // days - d * n_pages // days for d in range(days)]


def default_twins(form: str) -> float:
    """The twin share a corpus of `form` has unless told: TWIN_SHARE for text, else none."""
    return TWIN_SHARE if form == "text" else 0.0


def fetches(
    n_listings: int,
    *,
    seed: int = 0,
    form: str = "text",
    days: int = CORPUS_DAYS,
    increment_days: int = INCREMENT_DAYS,
    increment_pages: int = INCREMENT_PAGES,
    twins: float | None = None,
) -> Iterator[Fetch]:
    """The simulation alone: every page fetch of `generate_corpus`, unrendered."""
    if n_listings <= 0 or n_listings % PER_PAGE:
        raise ValueError(f"n_listings must be a positive multiple of {PER_PAGE}, got {n_listings}")
    if form not in FORMS:
        raise ValueError(f"form must be one of {FORMS}, got {form!r}")
    twin_share = default_twins(form) if twins is None else twins
    if not 0 <= twin_share < 1 or (twin_share and form != "text"):
        raise ValueError(f"twins must be a share in [0, 1), of text pages only, got {twins!r}")
    n_pages = n_listings // PER_PAGE
    start = corpus_start(days)
    site = _Site(seed, queries_for(n_pages, days), start)
    schedule = [(CORPUS_DIR, d, count) for d, count in enumerate(pages_per_day(n_pages, days))]
    schedule += [(INCREMENTS_DIR, days + d, increment_pages) for d in range(increment_days)]
    for part, d, count in schedule:
        if count:
            day = start + timedelta(days=d)
            yield from site.crawl_day(part, day, count, form, twin_share)


def corpus_start(days: int) -> datetime:
    """The first fetch day of a corpus of `days` days: it ends the day before CORPUS_END."""
    return CORPUS_END - timedelta(days=days)


def generate_corpus(
    n_listings: int,
    *,
    seed: int = 0,
    form: str = "text",
    days: int = CORPUS_DAYS,
    increment_days: int = INCREMENT_DAYS,
    increment_pages: int = INCREMENT_PAGES,
    text_layout: str = DEFAULT_TEXT_LAYOUT.name,
    twins: float | None = None,
) -> Iterator[Page]:
    """Yield the pages of `n_listings` fetched over `days` days, then the increments.

    The corpus (`part` CORPUS_DIR) is `n_listings / 10` full pages on `days` consecutive UTC
    days ending the day before CORPUS_END (`corpus_start`), twins included; the increments
    (`part` INCREMENTS_DIR) are `increment_pages` pages on each of the `increment_days` days
    after it, from the same simulated site, so their documents recur too. Same arguments, same
    pages, byte for byte; the corpus does not depend on the increments' arguments. `form` (one
    of FORMS) changes only how the pages are rendered and named: every form of the same
    arguments and twins shows the same documents at the same fetch times. `twins` is the share
    of page fetches also saved as HTML or JSON (default: `default_twins(form)`). `text_layout`
    (one of `render.text.TEXT_LAYOUTS`) is the layout text pages are printed in.
    """
    renderer = _Renderer(seed, text_layout)
    for fetch in fetches(
        n_listings, seed=seed, form=form, days=days, increment_days=increment_days,
        increment_pages=increment_pages, twins=twins,
    ):  # fmt: skip
        yield renderer.render(fetch)


# --- writing, with what the corpus holds ---------------------------------------------------


@dataclass
class CorpusMix:
    """What a corpus holds (its `raw/` part): files and bytes by form, listings by title
    layout, distinct documents and those seen with an exact title or on a twin page."""

    files: dict[str, int] = field(default_factory=dict)  # by form
    bytes: dict[str, int] = field(default_factory=dict)  # page files, sidecars not counted
    listings: int = 0
    twin_files: int = 0
    text_layouts: dict[str, int] = field(default_factory=dict)  # text listings as printed
    documents: set[int] = field(default_factory=set)
    exact: set[int] = field(default_factory=set)  # an own-line, repeated, HTML or JSON title
    on_twins: set[int] = field(default_factory=set)

    def add(self, page: Page, size: int) -> None:
        if page.part != CORPUS_DIR:
            return
        self.files[page.form] = self.files.get(page.form, 0) + 1
        self.bytes[page.form] = self.bytes.get(page.form, 0) + size
        self.listings += len(page.doc_ids)
        self.documents.update(page.doc_ids)
        if page.twin:
            self.twin_files += 1
            self.on_twins.update(page.doc_ids)
        if page.form == "text":
            for doc_id, layout in zip(page.doc_ids, page.title_layouts, strict=True):
                self.text_layouts[layout] = self.text_layouts.get(layout, 0) + 1
                if layout != "glued":
                    self.exact.add(doc_id)
        else:
            self.exact.update(page.doc_ids)

    def merge(self, other: CorpusMix) -> None:
        for name in ("files", "bytes", "text_layouts"):
            mine = getattr(self, name)
            for key, value in getattr(other, name).items():
                mine[key] = mine.get(key, 0) + value
        self.listings += other.listings
        self.twin_files += other.twin_files
        self.documents |= other.documents
        self.exact |= other.exact
        self.on_twins |= other.on_twins

    def facts(self) -> dict[str, object]:
        """The figures, JSON-ready (what the dataset's marker keeps and the kit reports)."""
        text = sum(self.text_layouts.values())
        docs = len(self.documents)
        return {
            "files": dict(sorted(self.files.items())),
            "bytes": dict(sorted(self.bytes.items())),
            "listings": self.listings,
            "twin_files": self.twin_files,
            "text_listings": text,
            "own_line_share": round(self.text_layouts.get("own_line", 0) / text, 4) if text else 0,
            "repeated_share": round(self.text_layouts.get("repeated", 0) / text, 4) if text else 0,
            "documents": docs,
            "exact_title_documents": len(self.exact),
            "twin_documents": len(self.on_twins),
            "twin_document_share": round(len(self.on_twins) / docs, 4) if docs else 0,
        }


def _save(root: Path, page: Page, made: set[Path]) -> int:
    """Write one page and its sidecar under `root`; the page's bytes."""
    path = root / page.path
    if path.parent not in made:
        path.parent.mkdir(parents=True, exist_ok=True)
        made.add(path.parent)
    data = page.text.encode("utf-8")
    path.write_bytes(data)
    sidecar = json.dumps(page.sidecar, ensure_ascii=False) + "\n"
    path.with_name(path.name + SIDECAR_SUFFIX).write_bytes(sidecar.encode("utf-8"))
    return len(data)


_worker: tuple[_Renderer, Path] | None = None


def _start_worker(seed: int, text_layout: str, root: Path) -> None:
    global _worker
    _worker = (_Renderer(seed, text_layout), root)


def _write_chunk(chunk: list[Fetch]) -> tuple[list[str], CorpusMix]:
    """In a worker: render and write a chunk of fetches; their paths and what they hold."""
    assert _worker is not None
    renderer, root = _worker
    mix, made, paths = CorpusMix(), set[Path](), []
    for fetch in chunk:
        page = renderer.render(fetch)
        mix.add(page, _save(root, page, made))
        paths.append(page.path)
    return paths, mix


def _chunks(items: Iterable[Fetch], size: int) -> Iterator[list[Fetch]]:
    chunk: list[Fetch] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def default_workers(n_listings: int) -> int:
    """Processes to render on: every core for a large corpus, one for a small one."""
    return max(1, min(os.cpu_count() or 1, 8)) if n_listings >= 200_000 else 1


def write_corpus(
    root: Path,
    n_listings: int,
    seed: int = 0,
    form: str = "text",
    *,
    workers: int | None = None,
    mix: CorpusMix | None = None,
    text_layout: str = DEFAULT_TEXT_LAYOUT.name,
    **options: int | float | None,
) -> list[Path]:
    """Write the pages and sidecars under `root` (`raw/DAY/…`, `increments/DAY/…`).

    Returns the page files written (sidecars not included), in generation order; `mix`, if
    given, is filled with what the corpus holds. `options` go to `generate_corpus` (days,
    increment_days, increment_pages, twins). With `workers` > 1 (default:
    `default_workers`) the pages are rendered and written on that many processes, chunks of
    consecutive fetches each; the files are the same byte for byte.
    """
    workers = default_workers(n_listings) if workers is None else workers
    mix = CorpusMix() if mix is None else mix
    stream = fetches(n_listings, seed=seed, form=form, **options)  # type: ignore[arg-type]
    relative: list[str] = []
    if workers <= 1:
        _start_worker(seed, text_layout, root)
        for chunk in _chunks(stream, CHUNK_FETCHES):
            paths, part = _write_chunk(chunk)
            relative += paths
            mix.merge(part)
        return [root / path for path in relative]
    # Chunks go out in order and come back in order; at most a few per worker are in flight,
    # so the simulation runs ahead of the renderers by a bounded amount.
    with ProcessPoolExecutor(
        workers, initializer=_start_worker, initargs=(seed, text_layout, root)
    ) as pool:
        pending: deque[Future[tuple[list[str], CorpusMix]]] = deque()
        for chunk in _chunks(stream, CHUNK_FETCHES):
            pending.append(pool.submit(_write_chunk, chunk))
            while len(pending) >= 3 * workers:
                paths, part = pending.popleft().result()
                relative += paths
                mix.merge(part)
        while pending:
            paths, part = pending.popleft().result()
            relative += paths
            mix.merge(part)
    return [root / path for path in relative]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.generate",
        description=(
            "Write a seeded corpus of generated search-result pages with sidecars: "
            f"OUT/{CORPUS_DIR}/YYYY-MM-DD/… over --days days (HTML/JSON twins of some "
            f"pages beside them), then OUT/{INCREMENTS_DIR}/YYYY-MM-DD/… for the increments."
        ),
    )
    parser.add_argument("--listings", type=int, required=True, help="listings in the corpus")
    parser.add_argument("--out", type=Path, required=True, help="folder to write into")
    parser.add_argument("--seed", type=int, default=0, help="default: %(default)s")
    parser.add_argument(
        "--form", choices=FORMS, default="text", help="input form to write (default: %(default)s)"
    )
    span = parser.add_mutually_exclusive_group()
    span.add_argument("--days", type=int, default=CORPUS_DAYS, help="default: %(default)s")
    span.add_argument("--years", type=int, help="the same in years of 365 days: --years 10")
    parser.add_argument(
        "--twins",
        type=float,
        help=f"share of page fetches also saved as HTML or API JSON (default: {TWIN_SHARE} "
        "for text, 0 for the other forms)",
    )
    parser.add_argument(
        "--increment-days", type=int, default=INCREMENT_DAYS, help="default: %(default)s"
    )
    parser.add_argument(
        "--increment-pages", type=int, default=INCREMENT_PAGES, help="default: %(default)s"
    )
    parser.add_argument(
        "--workers", type=int, help="processes to render on (default: every core above 200k)"
    )
    args = parser.parse_args(argv)
    days = args.years * 365 if args.years else args.days
    start = time.perf_counter()
    mix = CorpusMix()
    paths = write_corpus(
        args.out,
        args.listings,
        seed=args.seed,
        form=args.form,
        workers=args.workers,
        mix=mix,
        days=days,
        increment_days=args.increment_days,
        increment_pages=args.increment_pages,
        twins=args.twins,
    )
    print(
        f"{args.listings:,} listings over {days} days and {args.increment_days} increments: "
        f"{len(paths):,} pages written to {args.out} in {time.perf_counter() - start:.1f} s"
    )
    json.dump(mix.facts(), sys.stdout, ensure_ascii=False)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
