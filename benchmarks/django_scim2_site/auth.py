"""A fixed bearer token, checked the way django-scim2's README suggests: its auth middleware.

django-scim2 leaves authentication to the site ("override
GET_IS_AUTHENTICATED_PREDICATE or subclass AUTH_CHECK_MIDDLEWARE"). This
subclass keeps the package's request and response logging and compares the
``Authorization`` header with one token from the settings: no database query,
the cheapest authentication there is.
"""

import hmac

from django.conf import settings
from django.http import HttpResponse
from django_scim.middleware import SCIMAuthCheckMiddleware
from django_scim.settings import scim_settings


class BearerTokenAuthCheckMiddleware(SCIMAuthCheckMiddleware):
    def process_request(self, request):
        if self.should_log_request(request):
            self.log_request(request)
        scheme, _, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        expected = settings.SCIM_BEARER_TOKEN.encode()
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.encode(), expected):
            response = HttpResponse(status=401)
            response["WWW-Authenticate"] = scim_settings.WWW_AUTHENTICATE_HEADER
            return response
        return None
