"""Seeded batches of realistic search-result pages, rendered by the site's own rules.

`python -m benchmarks.generate --listings 100000 --out DIR [--seed S]` writes page files
plus `.meta.json` sidecars. The benchmark and the parser's scale tests use it; it calls
`pipeline.render` (the same functions the property tests trust) so a generated page is
exactly what the site would have shown for that truth. No hypothesis here: a benchmark
wants a fast, reproducible, *typical* mix, not adversarial shrinking.

The mix (all rates approximate, chosen to resemble wenku.it): sizes log-uniform from
1 KB to 2 GB; upload ages log-uniform from seconds to ~6 years; descriptions of a few
hundred characters mixing CJK and ASCII; ~30% of titles on their own line, ~10%
repeated (slides), the rest glued; ~15% of descriptions end in digits (ambiguous glued
prices); ~5% of page counts `-`; ~3% of listings without the age block; ~20% of pages
flattened further (a space between listings instead of a line break); prices mostly 0.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from pipeline.render import Document, ambiguities, pager_window, render_page

SITE = "https://wenku.it"
CREDIT = "码力"
SIDECAR_SUFFIX = ".meta.json"
START = datetime(2026, 11, 1, tzinfo=UTC)

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


def _document(rng: random.Random, fetched_at: datetime, layout: str) -> Document:
    """A document that renders unambiguously with `layout` (re-drawn until it does)."""
    while True:
        uploaded_at = (
            None
            if rng.random() < 0.01
            else fetched_at - timedelta(seconds=_log_uniform(rng, 1, MAX_AGE_SECONDS))
        )
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
        if not ambiguities(doc, layout):
            return doc


def _layout(rng: random.Random, flattened: bool) -> str:
    # Text flattened further has lost its line breaks, so no title stands on its own line
    # there; own-line titles are made more common elsewhere to keep ~30% overall.
    r = rng.random()
    if r < 0.1:
        return "repeated"
    if not flattened and r < 0.1 + 0.375:
        return "own_line"
    return "glued"


def generate_pages(
    n_listings: int, *, seed: int = 0, per_page: int = 10
) -> Iterator[tuple[str, str, dict[str, str]]]:
    """Yield (file_name, page_text, sidecar) for pages holding `n_listings` in total.

    Same seed, same pages, byte for byte. Every page but possibly the last holds
    `per_page` listings; a short final page is the query's last page, and each footer's
    total and pager agree with its page number.
    """
    rng = random.Random(seed)
    fetched_at = START
    remaining, index = n_listings, 0
    while remaining > 0:
        count = min(per_page, remaining)
        remaining -= count
        fetched_at += timedelta(seconds=rng.randint(1, 90))
        query = rng.choice(QUERIES)
        last_page = rng.randint(1, 60)
        page_no = last_page if count < per_page else rng.randint(1, last_page)
        on_last = page_no == last_page
        total = (last_page - 1) * per_page + (count if on_last else rng.randint(1, per_page))
        flattened = rng.random() < 0.2
        layouts = [_layout(rng, flattened) for _ in range(count)]
        docs = [_document(rng, fetched_at, layout) for layout in layouts]
        show_age = [rng.random() >= 0.03 for _ in range(count)]
        text = render_page(
            docs,
            fetched_at,
            total_results=total,
            last_page=last_page,
            pager=pager_window(page_no, last_page),
            separator=" " if flattened else "\n",
            title_layouts=layouts,
            show_age=show_age,
        )
        sidecar = {
            "url": f"{SITE}/search?wd={quote(query)}&page={page_no}",
            "fetched_at": fetched_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        yield f"wenku-gen-s{seed}-{index:06d}.txt", text, sidecar
        index += 1


def write_batch(out_dir: Path, n_listings: int, seed: int = 0) -> list[Path]:
    """Write the pages and their sidecars into `out_dir`; return every path written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, text, sidecar in generate_pages(n_listings, seed=seed):
        page = out_dir / name
        page.write_text(text, encoding="utf-8", newline="")
        meta = out_dir / (name + SIDECAR_SUFFIX)
        meta.write_text(json.dumps(sidecar, ensure_ascii=False) + "\n", encoding="utf-8")
        written += [page, meta]
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.generate",
        description="Write a seeded batch of generated search-result pages with sidecars.",
    )
    parser.add_argument("--listings", type=int, required=True, help="listings in total")
    parser.add_argument("--out", type=Path, required=True, help="folder to write into")
    parser.add_argument("--seed", type=int, default=0, help="default: %(default)s")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    paths = write_batch(args.out, args.listings, seed=args.seed)
    pages = len(paths) // 2
    print(
        f"{args.listings:,} listings in {pages:,} pages written to {args.out} "
        f"in {time.perf_counter() - start:.1f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
