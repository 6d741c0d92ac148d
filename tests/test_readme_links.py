"""Links of the README and the docs site lead somewhere.

The README is the package's page on PyPI, where a relative link leads nowhere: it
links into the repository with absolute URLs, which must name files that exist. The
pages under ``docs/`` link to each other relatively, as the docs site (``make docs``,
``mkdocs build --strict``) resolves them; these tests catch a broken one without
MkDocs installed.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
REPOSITORY = "https://github.com/django-scim-provisioning/django-scim-provisioning/blob/main/"
LINK = re.compile(r"\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.M | re.S)
HEADING = re.compile(r"^#{1,6} +(.+?) *$", re.M)
#: A pymdownx.snippets include (``docs/index.md`` is the README), from the repository's root.
SNIPPET = re.compile(r'^--8<-- "([^"]+)"$', re.M)


def text_of(page: Path) -> str:
    """A page's Markdown with its snippet includes in place, as MkDocs renders it."""
    return SNIPPET.sub(lambda m: (ROOT / m.group(1)).read_text(), page.read_text())


def links(text: str) -> list[str]:
    """The link targets of a Markdown text, code blocks left out."""
    return LINK.findall(FENCE.sub("", text))


def slug(heading: str) -> str:
    """The anchor of a heading, as MkDocs' table of contents (Python-Markdown) makes it."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "").replace("*", "")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def anchors(page: Path) -> set[str]:
    return {slug(heading) for heading in HEADING.findall(FENCE.sub("", text_of(page)))}


def broken(target: Path, anchor: str) -> str | None:
    """Why a link to ``target#anchor`` leads nowhere, or ``None``."""
    if not target.exists():
        return "no such file"
    if anchor and target.suffix == ".md" and anchor not in anchors(target):
        return f"no heading #{anchor}"
    return None


def test_every_link_in_the_readme_works_on_pypi():
    targets = links(README.read_text())
    assert targets  # the pattern finds the README's links at all

    relative = [t for t in targets if not t.startswith(("https://", "http://", "#", "mailto:"))]

    assert relative == []


def test_the_readmes_links_into_the_repository_name_files_that_exist():
    into_repository = [t for t in links(README.read_text()) if t.startswith(REPOSITORY)]
    assert len(into_repository) >= 10  # the page list of the docs at least

    failures = []
    for target in into_repository:
        path, _, anchor = target.removeprefix(REPOSITORY).partition("#")
        reason = broken(ROOT / path, anchor)
        if reason:
            failures.append((target, reason))

    assert failures == []


def test_every_relative_link_in_the_docs_leads_to_a_page_and_heading():
    pages = sorted(DOCS.rglob("*.md"))
    assert len(pages) >= 10

    failures = []
    for page in pages:
        for target in links(page.read_text()):  # the README's own links: the tests above
            if target.startswith(("https://", "http://", "mailto:")):
                continue
            path, _, anchor = target.partition("#")
            reason = broken(page.parent / path if path else page, anchor)
            if reason:
                failures.append((str(page.relative_to(ROOT)), target, reason))

    assert failures == []


def test_the_link_check_finds_a_broken_link(tmp_path):
    """The checks above can fail: a missing file and a missing heading are both caught."""
    (tmp_path / "a.md").write_text("# A page\n\n## One heading\n")

    assert broken(tmp_path / "a.md", "one-heading") is None
    assert broken(tmp_path / "a.md", "two-headings") == "no heading #two-headings"
    assert broken(tmp_path / "b.md", "") == "no such file"
    assert slug("`tokens.py`: `rotate_token`") == "tokenspy-rotate_token"
