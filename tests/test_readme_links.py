"""The README is the package's page on PyPI, where a relative link leads nowhere."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_every_link_in_the_readme_works_on_pypi():
    targets = LINK.findall(README.read_text())
    assert targets  # the pattern finds the README's links at all

    relative = [t for t in targets if not t.startswith(("https://", "http://", "#", "mailto:"))]

    assert relative == []
