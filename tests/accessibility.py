"""What the browser tests check on every page a person reads: axe-core, fit, screenshots.

axe-core (Deque's accessibility engine, vendored from npm in ``tests/vendor/axe-core``)
runs in the page itself; a page passes with no violation of impact *serious* or
*critical* (axe's two upper levels: barriers for some people, not blemishes).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

AXE_SOURCE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "browser"
#: A laptop and a phone (the iPhone 12-15 CSS width): the widths the issue names.
VIEWPORTS = {"1280": {"width": 1280, "height": 800}, "390": {"width": 390, "height": 844}}
BLOCKING = ("serious", "critical")


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now.

    Injected with ``evaluate`` (DevTools protocol), not a ``<script>`` tag, so a page's
    Content-Security-Policy does not stop the check.
    """
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_SOURCE.read_text(encoding="utf-8"))
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return list(result["violations"])


def blocking_violations(page: Any) -> list[str]:
    """Serious and critical violations, one line each: rule, impact, help and the nodes."""
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(" ".join(node["target"]) for node in v["nodes"][:5])
        for v in axe_violations(page)
        if v["impact"] in BLOCKING
    ]


def horizontal_overflow(page: Any) -> int:
    """How many CSS pixels the document is wider than the viewport (0: it fits)."""
    return int(page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth"))


def overflowing_elements(page: Any, limit: int = 5) -> list[str]:
    """The innermost elements reaching past the viewport's right edge, to name the culprit."""
    return list(
        page.evaluate(
            """limit => {
              const past = e => e.getBoundingClientRect().right > window.innerWidth + 1;
              return [...document.querySelectorAll('body *')]
                .filter(e => past(e) && ![...e.children].some(past))
                .slice(0, limit)
                .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                    + (e.className && typeof e.className === 'string' ? '.' + e.className : ''));
            }""",
            limit,
        )
    )


def screenshot(page: Any, name: str) -> Path:
    """The whole page, to the git-ignored ``test-artifacts/browser/``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
