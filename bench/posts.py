"""Generated posts in the corpus' two shapes, for sites of any size.

Feed-importer posts (raw-HTML bodies, hot-linked images, RFC 2822 dates, a three-level
category hierarchy) and hand-written Hexo posts (Markdown, ``<!-- more -->``, code blocks,
tags). The text is our own; only the shapes follow ../shared/corpus.

Dates run backwards from ``NEWEST`` with ``POSTS_PER_MONTH`` posts in every month, so a site
of n posts spans n / POSTS_PER_MONTH months and its newest month holds the same number of
posts whatever n is (see bench/README.md: why the sites span proportionally more months).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

CATEGORY_TREE = ("编程", "Dockone", "周报")
TAGS = ("docker", "kubernetes", "云原生", "运维", "golang", "前端")
POSTS_PER_MONTH = 25
NEWEST = datetime(2026, 6, 27, 9, 0, 0)

_WORDS_ZH = (
    "容器",
    "编排",
    "镜像",
    "集群",
    "调度",
    "网络",
    "存储",
    "服务",
    "发布",
    "回滚",
    "监控",
    "日志",
    "指标",
    "告警",
    "部署",
    "版本",
    "缓存",
    "队列",
    "数据",
    "模型",
    "架构",
    "性能",
    "延迟",
    "吞吐",
    "弹性",
    "扩容",
    "节点",
    "故障",
    "恢复",
    "测试",
)
_WORDS_EN = (
    "container",
    "image",
    "cluster",
    "rollout",
    "latency",
    "cache",
    "queue",
    "build",
    "deploy",
    "shard",
    "replica",
    "index",
    "stream",
    "batch",
    "cold",
    "start",
    "memory",
    "page",
    "render",
    "template",
    "bucket",
    "table",
    "event",
)


def post_date(index: int) -> datetime:
    """Post ``index`` (0 is the newest): POSTS_PER_MONTH posts a month, newest month first."""
    months_back, position = divmod(index, POSTS_PER_MONTH)
    year, month = NEWEST.year, NEWEST.month - months_back
    while month < 1:
        year, month = year - 1, month + 12
    day = NEWEST.day - position
    return datetime(year, month, max(day, 1), 9, 0, 0) + timedelta(minutes=position)


def _sentence(rng: random.Random, chinese: bool) -> str:
    if chinese:
        return "".join(rng.choice(_WORDS_ZH) for _ in range(rng.randint(8, 16))) + "。"
    words = [rng.choice(_WORDS_EN) for _ in range(rng.randint(8, 16))]
    return " ".join(words).capitalize() + "."


def _paragraph(rng: random.Random, chinese: bool) -> str:
    joiner = "" if chinese else " "
    return joiner.join(_sentence(rng, chinese) for _ in range(rng.randint(2, 5)))


def feed_post(index: int, date: datetime, title: str, rng: random.Random) -> str:
    """An importer-shaped post: RFC 2822 date, three-level categories, a raw-HTML body."""
    images = [
        f'<p><img src="https://img.example.net/{index}/{n}.jpg" '
        f'referrerpolicy="no-referrer" alt="图{n}"></p>'
        for n in range(rng.randint(1, 4))
    ]
    paragraphs = [f"<p>{_paragraph(rng, True)}</p>" for _ in range(rng.randint(3, 7))]
    body = "\n".join(paragraphs[:1] + images + paragraphs[1:])
    categories = "\n".join(f"  - {name}" for name in CATEGORY_TREE)
    return (
        f"---\ntitle: '{title}'\ncategories:\n{categories}\n"
        f"date: {date:%a, %d %b %Y %H:%M:%S} GMT\n"
        f"author: bench\nheadimg: https://img.example.net/{index}/cover.jpg\n---\n\n"
        f'<div class="article">\n{body}\n</div>\n'
    )


def hexo_post(index: int, date: datetime, title: str, rng: random.Random) -> str:
    """A hand-written Hexo post: Markdown, an excerpt marker, a code block and tags."""
    tags = "\n".join(f"  - {tag}" for tag in rng.sample(TAGS, 2))
    categories = "\n".join(f"  - {name}" for name in CATEGORY_TREE)
    sections = [
        f"## {rng.choice(_WORDS_EN).title()} {n}\n\n{_paragraph(rng, False)}\n\n"
        f"- {_sentence(rng, False)}\n- {_sentence(rng, True)}\n"
        for n in range(rng.randint(2, 4))
    ]
    code = "```python\ndef handler(event, context):\n    return {'ok': True}\n```\n"
    return (
        f"---\ntitle: {title}\ndate: {date:%Y-%m-%d %H:%M:%S}\n"
        f"categories:\n{categories}\ntags:\n{tags}\n---\n\n"
        f"{_paragraph(rng, False)}\n\n<!-- more -->\n\n" + "\n".join(sections) + "\n" + code
    )


def post_source(index: int, *, date: datetime | None = None, title: str | None = None) -> str:
    """The source text of post ``index``; every other post has each shape."""
    rng = random.Random(index)
    when = date or post_date(index)
    name = title or f"Post {index} {rng.choice(_WORDS_ZH)}"
    shape = feed_post if index % 2 == 0 else hexo_post
    return shape(index, when, name, rng)


def post_key(index: int) -> str:
    return f"_posts/bench/p{index:06d}.md"


def write_posts(folder: Path, count: int) -> list[Path]:
    """Posts 0..count-1 written into ``folder`` under their file names; their paths."""
    paths = [folder / Path(post_key(index)).name for index in range(count)]
    for index, path in enumerate(paths):
        path.write_text(post_source(index), encoding="utf-8")
    return paths
