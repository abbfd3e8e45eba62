"""The HTML and API-JSON forms of the renderer (docs/input-format.md §3.1–§3.2), value by value.

Expected values are written by hand from the rules, not computed with the renderer's helpers:
score 450 shows `4.5`, 1152 bytes `1.13 KB`, 280 days `9 月前`; in JSON a price of 0 is absent
and the id is a string. The saved form is read the way a browser shows it (stdlib
`html.parser`, entities decoded, ASCII whitespace collapsed, block edges trimmed) and must show
the same text as the server form.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest

from render.api import render_json_page, render_timestamp
from render.fields import Document, file_family, listing_document_id, render_info
from render.html import page_keywords, render_html_page
from render.text import render_tail

FETCHED_AT = datetime(2026, 11, 26, 8, 0, 0, tzinfo=UTC)
STAR = '<span class="el-rate__item"><i class="el-rate__icon el-icon-star-on"></i></span>'


def doc(**changes: object) -> Document:
    """A small Word document, 280 days old (`9 月前`); tests change only what they are about."""
    fields: dict[str, object] = {
        "title": "Nacos架构&原理",
        "description": "缓存机制:容灾目录",
        "price": 0,
        "credit": "码力",
        "pages": 12,
        "size_bytes": 1152,
        "uploaded_at": FETCHED_AT - timedelta(days=280),
        "score": 450,
        "document_id": 42,
        "ext": ".docx",
        "keywords": "nacos,架构",
        "view_count": 7,
        "download_count": 3,
    }
    fields.update(changes)
    return Document(**fields)  # type: ignore[arg-type]


def page(docs: list[Document], **options: object) -> str:
    settings: dict[str, object] = {
        "total_results": 145,
        "last_page": 15,
        "site_document_count": 2000,
    }
    settings.update(options)
    return render_html_page(docs, FETCHED_AT, **settings)  # type: ignore[arg-type]


# --- A browser's view of the markup, with the standard library only -------------------

VOID = {"img", "meta", "link", "br", "input", "hr"}
HIDDEN = {"script", "style", "head"}
INLINE = {"a", "span", "i", "img", "b", "em", "strong", "mark"}
ASCII_SPACE = re.compile(r"[\t\n\f\r ]+")


@dataclass
class Node:
    tag: str
    attrs: dict[str, str | None]
    children: list[Node | str] = field(default_factory=list)

    @property
    def classes(self) -> list[str]:
        return (self.attrs.get("class") or "").split()


class TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.stack = [self.root]
        self.comments = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, dict(attrs))
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Node(tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        assert tag in [node.tag for node in self.stack], f"stray </{tag}>"
        while self.stack.pop().tag != tag:
            pass

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)

    def handle_comment(self, data: str) -> None:
        self.comments += 1


def parse(markup: str) -> TreeBuilder:
    builder = TreeBuilder()
    builder.feed(markup)
    builder.close()
    assert builder.stack == [builder.root], "unclosed elements"
    return builder


def find_all(node: Node, cls: str) -> list[Node]:
    found = [node] if cls in node.classes else []
    for child in node.children:
        if isinstance(child, Node):
            found += find_all(child, cls)
    return found


def text(node: Node) -> str:
    """An element's text as a browser shows it: whitespace runs collapsed, ends trimmed."""

    def raw(n: Node) -> str:
        return "".join(c if isinstance(c, str) else raw(c) for c in n.children)

    return ASCII_SPACE.sub(" ", raw(node)).strip(" ")


def shown_lines(node: Node) -> list[str]:
    """The page's visible text, one entry per run of inline content between block edges."""
    lines: list[str] = []
    current: list[str] = []

    def flush() -> None:
        line = ASCII_SPACE.sub(" ", "".join(current)).strip(" ")
        if line:
            lines.append(line)
        current.clear()

    def walk(n: Node) -> None:
        for child in n.children:
            if isinstance(child, str):
                current.append(child)
            elif child.tag in HIDDEN:
                continue
            elif child.tag in INLINE:
                walk(child)
            else:
                flush()
                walk(child)
                flush()

    walk(node)
    flush()
    return lines


# --- The server form ------------------------------------------------------------------


def test_one_listing_renders_exactly_the_sites_markup() -> None:
    expected_listing = (
        '<li><h3 class="doc-title"><a href="/document/42" title="Nacos架构&amp;原理">'
        '<img src="/static/images/word_24.png" alt="word文档">Nacos架构&amp;原理</a></h3>'
        '<div class="doc-desc">缓存机制:容灾目录</div>'
        '<div class="doc-info"><div role="slider" aria-valuenow="4.5" aria-valuetext="" '
        'aria-valuemin="0" aria-valuemax="5" tabindex="0" class="el-rate">'
        + STAR
        * 5
        + '<span class="el-rate__text">4.5</span></div>'
        '<span class="float-right">0 码力 | 12 页 | 1.13 KB'
        '<span class="hidden-xs-only"> | 9 月前</span></span></div></li>'
    )
    expected_pager = (
        '<div class="el-pagination"><span class="el-pagination__total">共 145 条</span>'
        '<button type="button" class="btn-prev"><i class="el-icon el-icon-arrow-left"></i>'
        '</button><ul class="el-pager"><li class="number active">1</li>'
        '<li class="number">2</li><li class="number">3</li><li class="number">4</li>'
        '<li class="number">5</li><li class="number">6</li>'
        '<li class="el-icon more btn-quicknext el-icon-more"></li><li class="number">15</li>'
        '</ul><button type="button" class="btn-next">'
        '<i class="el-icon el-icon-arrow-right"></i></button></div>'
    )
    expected = (
        '<!doctype html><html><head><meta charset="utf-8"><title>文档搜索</title></head>'
        '<body><div id="__nuxt"><div class="page page-search"><div class="el-row">'
        '<div class="el-col el-col-18 search-main"><div class="el-card is-never-shadow">'
        '<div class="el-card__body">'
        '<div class="search-tips">'
        "本次搜索耗时 0.012 秒，在 2000 篇文档中为您找到相关结果约 145 个.</div>"
        '<div class="search-result"><ul>'
        + expected_listing
        + "</ul></div>"
        + expected_pager
        + "</div></div></div>"
        '<div class="el-col el-col-6 search-right"><div class="el-card is-never-shadow">'
        '<div class="el-card__header"><span>相关搜索词</span></div><div class="el-card__body">'
        '<a href="/search?wd=nacos&amp;page=1&amp;size=10" class="el-link el-link--default">'
        "nacos</a> "
        '<a href="/search?wd=%E6%9E%B6%E6%9E%84&amp;page=1&amp;size=10" '
        'class="el-link el-link--default">架构</a></div></div></div>'
        "</div></div></div></body></html>\n"
    )
    assert page([doc()]) == expected


def test_listing_fields_read_back_from_their_elements() -> None:
    docs = [
        doc(),
        doc(
            title='Q&A "引号" <b>',
            description="",
            price=5,
            pages=None,
            size_bytes=0,
            score=300,
            document_id=None,
            ext=".PDF",
        ),
        doc(score=3, ext=".zip", uploaded_at=None, document_id=7),
    ]
    root = parse(page(docs)).root
    links = [a for h3 in find_all(root, "doc-title") for a in h3.children if isinstance(a, Node)]
    assert [a.attrs["href"] for a in links] == ["/document/42", "/document/2", "/document/7"]
    assert [a.attrs["title"] for a in links] == [d.title for d in docs]
    assert [text(a) for a in links] == ["Nacos架构&原理", 'Q&A "引号" <b>', "Nacos架构&原理"]
    images = [a.children[0] for a in links]
    assert [img.attrs["alt"] for img in images] == ["word文档", "pdf文档", "other文档"]  # type: ignore[union-attr]
    assert [text(d) for d in find_all(root, "doc-desc")] == [
        "缓存机制:容灾目录",
        "",
        "缓存机制:容灾目录",
    ]
    assert [text(r) for r in find_all(root, "el-rate__text")] == ["4.5", "3", "0.03"]
    assert [r.attrs["aria-valuenow"] for r in find_all(root, "el-rate")] == ["4.5", "3", "0.03"]
    assert [text(s) for s in find_all(root, "float-right")] == [
        "0 码力 | 12 页 | 1.13 KB | 9 月前",
        "5 码力 | - 页 | 0 Bytes | 9 月前",
        "0 码力 | 12 页 | 1.13 KB | 刚刚",
    ]
    assert [text(s) for s in find_all(root, "hidden-xs-only")] == ["| 9 月前"] * 2 + ["| 刚刚"]


def test_info_span_and_text_tail_share_one_implementation() -> None:
    d = doc()
    assert render_info(d) == "0 码力 | 12 页 | 1.13 KB"
    assert render_tail(d, FETCHED_AT) == "0 码力 | 12 页 | 1.13 KB | 9 月前4.5"
    assert render_tail(d, FETCHED_AT, show_age=False) == "0 码力 | 12 页 | 1.13 KB4.5"


def test_hidden_age_drops_only_that_listings_age_span() -> None:
    root = parse(page([doc(), doc()], show_age=[False, True])).root
    assert [text(s) for s in find_all(root, "float-right")] == [
        "0 码力 | 12 页 | 1.13 KB",
        "0 码力 | 12 页 | 1.13 KB | 9 月前",
    ]
    assert len(find_all(root, "hidden-xs-only")) == 1
    with pytest.raises(ValueError, match="show_age"):
        page([doc()], show_age=[True, False])


def test_keywords_column_gathers_trimmed_keywords_once_in_order() -> None:
    docs = [doc(keywords=" 云原生 ,架构,,"), doc(keywords="架构,Nacos 注册中心"), doc(keywords="")]
    assert page_keywords(docs) == ["云原生", "架构", "Nacos 注册中心"]
    root = parse(page(docs)).root
    (column,) = find_all(root, "search-right")
    assert text(find_all(column, "el-card__header")[0]) == "相关搜索词"
    assert [text(a) for a in find_all(column, "el-link")] == ["云原生", "架构", "Nacos 注册中心"]
    no_keywords = page([doc(keywords="")])
    assert "search-right" not in no_keywords
    assert "相关搜索词" not in no_keywords


def test_empty_page_renders_the_empty_state_item() -> None:
    markup = page([], total_results=0, last_page=0)
    assert (
        '<div class="search-result"><ul><li class="el-empty"><div class="el-empty__image"></div>'
        '<p class="el-empty__description">很遗憾，未能检索到相关结果</p></li></ul></div>'
    ) in markup
    root = parse(markup).root
    assert find_all(root, "doc-title") == []
    assert find_all(root, "el-pagination") == []  # the site shows no pager without results
    assert text(find_all(root, "search-tips")[0]) == (
        "本次搜索耗时 0.012 秒，在 2000 篇文档中为您找到相关结果约 0 个."
    )
    # A page past the last one: no listing, but the pager is there.
    beyond = parse(page([], total_results=145, last_page=15, current_page=15)).root
    assert len(find_all(beyond, "el-empty")) == 1
    assert text(find_all(beyond, "el-pagination__total")[0]) == "共 145 条"


def pager_items(markup: str) -> list[str]:
    """The pager's items: a page number (`*` marks the active one) or `<`/`>` for a gap."""
    (pager,) = find_all(parse(markup).root, "el-pager")
    items = []
    for li in pager.children:
        assert isinstance(li, Node) and li.tag == "li"
        if "more" in li.classes:
            assert li.children == []
            items.append("<" if "btn-quickprev" in li.classes else ">")
        else:
            assert "number" in li.classes
            items.append(text(li) + ("*" if "active" in li.classes else ""))
    return items


def test_pager_gaps_render_more_items() -> None:
    assert pager_items(page([doc()])) == ["1*", "2", "3", "4", "5", "6", ">", "15"]
    assert pager_items(page([doc()], current_page=8)) == [
        "1", "<", "6", "7", "8*", "9", "10", ">", "15"
    ]  # fmt: skip
    assert pager_items(page([doc()], current_page=15)) == [
        "1", "<", "10", "11", "12", "13", "14", "15*"
    ]  # fmt: skip
    assert pager_items(page([doc()], total_results=25, last_page=3, current_page=2)) == [
        "1", "2*", "3"
    ]  # fmt: skip
    with pytest.raises(ValueError, match="current_page"):
        page([doc()], current_page=16)


@pytest.mark.parametrize(
    ("title", "description"),
    [
        ("Nacos  架构", "描述"),
        ("Nacos\n架构", "描述"),
        (" Nacos架构", "描述"),
        ("Nacos架构\u3000", "描述"),
        ("Nacos架构", "第一行\n第二行"),
        ("Nacos架构", "制表\t符"),
        ("Nacos架构", "描述 "),
    ],
)
def test_text_a_browser_would_show_differently_is_refused(title: str, description: str) -> None:
    with pytest.raises(ValueError, match=r"title|description"):
        page([doc(title=title, description=description)])


def test_whitespace_a_browser_keeps_is_allowed() -> None:
    root = parse(page([doc(title="Nacos 架构\u3000原理", description="a\u00a0b c")])).root
    assert text(find_all(root, "doc-title")[0]) == "Nacos 架构\u3000原理"
    assert text(find_all(root, "doc-desc")[0]) == "a\u00a0b c"


# --- The saved form -------------------------------------------------------------------


def saved_and_server(docs: list[Document], **options: object) -> tuple[str, str]:
    return page(docs, saved=True, **options), page(docs, **options)


MIXED = [
    doc(),
    doc(title="Apache Pulsar", description="", score=3, pages=None, keywords="消息, 云原生"),
    doc(title="云原生 & <PaaS>", description='说明 "a&b" 10/20', document_id=None, ext=".pptx"),
]


def test_saved_page_shows_the_same_text_as_the_server_page() -> None:
    saved, server = saved_and_server(MIXED, show_age=[True, False, True], current_page=8)
    saved_tree, server_tree = parse(saved), parse(server)
    assert shown_lines(saved_tree.root) == shown_lines(server_tree.root)
    for cls in (
        "search-tips",
        "doc-title",
        "doc-desc",
        "el-rate__text",
        "float-right",
        "hidden-xs-only",
        "el-pagination__total",
        "number",
    ):
        saved_texts = [text(n) for n in find_all(saved_tree.root, cls)]
        server_texts = [text(n) for n in find_all(server_tree.root, cls)]
        assert saved_texts == server_texts, cls
        assert saved_texts, cls
    keywords = [
        [
            text(a)
            for column in find_all(tree.root, "search-right")
            for a in find_all(column, "el-link")
        ]
        for tree in (saved_tree, server_tree)
    ]
    assert keywords[0] == keywords[1] == ["nacos", "架构", "消息", "云原生"]
    saved_attrs = [n.attrs for n in find_all(saved_tree.root, "el-rate")]
    assert saved_attrs == [n.attrs for n in find_all(server_tree.root, "el-rate")]
    assert server_tree.comments == 0


def test_saved_page_looks_like_a_browsers_save() -> None:
    saved, server = saved_and_server(MIXED, show_age=[True, False, True])
    assert saved.startswith("<!DOCTYPE html>\n")
    assert server.startswith("<!doctype html><html><head>")
    assert saved.count("window.__NUXT__=") == 1
    assert '"<li>0 码力 | 1 页 | 1.00 MB</li>"' in saved
    assert "<style>" in saved and '<link rel="stylesheet"' in saved
    assert saved.count("<script") >= 2
    assert "<!---->" in saved
    tree = parse(saved)
    assert tree.comments == 2  # the empty state's v-if and listing 2's hidden age
    # Pretty-printed: text sits on its own indented line inside its element.
    assert re.search(r'<div class="doc-desc">\n +缓存机制:容灾目录\n +</div>', saved)
    # Every & is escaped; odd-positioned titles write their first non-ASCII character as a
    # numeric character reference (listing 1: 架; listing 3: 云).
    assert re.search(r"\n +Nacos&#x67b6;构&amp;原理\n", saved)
    assert re.search(r"\n +&#x4e91;原生 &amp; &lt;PaaS&gt;\n", saved)
    assert re.search(r"\n +Apache Pulsar\n", saved)
    assert "说明 &quot;a&amp;b&quot; 10/20" in saved
    assert " & " not in saved.split("<script>window.__NUXT__")[0]


def test_saved_page_with_no_results_keeps_its_placeholders() -> None:
    saved, server = saved_and_server([], total_results=0, last_page=0)
    assert shown_lines(parse(saved).root) == shown_lines(parse(server).root)
    assert "很遗憾，未能检索到相关结果" in saved
    assert 'el-pagination"' not in saved and 'class="search-right"' not in saved


def test_rendering_is_deterministic() -> None:
    assert page(MIXED, saved=True) == page(MIXED, saved=True)
    assert page(MIXED) == page(MIXED)


# --- The search API's JSON ------------------------------------------------------------


def test_json_page_by_the_gateway_rules() -> None:
    body = render_json_page([doc()], total_results=145)
    assert body == (
        '{"total":"145","spend":"0.012","document":[{"id":"42","title":"Nacos架构&原理",'
        '"keywords":"nacos,架构","description":"缓存机制:容灾目录","pages":12,"size":"1152",'
        '"score":450,"ext":".docx","created_at":"2026-02-19T08:00:00Z",'
        '"updated_at":"2026-02-19T08:00:00Z","download_count":3,"view_count":7}]}'
    )
    (record,) = json.loads(body)["document"]
    assert "price" not in record  # a free document: price at its zero value is omitted
    assert record["id"] == "42" and record["size"] == "1152"


def test_json_omits_every_zero_value() -> None:
    bare = doc(
        title="T",
        description="",
        keywords="",
        pages=None,
        size_bytes=0,
        score=0,
        price=0,
        view_count=0,
        download_count=0,
        document_id=None,
        uploaded_at=datetime(2023, 1, 5, 4, 30, 0, 250000, tzinfo=UTC),
    )
    (record,) = json.loads(render_json_page([bare], total_results=1))["document"]
    assert record == {
        "id": "1",
        "title": "T",
        "ext": ".docx",
        "created_at": "2023-01-05T04:30:00.250Z",
        "updated_at": "2023-01-05T04:30:00.250Z",
    }
    counted = doc(price=5, favorite_count=2, comment_count=1)
    (record,) = json.loads(render_json_page([counted], total_results=1))["document"]
    assert list(record) == [
        "id", "title", "keywords", "description", "pages", "size", "price", "score", "ext",
        "created_at", "updated_at", "download_count", "view_count", "favorite_count",
        "comment_count",
    ]  # fmt: skip
    assert (record["price"], record["favorite_count"], record["comment_count"]) == (5, 2, 1)
    assert json.loads(render_json_page([], total_results=0, search_seconds="")) == {}
    assert render_json_page([], total_results=0) == '{"spend":"0.012"}'


def test_json_ids_match_the_html_ids_and_indent_is_optional() -> None:
    docs = [doc(document_id=None), doc(document_id=9), doc(document_id=None)]
    records = json.loads(render_json_page(docs, total_results=3, indent=2))["document"]
    assert [r["id"] for r in records] == ["1", "9", "3"]
    assert [listing_document_id(d, i) for i, d in enumerate(docs, start=1)] == [1, 9, 3]
    root = parse(page(docs)).root
    hrefs = [a.attrs["href"] for h in find_all(root, "doc-title") for a in h.children]  # type: ignore[union-attr]
    assert hrefs == ["/document/1", "/document/9", "/document/3"]
    assert render_json_page(docs, total_results=3, indent=2).startswith('{\n  "total": "3",\n')


def test_json_refuses_what_the_api_cannot_carry() -> None:
    with pytest.raises(ValueError, match="created_at"):
        render_json_page([doc(uploaded_at=None)], total_results=1)
    with pytest.raises(ValueError, match="price"):
        render_json_page([doc(price=2**31)], total_results=1)


def test_timestamps_are_rfc3339_utc() -> None:
    assert render_timestamp(datetime(2023, 1, 5, 12, 30, tzinfo=UTC)) == "2023-01-05T12:30:00Z"
    east8 = datetime.fromisoformat("2023-01-05T12:30:00+08:00")
    assert render_timestamp(east8) == "2023-01-05T04:30:00Z"
    assert render_timestamp(datetime(2023, 1, 5, tzinfo=UTC).replace(microsecond=5)) == (
        "2023-01-05T00:00:00.000005Z"
    )


# --- The new document fields ----------------------------------------------------------


def test_file_family_ignores_case_and_defaults_to_other() -> None:
    assert [file_family(e) for e in (".PDF", ".Docx", ".pptx", ".csv", ".txt", ".zip")] == [
        "pdf", "word", "ppt", "excel", "text", "other"
    ]  # fmt: skip


@pytest.mark.parametrize(
    "changes",
    [
        {"document_id": 0},
        {"view_count": -1},
        {"download_count": -1},
        {"favorite_count": -1},
        {"comment_count": -1},
        {"ext": "pdf"},
        {"ext": ". pdf"},
        {"ext": ""},
    ],
)
def test_document_refuses_impossible_new_fields(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        doc(**changes)


def test_old_callers_get_the_defaults() -> None:
    d = Document("标题标题", "描述", 0, "码力", 1, 1, None, 300)
    assert (d.document_id, d.ext, d.keywords, d.view_count) == (None, ".pdf", "", 0)
