"""The truth behind the committed sample page and its HTML and JSON fixtures.

`data/raw/wenku-search-page.txt` is a real wenku.it results page in the flattened-text form:
10 listings and the footer `共 145 条`. The text form does not carry everything the site
stores, so this module states, by hand, one truth that the page is consistent with. The
pages `data/raw/wenku-search-page.html` and `.json`, and the browser-saved
`tests/parse/fixtures/wenku-search-page.saved.html`, were written from these values, so a
parser of any form can be checked against one truth.

How the values were chosen (section numbers are docs/input-format.md):

- Title and description (§1.1): the text form's `heading` of a listing is exactly
  `title + "\\n" + description` for listings 1 and 8, whose titles stand on their own line,
  and `title + description` for the other eight. Listing 3's text repeats the title, so its
  description starts with the title again. For the seven glued listings (2, 4–7, 9, 10) the
  text shows no boundary; the title is the document's natural title at the start of the
  heading, and the description is the rest, character for character (listing 6's colon is
  the ASCII `:` the text has; listings 2 and 3 hold `|` in their descriptions). No title or
  description has whitespace at either end, and no description holds a line break or a run
  of spaces, so the HTML form's whitespace collapsing changes none of them.
- Price (§1.2): 0 for all ten. Listing 3's description ends `10/20`; its `0` and the price
  read `10/200 码力` in the text.
- Size (§1.3): an exact byte count inside the bounds the shown text allows. Most differ from
  the text's point value (shown value × 1024^i), so a test must use the bounds, not the
  point: listing 3 is the point itself, and listing 10 (`619.32 KB`, bounds 634 179–634 188)
  sits on the upper bound.
- Upload time (§1.4): a whole-second UTC time inside the interval the age text allows at
  FETCHED_AT (`9 月前`: 2026-01-24 09:30:01 to 2026-02-23 09:30:00; `6 月前`: 2026-04-24
  09:30:01 to 2026-05-24 09:30:00). Listing 5 sits on the lower bound and listing 9 on the
  upper one, so both ends of the inclusive interval are exercised.
- Score (§1.5): 300 where the page shows `3`, and 3 for listing 8's `0.03`.
- Pages (§1.6): as the text shows. Document ids rise with the upload time, as the site's
  auto-increment ids do. Extensions are mostly `.pdf`; listing 3 (slides) is `.pptx` and
  listing 10 (a design document) `.docx`, with the file family of
  `pipeline.vocab.FILE_FAMILY_OF_EXT`.
- Keywords and counts are not on the text form at all; they are plausible values. Some
  counts are zero on purpose, since the JSON form omits fields at their zero value (§3.2):
  listing 10 has no count at all.

Constants only, stdlib only: nothing here may depend on the code it checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class SampleDocument:
    """One document of the sample page, as the site stores it."""

    document_id: int
    title: str
    description: str
    ext: str  # with its dot: ".pdf"
    file_family: str  # the icon family of `ext` (docs/input-format.md §3.1)
    price: int
    pages: int | None
    size_bytes: int  # exact; the page shows it rounded (§1.3)
    created_at: datetime  # upload time, UTC, whole seconds; the page shows its age (§1.4)
    score: int  # raw score; the page shows score / 100 (§1.5)
    keywords: str  # comma-separated
    view_count: int
    download_count: int
    favorite_count: int
    comment_count: int


# The sidecar of data/raw/wenku-search-page.txt.
URL = "https://wenku.it/search?wd=%E4%BA%91%E5%8E%9F%E7%94%9F&page=1"
QUERY = "云原生"
FETCHED_AT = datetime(2026, 11, 20, 9, 30, 0, tzinfo=UTC)
# The search API's URL for the same page (the JSON fixture's sidecar).
API_URL = "https://wenku.it/api/v1/document/search?wd=%E4%BA%91%E5%8E%9F%E7%94%9F&page=1&size=10"
CREDIT = "码力"

# Page-level facts: the footer (`共 145 条`, pager up to `- 15`) and the HTML search tips.
TOTAL_RESULTS = 145
LAST_PAGE = 15
PAGER = (1, 2, 3, 4, 5, 6, 15)
SITE_DOCUMENT_COUNT = 1_236_587  # documents on the whole site (not on the text form)
SEARCH_SECONDS = "0.012"  # the API's `spend`, as text (not on the text form)

DOCUMENTS: tuple[SampleDocument, ...] = (
    # 1. title on its own line
    SampleDocument(
        document_id=21853,
        title="Nacos架构&原理",
        description=(
            "此简单需求,随着业务规模变大也会变的非常复杂。如何能将数据准确的在 3 "
            "秒钟之内推送到每⼀ 个计算节点,这是当时提出的⼀个要求,围绕这个要求,系统要做大量"
            "的研发和改造,类似的这种 关键的技术挑战点还非常非常的多。本书就是将面对复杂的分"
            "布式计算场景,海量并发的业务场景, 对软负载⼀个系统的进行阐述,通过 Nacos "
            "开源分享阿里软负载最佳实践,希望能够帮助到各位开 发者,各位系统架构师,少走弯路。"
            " 阿里巴巴云原生应用平台负责人 性,可观测性等分布式系统指标影 "
            "响整个分布式系统的运行。历史上,这个系统在阿里也触发过大故障,经历过数次血与火的"
            "考验。 在阿里数次架构升级中,Nacos 都做了大量的功能迭代,用来支持阿里的异地多活,"
            "容灾演练,容 器化,Serverless 化。Nacos 经过阿里内部锤炼十年以上,各项指标已经及"
            "其先进,稳定,为服务 好全球开发者,Nacos 经过数十名工程师持续努力,以开源形式和大"
            "家见面,相信 寻址、广播等多种寻址模式,需要可 扩展。 推送通道:解决 Server "
            "与存储、Server 间、Server 与 SDK 间高效通信问题。 "
            "容量管理:管理每个租户,分组下的容量,防止存储被写爆,影响服务可用性。 "
            "流量管理:按照租户,分组等多个维度对请求频率,长链接个数,报文大小,请求流控进行控"
            "制。 缓存机制:容灾目录,本地缓存,Server 缓存机制,是 Nacos 高可用的关键。"
        ),
        ext=".pdf",
        file_family="pdf",
        price=0,
        pages=326,
        size_bytes=13450517,
        created_at=datetime(2026, 2, 9, 7, 42, 18, tzinfo=UTC),
        score=300,
        keywords="Nacos,服务发现,配置中心,微服务,阿里巴巴",
        view_count=2316,
        download_count=187,
        favorite_count=24,
        comment_count=3,
    ),
    # 2. title glued to the description
    SampleDocument(
        document_id=31230,
        title="24-云原生中间件之道-高磊",
        description=(
            "调 上 线 前 解 决 一 切 问 题 , 某 一 环 节 堵 塞 影 响 全 局 D e v O p s 效 "
            "率 。 依 赖 于 人 员 个 人 经 验 来 先 验 的 进 行 实 施 , 而 很 多 入 侵 风 "
            "险 是 不 可 预 知 的 ! 标准化能力-承载无忧-E2E云原生纵深安全保障-3-与传统安全"
            "方案的差 异 安全问题左移一个研发阶段,修复成本就将 "
            "提升十倍,所以将安全自动化检查和问题发 自动调整、拓展能 力强,满足更大吞 吐量 "
            "存储自动扩缩容 手工填加机器, 手工同步 完全自动化 高性能 存在性能瓶颈 "
            "类似日志方式的顺 序写,性能高 易用程度 封闭体系,集成各 类优秀能力较差 "
            "集成能力强,多模 态接口,兼容各类 协议 可用性、稳定性 需要强大的旁路运 维能力 "
            "简化运维、自动化 容量和故障转移 云原生数据库其特点,使得应用场 景会更加广泛 "
            "高级能力-云原生数据库-应用的基石-2-技术架构 等等都需要同时满足(和传统CAP相悖) "
            "• 接入层需要能够根据规则的路由,以及兼容各类协议接 "
            "口以及数据模型,并能根据应用的规模来自动拓展。 • 实现HTAP(OLTP+OLAP),将在线事务"
            "|分析混合计算模型 基础上,实现多模数据模型,使得集成成本经一步降低。 • "
            "计算层,与存储彻底剥离开来,实际是微服务化架构, 可以自由伸缩,并自动故障转移,采用"
            "读写分离,适应 高负荷的场景。另外也需要进一步将计算和内存分离出 来,使得"
        ),
        ext=".pdf",
        file_family="pdf",
        price=0,
        pages=22,
        size_bytes=4605812,
        created_at=datetime(2026, 5, 11, 2, 26, 49, tzinfo=UTC),
        score=300,
        keywords="云原生,中间件,DevOps,安全",
        view_count=845,
        download_count=41,
        favorite_count=6,
        comment_count=0,
    ),
    # 3. title repeated by the text
    SampleDocument(
        document_id=31702,
        title="金融级云原生 PaaS 探索与实践",
        description=(
            "金融级云原生 PaaS 探索与实践 王成昌(晙曦)蚂蚁金服技术专家2/20 一、业务背景 "
            "二、多集群管控 三、发布运维体系 目 录 contents 目录3/20 一、业务背景 "
            "业务背景4/20 业务背景 业务架构 演进 • 容量 应用|数据库|机房 • 容灾 "
            "机房|地域5/20 业务背景 业务架构 单元化 • 高可用 • 一致性 • 可扩展 • "
            "业务可复制 业务敏捷 SaaS 面向站点级别输出7/20 PaaS 能力 • 面向多租户多环境; • "
            "基础资源管控; • 应用发布运维体系; • 业务实时监控,日志收集; • "
            "机房级和地域级容灾能力; 业务背景业务背景 CAFÉ API Server Aggregation Layer "
            "异地多活架构 同城双活架构 K8S API Server 基础发布运维 跨集群应用 资源管理 "
            "跨集群发布策略 多集群管理 跨集群网络 跨集群镜像管理 蓝绿发布 灰度分组发布 "
            "中间件变配 (DRM/Scheduler/Message) Mesh流调拨和治理 弹性建站/下站 "
            "容器腾挪/迁移 容灾切换和恢复 应急预案管理 … 分钟级容灾切换和恢复 "
            "全面变更风险管理 无限弹性可扩展 业务架构 产品层 云原生 PaaS 产品架构方案 "
            "7/209/20 二、多集群管控 多集群管控10/20"
        ),
        ext=".pptx",
        file_family="ppt",
        price=0,
        pages=20,
        size_bytes=1793065,
        created_at=datetime(2026, 5, 19, 8, 3, 12, tzinfo=UTC),
        score=300,
        keywords="金融级,云原生,PaaS,多集群,蚂蚁金服",
        view_count=512,
        download_count=0,
        favorite_count=0,
        comment_count=0,
    ),
    # 4. title glued to the description
    SampleDocument(
        document_id=19206,
        title="sealos 以 kubernetes 为内核的云操作系统",
        description=(
            "容器管理、编排调度、资源隔离 驱动层实现资源抽象 自由切换,到处运行 Sealos API "
            "Sealos CLI Desktop 裸金属 AWS 阿里云 更多······ boot 集群镜像 租户管理 "
            "应用管理 函数计算 消息队列 数据库 缓存 计算驱动 网络驱动 存储驱动 自由组装 "
            "内聚解耦 化整为零 大道至简 sealos 的能力 • 10 秒上线一个自带域名和 https "
            "mysql/pgsql/mongo/redis 数据 库 • 写代码像写博客一样简单 • AI "
            "自动编码,毫秒级上线,0 运 维 数据库管理 mysql/pgsql/mongo/ redis 等多种数据库 "
            "数据库多主架构高 可用 数据库备份恢复, 故障自愈 数据库管理工具, 监控告警 "
            "Userlnterface API/CLI/GUI Cilium Gvisor/Containerd OpenEBS LVM 计算 储存 网络 "
            "kubernetes SaaS服务 30min 1人 一键打包 整体交付 一次建构 到处运行 使用sealos "
            "技术实现 行业 痛点 在公网不可信的环境中提供多 租户共享一个kubernetes集群 "
            "的能力, ,如etcd存储, k8s apiserver,对象存储,数 据库等 技术 方案 优势 利用 "
            "等技术可做到计算安 全隔离,存储隔离且获得本地"
        ),
        ext=".pdf",
        file_family="pdf",
        price=0,
        pages=29,
        size_bytes=8009241,
        created_at=datetime(2026, 1, 31, 13, 5, 56, tzinfo=UTC),
        score=300,
        keywords="sealos,kubernetes,云操作系统",
        view_count=1204,
        download_count=96,
        favorite_count=11,
        comment_count=1,
    ),
    # 5. title glued to the description
    SampleDocument(
        document_id=30188,
        title="深入 Kubernetes 的无人区-蚂蚁金服双十一的调度系统",
        description=(
            "高可用容灾 可视化 服务 Cluster Control Panel 在线应用 计算型混部任务 CSI CNI "
            "Device Plugin runc nanovisor 日志服务 云盘 本地多盘 弹性网卡 网络安全组 GPU "
            "安全可信 数据库服务 OB serverless 平台 kata SOFAMesh 资源分时复用 神龙裸金属 "
            "VPC 云存储 应用服务器 数据库服务器 国产化服务器7/19 弹性资源建站 Part "
            "2:双十一 Kubernetes 实践16/19 三、展望未来,迎接挑战 Part 2:17/19 平台与多租户 "
            "Part 3:展望未来,迎接挑战 Kubernetes设计的多租户 实际Kubernetes集群里的多租户18"
            "/19 自动化运维 – 技术风险 Part 3:展望未来,迎接挑战"
        ),
        ext=".pdf",
        file_family="pdf",
        price=0,
        pages=19,
        size_bytes=2287760,
        created_at=datetime(2026, 4, 24, 9, 30, 1, tzinfo=UTC),
        score=300,
        keywords="Kubernetes,调度系统,双十一,蚂蚁金服",
        view_count=388,
        download_count=12,
        favorite_count=0,
        comment_count=0,
    ),
    # 6. title glued to the description
    SampleDocument(
        document_id=30906,
        title="Service Mesh是下一代SDN吗:从通信角度看Service Mesh的发展",
        description=(
            "Gateway:应用网关逻辑 • 使用不同端口为不同租户提供访问入口 • "
            "租户间的隔离和访问控制 • 用户层面的访问控制 • 按用户的API访问限流 • "
            "API访问日志和计费 Service Mesh:统一的微服务通信管理 • 服务发现 • 负载均衡 • "
            "重试,断路器 • 故障注入 • 分布式调用跟踪 • Metrics "
            "收集产品化增强-支持多网络平面 电信系统一般会有多个网络平面的,主要原因包括:避免"
            "不同功能的网络之间的 为不同的网络提供不同的 SLA "
            ";通过网络隔离提高安全性;通过叠加多个网络增加系统带宽 上图中的Kubernets集群使用"
            "了Knitter网络插件,部署了四个网络平面产品化增强-支持多网络平面 "
            "Istio1.0中不支持多网络平面,当服务地址和Envoy地址分别位于两个网络上时,会导致转"
            "发请求时 发生死循环,导致socket耗尽,Envoy不停重启。 Pilot Service Registry "
            "this Node This is an outbound request, it should be send out to "
            "10.75.8.101产品化增强-支持多网络平面 我们对Istio的代码进行了改造,增加了多网络"
            "平面支持。 Pilot Service Registry Envoy Service A Register service (IP "
            ":10.75.8.101)"
        ),
        ext=".pdf",
        file_family="pdf",
        price=0,
        pages=27,
        size_bytes=12571903,
        created_at=datetime(2026, 5, 6, 11, 48, 27, tzinfo=UTC),
        score=300,
        keywords="Service Mesh,SDN,Istio,Envoy",
        view_count=430,
        download_count=27,
        favorite_count=2,
        comment_count=0,
    ),
    # 7. title glued to the description
    SampleDocument(
        document_id=30907,
        title="网易云Service Mesh的产品架构与实现",
        description=(
            "术大会,Segmentfault 开发者大会,InfoQ全球架构师峰会(明星讲师),CSDN SDCC大 "
            "会,51CTO WOTA大会等 • 知名技术博主,博客可搜索popsuper1982,多篇文章推荐至全 "
            "球最大IT社区CSDN首页及《程序员》杂志 • 在工作中积累了大量运营商系统,互联网金融"
            "系统,电商系统等 容器化和微服务化经验01 目录 02 03 微服务与Docker、Kubernetes "
            "en-spencer/ Kaola163yun.com 开发独立: "
            "代码耦合度比较高,修改代码通常会对多个模块产生影响,操控难度大,风险高 上线独立: "
            "单次上线需求列表多,上线时间长,影响面大 简化扩容: "
            "由于业务多,每一次扩容需要增加的配置比较杂。一些不起眼的小业务虽然不是扩容的主"
            "要目 的,也需要慎重考虑 容灾降级:核心业务与非核心业务耦合,在关键时候互相影响 "
            "微服务拆分微服务架构要点 发现容易搞定,治理难搞定 • 发现不易替换,治理易替换 • "
            "解耦容器平台与微服务 • 解耦服务发现与服务治理163yun.com 设计思路 Agent热加载 "
            "兼容SpringCloud,Dubbo框架 控制面租户隔离 适配VPC网络 同IaaS或者Kubernetes解耦 "
            "Restful API 高可用 横向扩展 可视化163yun.com 网易微服务框架www.163yun.com "
            "网易微服务框架www"
        ),
        ext=".pdf",
        file_family="pdf",
        price=0,
        pages=35,
        size_bytes=6640035,
        created_at=datetime(2026, 5, 6, 11, 51, 3, tzinfo=UTC),
        score=300,
        keywords="Service Mesh,网易云,微服务,产品架构",
        view_count=297,
        download_count=0,
        favorite_count=1,
        comment_count=0,
    ),
    # 8. title on its own line
    SampleDocument(
        document_id=30415,
        title="Apache Pulsar,云原生时代的消息平台 - 翟佳",
        description=(
            "streamnative.io Apache Pulsar 要解决的问题 • 企业需求和数据规模 • 多租户 - "
            "百万Topics - 低延时 - 持久化 - 跨地域复制 • 解除存储计算耦合 • "
            "运维痛点:替换机器、服务扩容、数据 rebalance • 减少⽂件系统依赖 • 性能难保障: "
            "持久化(fsync)、⼀致性(ack: all)、多Topic • IO不隔离:消费者读Backlog的时候会影"
            "响其他⽣产者和消费者 Apache Pulsar 特性 • 云原⽣架构: • 存储计算分离 • 分层 + "
            "分⽚ • ⾼性能 + 强⼀致性 • ⽀持统⼀的 Queue 和 Stream 的接⼝。 • "
            "丰富的企业级特性 • 多租户隔离 — 百万Topics — 跨地域复制 — 鉴权认证 • Pulsar "
            "的根本不同 • Apache Pulsar 简介 • Pulsar 的⽣态和社区 • Pulsar 的根本不同"
        ),
        ext=".pdf",
        file_family="pdf",
        price=0,
        pages=39,
        size_bytes=13324698,
        created_at=datetime(2026, 4, 29, 15, 20, 44, tzinfo=UTC),
        score=3,
        keywords="Apache Pulsar,消息平台,StreamNative",
        view_count=673,
        download_count=58,
        favorite_count=9,
        comment_count=2,
    ),
    # 9. title glued to the description
    SampleDocument(
        document_id=31966,
        title="09-harbor助你玩转云原生-邹佳",
        description=(
            "steven-zou >> Slack: steven zou 目录 - 开场:云原生与制品管理 - "
            "初识Harbor:云原生制品仓库服务 - 使用Harbor搭建私有制品仓库服务 - "
            "资源隔离与多租户管理模型 - 制品的高效分发(复制、缓存与P2P集成) - "
            "制品的安全分发(签名、漏洞扫描与安全策略) - 资源清理与垃圾回收 - "
            "构建高可用(HA)制品仓库服务 - Harbor集成与扩展 - 路线图 K8s Operator • 通过K8s "
            "CRD实现编排 • 目标为K8s集群 • 专注于HA模式支持 • goharbor/harbor- operator "
            "(开发中) 4 资源隔离与多租户管理 项目 存储 访问控制 制品资源 Members Images "
            "Guest: Developer: Administrator:"
        ),
        ext=".pdf",
        file_family="pdf",
        price=0,
        pages=32,
        size_bytes=17986452,
        created_at=datetime(2026, 5, 24, 9, 30, 0, tzinfo=UTC),
        score=300,
        keywords="Harbor,云原生,制品管理,镜像仓库",
        view_count=156,
        download_count=0,
        favorite_count=0,
        comment_count=0,
    ),
    # 10. title glued to the description
    SampleDocument(
        document_id=31477,
        title="CurveFS方案设计",
        description=(
            "设计,而是采用来有目录层级的 namespace 方式,namespace 已经实现了 fs "
            "元数据管理的雏形,具备了基本的元数据管理功能。(当时为什么要设计为 namespace "
            "的管理形式?留有租户这个概念),直接基于 namespace 开发: a. 功能 "
            "软/硬链接:目前是都不支持的。软链接可以通过标识文件类型解决;由于 prefix + "
            "parentid + filename 作为 slave,slave 在内存中也缓存了全部元数据信息 "
            "master-slave 多副本数据 CurveFS 分布式元数据设计 类似 chubaofs "
            "的元数据设计方式,同样是采用 dentry,inode 两层映射关系,所有的元数据都缓存在内存"
            "中。元数据是分片的,使用 multi-raft 持久化元数据以及保证多副本数据一致性。基于"
            "这种方式开发: a. 性能 由于元数据分片,获取元数据 "
            "的场景,元数据的量比块存储场景会多很多,长期看元数据节点的设计也是需要满足高可用"
            "、高可扩、高可靠的。 因此对元数据节点的要求总结为:高可用、高可扩、高可靠、高性"
            "能。 架构设计 卷和文件系统© XXX Page 5 of 14 1. 1. 2. 2. 1. 2. 1. 2. "
            "一个卷对应一个文件系统 文件系统中文件数据和chunk是一对多的关系。 底层 chunk"
        ),
        ext=".docx",
        file_family="word",
        price=0,
        pages=14,
        size_bytes=634188,
        created_at=datetime(2026, 5, 14, 21, 9, 33, tzinfo=UTC),
        score=300,
        keywords="CurveFS,文件系统,元数据,分布式存储",
        view_count=0,
        download_count=0,
        favorite_count=0,
        comment_count=0,
    ),
)
