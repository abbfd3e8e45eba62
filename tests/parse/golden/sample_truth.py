"""The truth each committed sample page in data/raw/ was rendered from.

Constants only. Golden tests parse the pages and compare what they find with these
documents: every title, description and price is exact; sizes are the point values of
the shown text (any byte count in the shown bounds renders the same), and upload times are
one point inside the interval the shown age allows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from render.fields import Document


@dataclass(frozen=True)
class SamplePage:
    """One sample page: its sidecar facts, its footer, and the listings in page order."""

    url: str
    fetched_at: datetime
    total_results: int
    last_page: int
    pager: Sequence[int] | None  # None: the page-1 pager (1..6 and the last page)
    separator: str
    documents: Sequence[Document]
    title_layouts: Sequence[str]
    show_age: Sequence[bool]


KUBERNETES_P1 = SamplePage(
    url="https://wenku.it/search?wd=kubernetes&page=1",
    fetched_at=datetime(2026, 11, 20, 9, 14, 37, tzinfo=UTC),
    total_results=487,
    last_page=49,
    pager=None,
    separator="\n",
    documents=(
        Document(
            title="Kubernetes 权威指南：从 Docker 到 Kubernetes 实践全接触",
            description=(
                "本书从一个开发者的角度去理解、分析和解决问题，囊括了 Kubernetes 入门、"
                "核心原理、实践指南、开发指导、高级案例、运维指南及源码分析等方面的内容。 "
                "第 1 章 Kubernetes 入门 1.1 Kubernetes 是什么 1.2 为什么要用 Kubernetes "
                "1.3 从一个简单的例子开始"
            ),
            price=0,
            credit="码力",
            pages=612,
            size_bytes=50614764,  # 48.27 MB
            uploaded_at=datetime(2025, 10, 16, 6, 14, 37, tzinfo=UTC),
            score=450,
        ),
        Document(
            title="Kubernetes 网络模型与 CNI 插件详解",
            description=(
                "Pod 之间如何通信？本文从 Linux 网络命名空间、veth pair 与网桥讲起，对比 "
                "Flannel、Calico、Cilium 三种 CNI 插件的数据路径与性能差异，"
                "并给出生产环境的选型建议。 Service 的 ClusterIP 由 kube-proxy 以 iptables "
                "或 IPVS 模式实现。"
            ),
            price=0,
            credit="码力",
            pages=46,
            size_bytes=3271557,  # 3.12 MB
            uploaded_at=datetime(2026, 5, 4, 7, 51, 17, tzinfo=UTC),
            score=300,
        ),
        Document(
            title="云原生时代的 Kubernetes 多集群管理",
            description=(
                "阿里云容器服务团队 多集群的挑战 • 集群数量增长带来的运维负担 • 跨地域容灾 "
                "• 应用分发与流量调度 Karmada 与 OCM 的设计对比 统一控制面 1/32"
            ),
            price=0,
            credit="码力",
            pages=32,
            size_bytes=6144655,  # 5.86 MB
            uploaded_at=datetime(2024, 9, 11, 2, 14, 37, tzinfo=UTC),
            score=300,
        ),
        Document(
            title="Helm Chart 开发最佳实践",
            description=(
                "模板函数与管道 values.yaml 的分层覆盖 _helpers.tpl 中的命名模板 依赖管理 "
                "Chart.lock 使用 helm lint 与 helm template 做本地校验，发布到 OCI 仓库。"
            ),
            price=0,
            credit="码力",
            pages=18,
            size_bytes=876964,  # 856.41 KB
            uploaded_at=datetime(2026, 11, 20, 9, 13, 55, tzinfo=UTC),
            score=300,
        ),
        Document(
            title="etcd 运维手册",
            description=(
                "etcd 是 Kubernetes 的唯一持久化存储。本手册涵盖集群搭建、成员变更、"
                "快照备份与恢复、碎片整理 defrag、配额告警 NOSPACE 的处理，以及 Raft "
                "日志压缩参数的调优经验。"
            ),
            price=0,
            credit="码力",
            pages=None,
            size_bytes=1268777,  # 1.21 MB
            uploaded_at=datetime(2026, 11, 17, 5, 14, 37, tzinfo=UTC),
            score=300,
        ),
        Document(
            title="Kubernetes in Action 中文版",
            description=(
                "第一部分 概述 第 1 章 Kubernetes 介绍 第 2 章 开始使用 Kubernetes 和 "
                "Docker 第二部分 核心概念 第 3 章 pod：运行于 Kubernetes 中的容器 第 4 章 "
                "副本机制和其他控制器：部署托管的 pod"
            ),
            price=0,
            credit="码力",
            pages=628,
            size_bytes=1148903752,  # 1.07 GB
            uploaded_at=datetime(2026, 2, 12, 22, 14, 37, tzinfo=UTC),
            score=500,
        ),
        Document(
            title="Operator 模式开发指南 - 基于 kubebuilder",
            description=(
                "CRD 定义、Reconcile 循环、OwnerReference 与垃圾回收、Finalizer "
                "的正确用法、Status 子资源更新冲突的处理、envtest 集成测试。"
            ),
            price=0,
            credit="码力",
            pages=24,
            size_bytes=2548040,  # 2.43 MB
            uploaded_at=datetime(2026, 11, 8, 9, 4, 37, tzinfo=UTC),
            score=400,
        ),
        Document(
            title="K8s 调度器源码剖析",
            description=(
                "kube-scheduler 的调度框架 Scheduling Framework：PreFilter、Filter、Score、"
                "Reserve、Permit、Bind 各扩展点；调度队列 activeQ 与 backoffQ；抢占流程与 "
                "nominatedNodeName。"
            ),
            price=0,
            credit="码力",
            pages=67,
            size_bytes=8325693,  # 7.94 MB
            uploaded_at=datetime(2026, 11, 20, 8, 27, 22, tzinfo=UTC),
            score=350,
        ),
        Document(
            title="Istio 服务网格入门与实战",
            description=(
                "Sidecar 注入原理 Envoy xDS 协议 VirtualService 与 DestinationRule "
                "流量治理 mTLS 双向认证 可观测性：Prometheus、Jaeger、Kiali 灰度发布实践"
            ),
            price=0,
            credit="码力",
            pages=233,
            size_bytes=22544384,  # 21.50 MB
            uploaded_at=datetime(2025, 12, 15, 9, 14, 37, tzinfo=UTC),
            score=300,
        ),
        Document(
            title="Kubernetes 生产环境故障排查案例集",
            description=(
                "案例一 节点 NotReady：kubelet 与 containerd 的 PLEG 超时 案例二 DNS "
                "解析偶发 5 秒延迟：conntrack 竞争 案例三 OOMKilled 与 cgroup v2 "
                "内存统计差异"
            ),
            price=0,
            credit="码力",
            pages=88,
            size_bytes=4215276,  # 4.02 MB
            uploaded_at=datetime(2026, 10, 6, 9, 14, 37, tzinfo=UTC),
            score=425,
        ),
    ),
    title_layouts=(
        "own_line",
        "glued",
        "repeated",
        "glued",
        "glued",
        "glued",
        "glued",
        "glued",
        "glued",
        "glued",
    ),
    show_age=(True, True, True, True, True, True, True, True, True, True),
)

DATABASE_P2 = SamplePage(
    url="https://wenku.it/search?wd=%E6%95%B0%E6%8D%AE%E5%BA%93&page=2",
    fetched_at=datetime(2026, 11, 21, 14, 2, 9, tzinfo=UTC),
    total_results=18,
    last_page=2,
    pager=None,
    separator=" ",
    documents=(
        Document(
            title="MySQL 8.0 InnoDB 存储引擎原理",
            description=(
                "表空间、段、区、页的组织方式 B+ 树索引 Change Buffer 与自适应哈希索引 "
                "redo log 与 binlog 的两阶段提交 MVCC 与 Read View 的可见性判断"
            ),
            price=0,
            credit="码力",
            pages=156,
            size_bytes=7067402,  # 6.74 MB
            uploaded_at=datetime(2026, 7, 14, 14, 2, 9, tzinfo=UTC),
            score=300,
        ),
        Document(
            title="PostgreSQL 14 内核揭秘",
            description=(
                "堆表与 TOAST 机制 WAL 与检查点 VACUUM 与事务号回卷 查询优化器的代价模型 "
                "并行查询与 JIT 编译 逻辑复制与发布订阅"
            ),
            price=0,
            credit="码力",
            pages=402,
            size_bytes=19251855,  # 18.36 MB
            uploaded_at=datetime(2025, 7, 9, 14, 2, 9, tzinfo=UTC),
            score=450,
        ),
        Document(
            title="分布式数据库 TiDB 架构与实践",
            description=(
                "PingCAP 技术分享 TiDB Server 无状态 SQL 层 PD 调度与 TSO 授时 TiKV 基于 "
                "Raft 的多副本 Region 分裂与合并 TiFlash 列存实现 HTAP"
            ),
            price=0,
            credit="码力",
            pages=41,
            size_bytes=10359931,  # 9.88 MB
            uploaded_at=datetime(2026, 4, 20, 14, 2, 9, tzinfo=UTC),
            score=300,
        ),
        Document(
            title="Redis 设计与实现",
            description=(
                "简单动态字符串 SDS 链表 字典与渐进式 rehash 跳跃表 整数集合 压缩列表 RDB "
                "与 AOF 持久化 复制、Sentinel 与集群的实现原理"
            ),
            price=0,
            credit="码力",
            pages=218,
            size_bytes=3460301,  # 3.30 MB
            uploaded_at=datetime(2026, 8, 23, 14, 2, 9, tzinfo=UTC),
            score=400,
        ),
        Document(
            title="ClickHouse 在实时数仓中的应用",
            description=(
                "MergeTree 引擎家族 物化视图与 Kafka 表引擎实现实时写入 分布式表与副本 "
                "字节跳动、快手的落地经验 QCon 北京 2021"
            ),
            price=0,
            credit="码力",
            pages=28,
            size_bytes=2170552,  # 2.07 MB
            uploaded_at=datetime(2026, 11, 13, 13, 2, 9, tzinfo=UTC),
            score=300,
        ),
        Document(
            title="数据库索引优化 50 讲",
            description=(
                "最左前缀原则 覆盖索引与回表 索引下推 ICP 联合索引的列顺序 慢查询日志与 "
                "EXPLAIN 执行计划解读 常见的索引失效场景"
            ),
            price=0,
            credit="码力",
            pages=95,
            size_bytes=1530921,  # 1.46 MB
            uploaded_at=datetime(2026, 9, 12, 14, 2, 9, tzinfo=UTC),
            score=350,
        ),
        Document(
            title="MongoDB 权威指南 第3版",
            description=(
                "文档模型与集合 CRUD 操作 索引与查询优化 聚合框架 副本集 "
                "分片集群的均衡器与 chunk 迁移 WiredTiger 存储引擎"
            ),
            price=0,
            credit="码力",
            pages=512,
            size_bytes=29265756,  # 27.91 MB
            uploaded_at=datetime(2023, 11, 17, 14, 2, 9, tzinfo=UTC),
            score=300,
        ),
        Document(
            title="OceanBase 分布式事务详解",
            description=(
                "两阶段提交的优化 Paxos 日志同步 全局时间戳服务 GTS 事务隔离级别与快照读 "
                "LSM-Tree 存储与转储、合并"
            ),
            price=0,
            credit="码力",
            pages=37,
            size_bytes=618680,  # 604.18 KB
            uploaded_at=datetime(2026, 11, 20, 18, 42, 9, tzinfo=UTC),
            score=300,
        ),
    ),
    title_layouts=(
        "glued",
        "glued",
        "repeated",
        "glued",
        "glued",
        "glued",
        "glued",
        "glued",
    ),
    show_age=(True, True, True, False, True, True, True, True),
)

MOREDOC_GOLANG_P1 = SamplePage(
    url="https://moredoc.example.org/search?wd=golang&page=1",
    fetched_at=datetime(2026, 11, 22, 3, 45, 0, tzinfo=UTC),
    total_results=5,
    last_page=1,
    pager=None,
    separator="\n",
    documents=(
        Document(
            title="Go 语言圣经（中文版）",
            description=(
                "Go 语言由来自 Google 的 Robert Griesemer、Rob Pike 和 Ken Thompson 设计。"
                "本书从 Hello, World 开始，依次介绍程序结构、基础数据类型、复合数据类型、"
                "函数、方法、接口、Goroutines 和 Channels、基于共享变量的并发、包和工具、"
                "测试、反射与底层编程。"
            ),
            price=0,
            credit="魔豆",
            pages=380,
            size_bytes=5578424,  # 5.32 MB
            uploaded_at=datetime(2025, 9, 28, 3, 45, 0, tzinfo=UTC),
            score=500,
        ),
        Document(
            title="Go 并发编程实战",
            description=(
                "goroutine 调度模型 GMP channel 的底层实现 sync 包：Mutex、RWMutex、"
                "WaitGroup、Once、Cond、Pool context 的取消传播 原子操作与内存模型"
            ),
            price=5,
            credit="魔豆",
            pages=256,
            size_bytes=12635341,  # 12.05 MB
            uploaded_at=datetime(2026, 6, 15, 3, 45, 0, tzinfo=UTC),
            score=400,
        ),
        Document(
            title="golang 面试题汇总",
            description=(
                "slice 扩容规则 map 并发读写为什么会 panic defer 的执行顺序 interface 的 "
                "nil 判断 逃逸分析 GC 三色标记与写屏障"
            ),
            price=0,
            credit="魔豆",
            pages=None,
            size_bytes=0,  # 0 Bytes
            uploaded_at=datetime(2026, 11, 20, 1, 45, 0, tzinfo=UTC),
            score=300,
        ),
        Document(
            title="Go Web 编程",
            description=(
                "net/http 包的 Handler 与 ServeMux 模板引擎 html/template 表单与文件上传 "
                "Cookie 与 Session 数据库 database/sql RESTful API 设计"
            ),
            price=0,
            credit="魔豆",
            pages=143,
            size_bytes=3019899,  # 2.88 MB
            uploaded_at=datetime(2026, 11, 22, 3, 18, 55, tzinfo=UTC),
            score=300,
        ),
        Document(
            title="深入理解 Go 运行时调度",
            description=(
                "runtime.schedule 主循环 work stealing 系统调用与 handoff 网络轮询器 "
                "netpoller 抢占式调度：协作抢占与基于信号的异步抢占"
            ),
            price=0,
            credit="魔豆",
            pages=62,
            size_bytes=2086666,  # 1.99 MB
            uploaded_at=datetime(2026, 1, 16, 3, 45, 0, tzinfo=UTC),
            score=350,
        ),
    ),
    title_layouts=(
        "own_line",
        "glued",
        "glued",
        "glued",
        "glued",
    ),
    show_age=(True, True, True, True, True),
)

# File name in data/raw/ -> its truth.
PAGES: dict[str, SamplePage] = {
    "wenku-kubernetes-p1.txt": KUBERNETES_P1,
    "wenku-数据库-p2.txt": DATABASE_P2,
    "moredoc-demo-p1.txt": MOREDOC_GOLANG_P1,
}
