"""The small Markdown subset the setup guides are written in, rendered to safe HTML.

The guides are the package's own text, written for both GitHub (``docs/idp/``)
and the guided-setup page, so only what they use is supported: ``#``/``##``/``###``
headings (with GitHub's anchors), paragraphs, pipe tables, ``-`` and ``1.`` lists
(continuation lines indented; one nested ``-`` level), fenced code blocks,
``>`` quotes, and inline ``code``, ``**bold**``, ``*emphasis*`` and ``[links](url)``. Every
character of text is escaped and raw HTML is never passed through, so values
filled into a guide (a base URL, a token) cannot inject markup. A library
would bring a dependency and raw-HTML pass-through for a page that needs neither.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.utils.html import escape

_INLINE = re.compile(r"`([^`]+)`|\*\*(.+?)\*\*|\*([^*\s][^*]*)\*|\[([^\]]+)\]\(([^)\s]+)\)")
_LIST_ITEM = re.compile(r"^(\d+\.|-)\s+(.*)$")
_SAFE_LINK = re.compile(r"^(https?://|#|[A-Za-z0-9._-]+(\.md)?(#[A-Za-z0-9_-]*)?$|\?)")

#: Rewrites a link target (e.g. ``okta.md`` to the page of the Okta guide).
LinkRewriter = Callable[[str], str]


def slug(text: str) -> str:
    """GitHub's heading anchor: lower case, punctuation dropped, spaces to dashes."""
    text = re.sub(r"[^\w\- ]", "", text.lower())
    return text.replace(" ", "-")


def inline(text: str, links: LinkRewriter | None = None) -> str:
    """Escaped text with code spans, bold and links."""
    out: list[str] = []
    pos = 0
    for match in _INLINE.finditer(text):
        out.append(escape(text[pos : match.start()]))
        code, bold, emphasis, label, target = match.groups()
        if code is not None:
            out.append(f"<code>{escape(code)}</code>")
        elif bold is not None:
            out.append(f"<strong>{inline(bold, links)}</strong>")
        elif emphasis is not None:
            out.append(f"<em>{inline(emphasis, links)}</em>")
        else:
            href = links(target) if links else target
            if _SAFE_LINK.match(href):
                out.append(f'<a href="{escape(href)}">{inline(label, links)}</a>')
            else:
                out.append(inline(label, links))
        pos = match.end()
    out.append(escape(text[pos:]))
    return "".join(out)


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _table(lines: list[str], links: LinkRewriter | None) -> str:
    head, rows = _cells(lines[0]), [_cells(line) for line in lines[2:]]
    html = ["<table><thead><tr>"]
    html += [f'<th scope="col">{inline(cell, links)}</th>' for cell in head]
    html.append("</tr></thead><tbody>")
    for row in rows:
        html.append("<tr>" + "".join(f"<td>{inline(c, links)}</td>" for c in row) + "</tr>")
    html.append("</tbody></table>")
    return "".join(html)


def _list(lines: list[str], links: LinkRewriter | None) -> str:
    ordered = lines[0][0].isdigit()
    items: list[tuple[list[str], list[str]]] = []  # (text lines, nested bullets)
    for line in lines:
        match = _LIST_ITEM.match(line)
        if match and not line.startswith(" "):
            items.append(([match[2]], []))
        elif line.lstrip().startswith("- "):
            items[-1][1].append(line.lstrip()[2:])
        elif items[-1][1]:
            items[-1][1][-1] += " " + line.strip()
        else:
            items[-1][0].append(line.strip())
    tag = "ol" if ordered else "ul"
    html = [f"<{tag}>"]
    for text, nested in items:
        html.append(f"<li>{inline(' '.join(text), links)}")
        if nested:
            html.append("<ul>" + "".join(f"<li>{inline(n, links)}</li>" for n in nested) + "</ul>")
        html.append("</li>")
    html.append(f"</{tag}>")
    return "".join(html)


def to_html(markdown: str, links: LinkRewriter | None = None, *, heading_offset: int = 0) -> str:
    """``markdown`` as HTML; headings move down by ``heading_offset`` levels."""
    lines = markdown.splitlines()
    html: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
        elif line.startswith("```"):
            end = next(
                (j for j in range(i + 1, len(lines)) if lines[j].startswith("```")), len(lines)
            )
            html.append(f"<pre><code>{escape(chr(10).join(lines[i + 1 : end]))}</code></pre>")
            i = end + 1
        elif line.startswith("#"):
            level, text = len(line) - len(line.lstrip("#")), line.lstrip("#").strip()
            tag = f"h{min(6, level + heading_offset)}"
            html.append(f'<{tag} id="{slug(text)}">{inline(text, links)}</{tag}>')
            i += 1
        else:
            block = [line]
            i += 1
            kind = "table" if line.startswith("|") else "quote" if line.startswith(">") else None
            if kind is None and _LIST_ITEM.match(line):
                kind = "list"
            while i < len(lines) and lines[i].strip() and not lines[i].startswith(("```", "#")):
                following = lines[i]
                if kind == "table" and not following.startswith("|"):
                    break
                if kind is None and (
                    following.startswith(("|", ">")) or _LIST_ITEM.match(following)
                ):
                    break
                block.append(following)
                i += 1
            if kind == "table":
                html.append(_table(block, links))
            elif kind == "list":
                html.append(_list(block, links))
            elif kind == "quote":
                text = " ".join(b.lstrip(">").strip() for b in block)
                html.append(f"<blockquote><p>{inline(text, links)}</p></blockquote>")
            else:
                html.append(f"<p>{inline(' '.join(b.strip() for b in block), links)}</p>")
    return "\n".join(html)
