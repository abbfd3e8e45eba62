"""The same-document rule (docs/input-format.md §3.2, "The same document"), as one table of
cases both its implementations are tested against: the title catalogue
(`pipeline.parse.catalogue`) and the warehouse's `int_listings__document_keys`
(tests/warehouse/sql/test_same_document.py).

Each case pairs an exact sighting (an HTML listing: the site's id, its title and description)
with a text-form listing whose heading is that title and description run together, unless
the case says otherwise, and says whether the two are the same document.
"""

from __future__ import annotations

from dataclasses import dataclass

TITLE = "Kubernetes 权威指南"
DESCRIPTION = "从 Docker 到 Kubernetes 实践全接触"
HEADING = TITLE + DESCRIPTION
SITE = "wenku.it"
OTHER_SITE = "moredoc.example.org"
PAGES = 12
# `1.50 MB` as moredoc prints it: the sizes that print so.
SIZE = (1_567_622, 1_578_106)


@dataclass(frozen=True)
class Sighting:
    """What the rule reads of one sighting: its site and page count (None: unknown), its size
    interval (every listing has one) and its heading."""

    site: str | None = SITE
    pages: int | None = PAGES
    size: tuple[int, int] = SIZE
    heading: str = HEADING


@dataclass(frozen=True)
class Case:
    name: str
    exact: Sighting  # the HTML listing: title TITLE, description DESCRIPTION
    text: Sighting  # the text-form listing
    same: bool


CASES = (
    Case("everything agrees", Sighting(), Sighting(), True),
    Case("an exact size inside the text's interval", Sighting(size=(1_570_000, 1_570_000)),
         Sighting(), True),
    Case("another site", Sighting(site=OTHER_SITE), Sighting(), False),
    Case("the text's site is another", Sighting(), Sighting(site=OTHER_SITE), False),
    Case("both sites unknown", Sighting(site=None), Sighting(site=None), True),
    Case("one site unknown", Sighting(site=None), Sighting(), False),
    Case("the other site unknown", Sighting(), Sighting(site=None), False),
    Case("another page count", Sighting(pages=13), Sighting(), False),
    Case("both page counts unknown", Sighting(pages=None), Sighting(pages=None), True),
    Case("one page count unknown", Sighting(pages=None), Sighting(), False),
    Case("intervals meet at one byte", Sighting(size=(SIZE[1], SIZE[1] + 10)), Sighting(),
         True),
    Case("intervals a byte apart", Sighting(size=(SIZE[1] + 1, SIZE[1] + 10)), Sighting(),
         False),
    Case("another heading", Sighting(), Sighting(heading="Docker 入门" + DESCRIPTION), False),
)  # fmt: skip
