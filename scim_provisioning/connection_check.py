"""Where the connection doctor may call from a web page: ``SCIM_PROVISIONING_BASE_URL``, only.

The "Check connection" buttons (admin SCIM page, guided setup, a host's team page)
used to check the base URL built from the request, that is from its ``Host``
header, which whoever sends the request chooses (``ALLOWED_HOSTS = ["*"]`` lets any
through, and Django checks no port). A team manager posting ``Host:
2130706433:<port>`` made the server send three requests to a host and port of their
choosing, the last with a freshly issued team token, and read back status, latency
and clock (issue 21, item 6). So the target of an outbound check is configuration,
never a request header: the setting when it is set; when it is not, the site does
not know its own address, and the check refuses rather than guess (system check
``scim_provisioning.W003`` says so at start-up).

``manage.py scim_doctor`` follows the same rule for the tokens the site issues
(``--team``): they go only to the configured base URL.
"""

from __future__ import annotations

from typing import Any

from .conf import PREFIX, app_settings
from .doctor import DoctorReport, diagnose

#: What the buttons show when the setting is missing.
NOT_CONFIGURED = (
    f"Check connection calls only {PREFIX}BASE_URL, and this site has not set it. "
    "Without it the address would come from this request's Host header, which the "
    f'sender chooses. The site\'s operator sets {PREFIX}BASE_URL = "https://<site>/scim/v2" '
    "(the URL the IdP uses)."
)


class BaseURLNotConfigured(Exception):
    """``SCIM_PROVISIONING_BASE_URL`` is not set, so no outbound check may run."""


def configured_base_url() -> str:
    """``SCIM_PROVISIONING_BASE_URL``; raises :class:`BaseURLNotConfigured` when unset."""
    url = app_settings.BASE_URL
    if not url:
        raise BaseURLNotConfigured(NOT_CONFIGURED)
    return url


def check_connection(team: Any, *, created_by: Any, with_token: bool) -> DoctorReport:
    """Run the doctor on the configured base URL for ``team``'s "Check connection" button.

    ``with_token``: issue a throwaway token for the location check and the round trip
    (the caller decides: SCIM on, and the person may issue tokens). Raises
    :class:`BaseURLNotConfigured` before any request is sent or token issued.
    """
    return diagnose(configured_base_url(), team=team if with_token else None, created_by=created_by)
