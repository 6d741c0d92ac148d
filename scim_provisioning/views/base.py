"""What every SCIM endpoint shares: token auth, the SCIM media type, SCIM errors."""

from __future__ import annotations

import time
import uuid
from functools import cached_property, lru_cache
from typing import Any, cast

from rest_framework import exceptions as drf_exceptions
from rest_framework.request import Request
from rest_framework.views import APIView

from .. import failed_writes, request_context, request_log
from ..authentication import SCIMClient, SCIMTokenAuthentication, TokenGuard
from ..casefold import get_insensitive
from ..conf import app_settings
from ..exceptions import (
    NotFound,
    NotImplementedSCIM,
    PayloadTooLarge,
    scim_exception_handler,
)
from ..links import scim_base_url
from ..models import SCIMTeamConfig
from ..negotiation import SCIMContentNegotiation
from ..parsers import BoundedJSONParser, SCIMParser
from ..permissions import SCIMEnabledForTeam
from ..preconditions import names_version
from ..renderers import SCIMRenderer
from ..scope import TeamScope
from ..storable_text import refuse_unstorable_url
from ..throttling import SCIMTokenRateThrottle


class SCIMView(APIView):
    """Base view: a request is scoped to its token's team before anything else runs."""

    authentication_classes = [SCIMTokenAuthentication]
    permission_classes = [SCIMEnabledForTeam]
    renderer_classes = [SCIMRenderer]
    parser_classes = [SCIMParser, BoundedJSONParser]
    content_negotiation_class = SCIMContentNegotiation
    throttle_classes: list[Any] = [SCIMTokenRateThrottle]

    def get_exception_handler(self) -> Any:
        return scim_exception_handler

    # DRF makes its authenticators, permissions, parsers, renderers and content
    # negotiator anew for every request. None of these keeps state between calls
    # (the throttle does: it is still made per request), so each view class's are
    # made once and shared by its requests.

    def get_authenticators(self) -> Any:
        return _shared(tuple(self.authentication_classes))

    def get_permissions(self) -> Any:
        return _shared(tuple(self.permission_classes))

    def get_parsers(self) -> Any:
        return _shared(tuple(self.parser_classes))

    def get_renderers(self) -> Any:
        return _shared(tuple(self.renderer_classes))

    def get_content_negotiator(self) -> Any:
        return _shared((self.content_negotiation_class,))[0]

    @property
    def default_response_headers(self) -> dict[str, str]:
        # The methods a view class answers do not change: DRF lists them per response.
        headers = _default_headers.get(type(self))
        if headers is None:
            headers = _default_headers[type(self)] = super().default_response_headers
        return dict(headers)

    #: This request's id, given as it begins: its request-log row and the timeline
    #: entries of its changes carry it. The view instance is the request's own.
    request_id: uuid.UUID | None = None
    _bound_facts: Any = None
    #: The exception the request was answered with, if any (:mod:`.failed_writes`).
    failure: Exception | None = None

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        self.request_id = request_context.new_request_id()
        try:
            response = super().dispatch(request, *args, **kwargs)
            # The write's transaction is over; the facts are still bound (request id, token).
            failed_writes.record_failed_write(self, self.request, response)
        finally:
            if self._bound_facts is not None:
                request_context.unbind(self._bound_facts)
                self._bound_facts = None
        request_log.record_after_response(self.request, response, view=self, started=started)
        return response

    #: Handlers (HTTP methods, lower case) that check a remembered token inside the
    #: query they make anyway, through :attr:`token_guard`; every other handler runs
    #: only after the full token check.
    token_checked_in_query: frozenset[str] = frozenset()

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        length = request.META.get("CONTENT_LENGTH") or "0"
        if length.isdigit() and int(length) > app_settings.MAX_BODY_SIZE:
            raise PayloadTooLarge(
                f"The request body is larger than {app_settings.MAX_BODY_SIZE} bytes."
            )
        super().initial(request, *args, **kwargs)
        refuse_unstorable_url(request)
        if (request.method or "").lower() not in self.token_checked_in_query:
            self.client.verify()
        # The handler's writes record which request and token made them (the timeline).
        assert self.request_id is not None  # given by dispatch()
        token = self.client.token
        self._bound_facts = request_context.bind(
            request_context.RequestFacts(self.request_id, token.pk, token.prefix)
        )

    def handle_exception(self, exc: Exception) -> Any:
        """Any error answered to a token not yet checked in this request is checked first.

        A read that fails before its query (a bad filter, say) must still answer a
        revoked token with a 401, not with what the request got wrong.
        """
        self.failure = exc
        client = getattr(self.request, "_user", None)
        if isinstance(client, SCIMClient) and not client.verified:
            try:
                client.verify()
            except (drf_exceptions.AuthenticationFailed, drf_exceptions.PermissionDenied) as denied:
                exc = denied
        return super().handle_exception(exc)

    @cached_property
    def token_guard(self) -> TokenGuard:
        """Checks this request's token in its own read query (see :class:`TokenGuard`)."""
        return TokenGuard(self.client)

    @property
    def client(self) -> SCIMClient:
        # SCIMTokenAuthentication sets request.user to the token's SCIMClient.
        return cast(SCIMClient, self.request.user)

    @property
    def scope(self) -> TeamScope:
        """The token's team: what a read checking its token in its own query needs."""
        return self.client.scope

    @property
    def config(self) -> SCIMTeamConfig:
        """The team's policy, read with the token (a handler in ``token_checked_in_query``
        has only :attr:`scope` until its read confirmed the token)."""
        config = self.client.config
        assert config is not None  # the token was checked, SCIMEnabledForTeam let it through
        return config

    @cached_property
    def base_url(self) -> str:
        """The absolute SCIM base URL, e.g. ``https://example.com/scim/v2``."""
        return scim_base_url(self.request)

    def query_param(self, name: str) -> str | None:
        """A query parameter, its name matched case-insensitively."""
        if not self.request.META.get("QUERY_STRING"):
            return None  # as most requests: no query string to parse into a QueryDict
        return get_insensitive(self.request.query_params, name)

    def if_none_match(self, etag: str) -> bool:
        """Whether a GET's ``If-None-Match`` names the current version (answer 304)."""
        # From META: request.headers would build a mapping of every header for this one.
        return names_version(self.request.META.get("HTTP_IF_NONE_MATCH"), etag)

    def throttle_cost(self) -> int:
        """How many requests of the token's rate limit this request spends.

        One; a bulk request spends one per operation (RFC 7644 §3.7 operations
        are requests in all but transport).
        """
        return 1


@lru_cache(maxsize=64)
def _shared(classes: tuple[type, ...]) -> tuple[Any, ...]:
    """One instance of each of ``classes``, for every request of the views that name them."""
    return tuple(cls() for cls in classes)


#: ``default_response_headers`` by view class.
_default_headers: dict[type, dict[str, str]] = {}


class NotFoundView(SCIMView):
    """Any path under the base URL that names no endpoint."""

    def _not_found(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        raise NotFound(f"There is no SCIM endpoint at {request.path}.")

    get = post = put = patch = delete = _not_found


class NotImplementedView(SCIMView):
    """RFC 7644 endpoints this server does not offer (``/Me``): a 501."""

    def _not_implemented(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedSCIM(f"{request.path} is not supported by this server.")

    get = post = put = patch = delete = _not_implemented
