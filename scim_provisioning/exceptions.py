"""SCIM errors (RFC 7644 §3.12) and the handler that turns every failure into one.

Views raise :class:`SCIMError` (or any DRF ``APIException``); the handler
renders a SCIM Error body with ``status`` as a string and ``scimType`` where
the RFC defines one. Unexpected exceptions become a logged 500, never a
Django HTML page.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404
from rest_framework import exceptions as drf
from rest_framework.response import Response

from .urns import ERROR_SCHEMA

logger = logging.getLogger("scim_provisioning")


class SCIMError(drf.APIException):
    """An error answered to the IdP as a SCIM Error body."""

    status_code = 400
    default_detail = "Bad request."
    scim_type: str | None = None

    def __init__(
        self, detail: str | None = None, *, scim_type: str | None = None, status: int | None = None
    ) -> None:
        super().__init__(detail or self.default_detail)
        if scim_type is not None:
            self.scim_type = scim_type
        if status is not None:
            self.status_code = status


class InvalidFilter(SCIMError):
    scim_type = "invalidFilter"
    default_detail = "The filter is not valid."


class InvalidValue(SCIMError):
    scim_type = "invalidValue"
    default_detail = "A value is not valid."


class InvalidSyntax(SCIMError):
    scim_type = "invalidSyntax"
    default_detail = "The request body could not be parsed."


class InvalidPath(SCIMError):
    scim_type = "invalidPath"
    default_detail = "The path is not valid."


class NoTarget(SCIMError):
    scim_type = "noTarget"
    default_detail = "The path matched nothing."


class Mutability(SCIMError):
    scim_type = "mutability"
    default_detail = "The attribute cannot be changed."


class Uniqueness(SCIMError):
    status_code = 409
    scim_type = "uniqueness"
    default_detail = "A resource with this value already exists."


class Conflict(SCIMError):
    """409 without a ``scimType``: the request conflicts with the team's state, not a value.

    RFC 7644 §3.12 defines no ``scimType`` for it; the detail says what to do.
    """

    status_code = 409
    default_detail = "The request conflicts with the current state of the team."


class Refused(SCIMError):
    """A refusal the team's managers and the host hear of: it outlives the rolled-back write.

    The write that raises it changes nothing; :mod:`~.writes` records the
    refusal once the write's transaction has rolled back (a ``SCIMLinkRefusal``
    row, then the ``user_refused`` signal). ``reason`` is a
    ``SCIMLinkRefusalReason`` value; ``user_name``, ``resource_id`` (the SCIM id,
    when the person has a record already) and ``user_id`` (the host account's
    primary key, when there is an account) say who was refused.
    """

    def __init__(
        self,
        detail: str,
        *,
        team_id: Any,
        email: str,
        reason: str,
        user_name: str = "",
        resource_id: str = "",
        user_id: Any = None,
    ) -> None:
        super().__init__(detail)
        self.team_id = team_id
        self.email = email
        self.reason = reason
        self.user_name = user_name
        self.resource_id = resource_id
        self.user_id = user_id


class LinkRefused(Refused, Uniqueness):
    """409 ``uniqueness``: the address belongs to an existing account the team may not claim.

    RFC 7644 §3.3: a create that "conflicts with existing resources" is a 409
    ``uniqueness``.
    """


class ManagerRefused(Refused, Conflict):
    """409 without a ``scimType``: SCIM would switch a manager the site deactivated back on.

    Reactivating a record (``active`` false to true) conflicts with the team's
    state, not with a value the IdP sent (RFC 7644 §3.12 defines no
    ``scimType`` for that); a team manager decides on the site instead.
    """


class SeatRefused(Refused, InvalidValue):
    """400 ``invalidValue``: the host refused the person a seat (``claim_seat``), with its message.

    A 400, not a 403 or a 409, because of what the IdPs do with each (see
    ``docs/idp/README.md``, "When the site refuses a seat"): Entra ID answers a
    409 to a create by looking for the user it thinks exists and a 403 reads as
    a credentials problem, while every IdP shows a 400's ``detail`` to its
    admin as the reason the person was not provisioned, and retries it later
    (Entra ID by itself, Okta and OneLogin when the admin asks). The same
    status as the other policy refusal an IdP may hit on create, an address
    outside the team's verified domains.
    """


class HostRefused(Refused, Conflict):
    """409: the host's own rules refused a membership change, with the host's message.

    A guard of its membership model (an exception of ``host_rows.refusal_exceptions``
    raised by ``save()``, ``delete()`` or a receiver, as django-organizations'
    ``OwnershipRequired`` for an organization's owner) or the adapter's
    ``may_remove_membership``. A 409 without ``scimType`` (RFC 7644 §3.12): the
    request conflicts with the team's state on the site, which only the site's
    people can change; the IdP's admin reads the message.
    """


class NotFound(SCIMError):
    status_code = 404
    default_detail = "Resource not found."


class PreconditionFailed(SCIMError):
    status_code = 412
    default_detail = "The resource has changed (ETag mismatch)."


class PayloadTooLarge(SCIMError):
    status_code = 413
    default_detail = "The request body is too large."


class ServiceUnavailable(SCIMError):
    """The database is unreachable or busy past its timeout: nothing was written, retry.

    IdPs retry a 5xx later; ``Retry-After`` says when.
    """

    status_code = 503
    wait = 5
    default_detail = "The service is temporarily unavailable; nothing was changed. Retry later."


class NotImplementedSCIM(SCIMError):
    status_code = 501
    default_detail = "Not implemented."


def error_body(status: int, detail: str, scim_type: str | None = None) -> dict[str, Any]:
    """The RFC 7644 Error body."""
    body: dict[str, Any] = {"schemas": [ERROR_SCHEMA], "status": str(status), "detail": detail}
    if scim_type:
        body["scimType"] = scim_type
    return body


def _as_api_exception(exc: Exception) -> drf.APIException | None:
    if isinstance(exc, drf.APIException):
        return exc
    if isinstance(exc, Http404):
        return NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        return drf.PermissionDenied()
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge()
    if isinstance(exc, RecursionError):
        # Every known source is bounded first (the body's and JSON text's depth, the
        # filter's); one still unknown is the request's fault, and changes nothing.
        logger.warning("SCIM request refused: it nests too deeply (%s)", exc)
        return InvalidSyntax("The request nests too deeply to be processed.")
    if isinstance(exc, (OperationalError, InterfaceError)):
        # A lost connection (a restarted or failed-over database, a killed backend)
        # or SQLite busy past its timeout: the request's transaction was rolled back.
        logger.warning("SCIM request failed on the database: %s", exc)
        return ServiceUnavailable()
    return None


def _detail_text(exc: drf.APIException) -> str:
    detail = exc.detail
    if isinstance(detail, (list, tuple)):
        return " ".join(str(d) for d in detail)
    if isinstance(detail, dict):
        return " ".join(f"{k}: {v}" for k, v in detail.items())
    return str(detail)


def scim_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF exception handler: every exception becomes a SCIM Error response."""
    api_exc = _as_api_exception(exc)
    if api_exc is None:
        logger.exception("Unhandled error in a SCIM request", exc_info=exc)
        return Response(error_body(500, "Internal server error."), status=500)

    scim_type = getattr(api_exc, "scim_type", None)
    if isinstance(api_exc, drf.ParseError):
        scim_type = "invalidSyntax"
    if isinstance(api_exc, drf.ValidationError):
        scim_type = scim_type or "invalidValue"
    headers: dict[str, str] = {}
    # Set by DRF's authentication failures and throttles, not declared on APIException.
    auth_header = getattr(api_exc, "auth_header", None)
    if auth_header:
        headers["WWW-Authenticate"] = auth_header
    wait = getattr(api_exc, "wait", None)
    if wait:
        headers["Retry-After"] = str(int(wait))
    view = context.get("view")
    if isinstance(api_exc, drf.MethodNotAllowed) and view is not None:
        headers["Allow"] = ", ".join(view.allowed_methods)
    status = api_exc.status_code
    return Response(
        error_body(status, _detail_text(api_exc), scim_type), status=status, headers=headers
    )
