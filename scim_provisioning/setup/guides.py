"""The IdP setup guides: one source for ``docs/idp/*.md`` and the guided-setup page.

Each guide is a Django template written in the Markdown subset of
:mod:`.markdown`, under ``templates/scim_provisioning/setup/guides/``. Rendered
with placeholders (:func:`docs_context`) it is the file in ``docs/idp/``
(``manage.py scim_setup_docs`` writes them; a test fails when they drift);
rendered with a team's values (its base URL, a token just issued, its verified
domains) it is the page an IT admin follows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.template import Context
from django.template.loader import get_template
from django.utils.safestring import SafeString, mark_safe

from .markdown import LinkRewriter, inline, to_html

GUIDES_TEMPLATE_DIR = "scim_provisioning/setup/guides"
DOCS_BASE_URL = "https://<your-site>/scim/v2"
DOCS_TOKEN_VALUE = "The team's token, alone"


@dataclass(frozen=True)
class IdentityProviderGuide:
    """One IdP the guided setup offers; ``slug`` names its guide (``<slug>.md``)."""

    slug: str
    name: str
    what_to_create: str
    #: The ``SCIMRequestLog.idp`` value its requests are recognised by (``other``: none).
    log_idp: str


IDPS: tuple[IdentityProviderGuide, ...] = (
    IdentityProviderGuide(
        "onelogin",
        "OneLogin",
        '**SCIM Provisioner with SAML (SCIM v2 Core)** connector (the older "Core Schema" '
        "connector also works)",
        "onelogin",
    ),
    IdentityProviderGuide(
        "okta",
        "Okta",
        "A **custom app built with the App Integration Wizard**, with SCIM provisioning "
        "switched on (not a catalog app)",
        "okta",
    ),
    IdentityProviderGuide(
        "entra-id",
        "Microsoft Entra ID",
        "A **non-gallery enterprise application**, Provisioning Mode **Automatic**",
        "entra",
    ),
    IdentityProviderGuide(
        "jumpcloud",
        "JumpCloud",
        "An **SSO application**, configured on its **Identity Management** tab with SCIM 2.0",
        "jumpcloud",
    ),
    IdentityProviderGuide(
        "google-workspace",
        "Google Workspace",
        "Nothing that works for every site: Google provisions only to apps in its own catalog",
        "other",
    ),
    IdentityProviderGuide(
        "other",
        "Another SCIM 2.0 client",
        "A SCIM 2.0 connection with a bearer token (Rippling, a script, any other tool)",
        "other",
    ),
)


def get_idp(slug: str) -> IdentityProviderGuide | None:
    return next((idp for idp in IDPS if idp.slug == slug), None)


@dataclass(frozen=True)
class Failure:
    """A failed request as an IdP shows it, what it means and what fixes it."""

    status: str
    meaning: str
    fix: str

    @property
    def meaning_html(self) -> SafeString:
        return mark_safe(inline(self.meaning))  # inline() escapes every character of text

    @property
    def fix_html(self) -> SafeString:
        return mark_safe(inline(self.fix))

    @property
    def code(self) -> int | None:
        """The HTTP status this row is about (``None`` for the ``5xx`` row)."""
        head = self.status.split()[0]
        return int(head) if head.isdigit() else None


#: Read by the docs' "Reading failures" table and by the setup page's live status.
FAILURES: tuple[Failure, ...] = (
    Failure(
        "401",
        "The token is wrong, expired or revoked, or has stray characters around it",
        "Issue a new token and paste only the token.",
    ),
    Failure(
        "403",
        "SCIM is not enabled for your team",
        "Ask the site's support to enable SCIM for the team.",
    ),
    Failure(
        "404 on a user",
        "The person's SCIM record no longer exists on the site (deleted there), or the IdP now "
        "uses another team's token",
        "Check the token, then unassign and re-assign the person in the IdP.",
    ),
    Failure(
        "409 `uniqueness`",
        "A user with this `userName` (or a group with this name) already exists in the team",
        "The IdP should match existing people on `userName`. Entra ID and Okta look the person "
        "up and match by themselves; check the matching attribute if it keeps failing.",
    ),
    Failure(
        '409 `uniqueness` "An account with … already exists on this site and its owner has not '
        'verified that address"',
        "The person signed up on the site before, without proving the address; the site will "
        "not hand their account to the IdP",
        "Ask the person to verify their address on the site, or to join the team there; the "
        "next attempt links. The team's SCIM page lists these under *Refused links*.",
    ),
    Failure(
        '409 `uniqueness` "… belongs to a staff account of this site"',
        "Staff accounts are never provisioned by a team",
        "Unassign the person in the IdP, or ask the site's support.",
    ),
    Failure(
        '409 "… the last active member who can manage this team\'s SCIM …"',
        "Deactivating, deleting or demoting this person would leave the team without an owner "
        "or admin",
        "Give another member that role on the site first.",
    ),
    Failure(
        '400 `invalidValue` "… is outside this team\'s verified email domains …"',
        "The email is not in a domain the team may use",
        "Verify the domain on the team's SCIM page ([domain verification]"
        "(../domain-verification.md)), ask the site's support to add it, or fix the person's "
        "email.",
    ),
    Failure(
        '400 `invalidValue` "An email address is required …" / "… is not an email address"',
        "No email was sent, and `userName` is not an email",
        "Map `userName` (or `emails`) to the person's email.",
    ),
    Failure(
        "400 `invalidValue` with the site's own message, on a create or a reactivation",
        "The site refused the person a seat (all the team's seats are taken, say); nothing "
        "was changed",
        "Free a seat (deactivate or unassign someone) or ask the site for more seats, then "
        "retry. The team's SCIM page lists these under *Refused links*.",
    ),
    Failure(
        "400 `invalidFilter`",
        "The IdP searched on an attribute or with a syntax the site does not support",
        "Make the IdP match on `userName`.",
    ),
    Failure("412", "Someone changed the user meanwhile", "Retry; IdPs retry on their next run."),
    Failure(
        "429", "Too many requests", "Nothing; the IdP retries. Contact support if it persists."
    ),
    Failure(
        "5xx",
        "A fault on the site",
        "Contact the site's support with the time of the failure (and time zone).",
    ),
)


def failures_for(status: int, error: str = "") -> list[Failure]:
    """The rows of :data:`FAILURES` that may explain a response with ``status``.

    ``error`` is what the request was answered (``scimType: detail``, stored by
    the request log): with it, only the rows of that ``scimType``, and of those
    the ones whose quoted message the site sent, if any; else the rows that
    quote no message (issue 24: four guesses, where the stored error names one).
    """
    if status >= 500:
        return [f for f in FAILURES if f.code is None]
    rows = [f for f in FAILURES if f.code == status]
    if not error:
        return rows
    scim_type, _, detail = error.partition(": ") if ": " in error else ("", "", error)
    if not scim_type.isalpha():
        scim_type, detail = "", error
    typed = [f for f in rows if f"`{scim_type}`" in f.status] if scim_type else []
    rows = typed or [f for f in rows if "`" not in f.status.split('"')[0]] or rows
    quoting = [f for f in rows if _quotes_match(f.status, detail)]
    if quoting:
        return quoting
    return [f for f in rows if '"' not in f.status] or rows


def _quotes_match(status: str, detail: str) -> bool:
    """Whether a quoted message of the row (``"… is not an email address"``) is in ``detail``."""
    quotes = status.split('"')[1::2]
    fragments = [
        piece.strip() for quote in quotes for piece in quote.split("…") if len(piece.strip()) > 3
    ]
    return any(fragment in detail for fragment in fragments)


def docs_context() -> dict[str, Any]:
    """The placeholders ``docs/idp/`` is written with."""
    return {
        "page": False,
        "base_url": DOCS_BASE_URL,
        "token_value": DOCS_TOKEN_VALUE,
        "ready_link": "README.md#what-to-have-ready",
        "domains": [],
        "idps": IDPS,
        "failures": FAILURES,
    }


def render_markdown(name: str, context: dict[str, Any]) -> str:
    """Guide ``name`` (``okta`` or ``README``) as Markdown, with ``context`` filled in.

    Rendered without HTML escaping: this is Markdown; :func:`render_html` escapes.
    """
    template = get_template(f"{GUIDES_TEMPLATE_DIR}/{name}.md")
    # The backend wrapper autoescapes; its Django template renders with our Context.
    text = template.template.render(Context(context, autoescape=False))  # type: ignore[attr-defined]
    return text.strip() + "\n"


def render_html(name: str, context: dict[str, Any], links: LinkRewriter | None = None) -> str:
    """Guide ``name`` as safe HTML for a page, without its title (the page has its own).

    Headings start at ``<h3>``.
    """
    text = render_markdown(name, context)
    if text.startswith("# "):
        text = text.partition("\n")[2]
    return to_html(text, links, heading_offset=1)


def render_section_html(
    name: str, heading: str, context: dict[str, Any], links: LinkRewriter | None = None
) -> str:
    """The ``## heading`` section of guide ``name`` as HTML (empty if it has none)."""
    text = render_markdown(name, context)
    start = text.find(f"\n## {heading}\n")
    if start < 0:
        return ""
    end = text.find("\n## ", start + 1)
    return to_html(text[start : end if end >= 0 else None], links, heading_offset=1)


def docs_files() -> dict[str, str]:
    """``docs/idp/`` as it should be: file name → content."""
    context = docs_context()
    files = {"README.md": render_markdown("README", context)}
    for idp in IDPS:
        files[f"{idp.slug}.md"] = render_markdown(idp.slug, context)
    return files


def write_docs(directory: Path) -> list[str]:
    """Write :func:`docs_files` into ``directory``; the names of the files that changed."""
    changed = []
    directory.mkdir(parents=True, exist_ok=True)
    for name, content in docs_files().items():
        path = directory / name
        if not path.exists() or path.read_text() != content:
            path.write_text(content)
            changed.append(name)
    return changed
