"""Every IdP payload file says where its shape comes from, and says it truthfully.

A file's ``source`` is ``{"kind": ..., "from": ...}``: ``spec`` (an RFC's own
example, with its section), ``vendor-doc`` (the IdP's
own documentation: title and section), ``trace`` (a request an SP maintainer
published, or code written after real traffic), ``third-party-doc`` (another
vendor's setup guide), ``capture`` (recorded from a live IdP) or ``constructed``
(no source shows the body; ``from`` says what it was built from and what was
searched). A shape that is ``[UNVERIFIED]`` in its note is ``constructed``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import PAYLOADS

KINDS = {"spec", "vendor-doc", "trace", "third-party-doc", "capture", "constructed"}
FILES = sorted(PAYLOADS.rglob("*.json"))


def test_there_are_payload_files():
    assert len(FILES) > 50


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.relative_to(PAYLOADS).as_posix())
def test_every_payload_file_names_its_source(path: Path):
    payload = json.loads(path.read_text())

    source = payload.get("source")
    assert isinstance(source, dict), f"{path.name}: no 'source' object"
    assert set(source) == {"kind", "from"}, source
    assert source["kind"] in KINDS, source["kind"]
    assert isinstance(source["from"], str) and len(source["from"].strip()) >= 20, source
    if "UNVERIFIED" in str(payload.get("note", "")).upper():
        assert source["kind"] == "constructed", f"{path.name}: unverified yet {source['kind']}"
