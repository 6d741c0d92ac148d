"""Response bytes: orjson (the ``fast`` extra) writes what DRF's JSON renderer writes.

A page of 100 users is rendered by orjson when it is installed; the bytes must be
the ones the standard library's encoder gives through DRF (compact, UTF-8, U+2028
and U+2029 escaped, DRF's datetimes), whatever the document holds, and whatever
orjson cannot write goes through DRF's renderer.
"""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from django.test import RequestFactory
from django.urls import set_script_prefix
from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer

from scim_provisioning import renderers
from scim_provisioning.links import scim_base_url
from scim_provisioning.renderers import SCIMRenderer

from .conftest import load_payload

SCIM_JSON = "application/scim+json"

#: What a document may hold: every JSON type, text beyond ASCII and the two line
#: separators JavaScript reads as line ends, and what DRF's encoder converts.
DOCUMENTS = {
    "text": {"displayName": "Zoë Ñúñez 😀 Ωμέγα", "note": "a\u2028b\u2029c", "quote": '"\\/\t'},
    "numbers": {"i": 42, "neg": -7, "f": 0.1, "big": 1e16, "t": True, "n": None},
    "nested": {"Resources": [{"emails": [{"value": "a@b.c", "primary": True}]}, {}], "e": []},
    "converted": {
        "moment": datetime(2026, 12, 6, 14, 0, 0, 123456, tzinfo=timezone.utc),
        "naive": datetime(2026, 12, 6, 14, 0),
        "day": date(2026, 12, 6),
        "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "lazy": gettext_lazy("Not found"),
        "amount": Decimal("1.25"),
    },
    "beyond 64 bits": {"n": 2**70},
    "integer keys": {1: "one", "2": "two"},
    "a list": [1, "two", {"three": 3}],
}


def _drf(data, media_type=SCIM_JSON):
    return JSONRenderer().render(data, media_type, {})


@pytest.mark.parametrize("name", DOCUMENTS)
def test_rendered_bytes_are_drfs(name):
    rendered = SCIMRenderer().render(DOCUMENTS[name], SCIM_JSON, {})

    assert rendered == _drf(DOCUMENTS[name])


@pytest.mark.parametrize("name", DOCUMENTS)
def test_without_orjson_the_bytes_are_the_same(monkeypatch, name):
    monkeypatch.setattr(renderers, "orjson", None)

    assert SCIMRenderer().render(DOCUMENTS[name], SCIM_JSON, {}) == _drf(DOCUMENTS[name])


def test_a_small_float_is_the_same_number():
    # The one difference in bytes: a float written with an exponent may be spelled
    # differently (orjson 1e-7, the standard library 1e-07). JSON reads both alike.
    document = {"tiny": 1e-7, "huge": 1.5e300, "third": 1 / 3}

    assert json.loads(SCIMRenderer().render(document, SCIM_JSON, {})) == document


def test_orjson_renders_when_installed(monkeypatch):
    orjson = pytest.importorskip("orjson")
    calls = []

    def counted(*args, **kwargs):
        calls.append(args[0])
        return orjson.dumps(*args, **kwargs)

    monkeypatch.setattr(renderers, "orjson", type("Spy", (), {**vars(orjson), "dumps": counted}))

    rendered = SCIMRenderer().render(DOCUMENTS["text"], SCIM_JSON, {})

    assert calls == [DOCUMENTS["text"]]
    assert b"\\u2028" in rendered and b"\\u2029" in rendered
    assert "Zoë".encode() in rendered  # UTF-8, not \\u escapes


def test_an_indent_asked_for_is_honoured():
    rendered = SCIMRenderer().render(DOCUMENTS["nested"], f"{SCIM_JSON}; indent=2", {})

    assert rendered == _drf(DOCUMENTS["nested"], f"{SCIM_JSON}; indent=2")
    assert b"\n  " in rendered


def test_a_lone_surrogate_is_refused_as_before():
    # Never in a document (storable_text refuses it on the way in); were it there,
    # the response fails as DRF's renderer fails, rather than writing invalid UTF-8.
    with pytest.raises(UnicodeEncodeError):
        _drf({"v": "\ud800"})
    with pytest.raises(UnicodeEncodeError):
        SCIMRenderer().render({"v": "\ud800"}, SCIM_JSON, {})


def test_a_served_user_is_drfs_bytes(idp):
    body = load_payload("okta/create_user.json")
    body["displayName"] = "Zoë\u2028Ñúñez 😀"
    created = idp.post("/Users", body)
    assert created.status_code == 201, created.content

    response = idp.get(f"/Users/{created.json()['id']}")

    assert response.status_code == 200
    assert response.content == _drf(json.loads(response.content))
    assert response.json()["displayName"] == "Zoë\u2028Ñúñez 😀"
    assert b"Zo\xc3\xab\\u2028" in response.content


def test_a_served_page_is_drfs_bytes(idp, provision):
    for n in range(3):
        provision(f"person{n}@acme.com")

    response = idp.get("/Users", {"count": "2"})

    assert response.status_code == 200
    assert len(response.json()["Resources"]) == 2
    assert response.content == _drf(json.loads(response.content))


# --- the base URL, reversed once per URLconf and script prefix ----------------------


def test_the_base_url_follows_the_script_prefix():
    request = RequestFactory().get("/")
    try:
        set_script_prefix("/intranet/")
        mounted = scim_base_url(request)
        set_script_prefix("/")
        root = scim_base_url(request)
    finally:
        set_script_prefix("/")

    assert mounted == "http://testserver/intranet/scim/v2"
    assert root == "http://testserver/scim/v2"
