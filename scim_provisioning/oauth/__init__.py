"""The OAuth 2.0 authorization server a team's IdP gets its access tokens from (RFC 6749).

Entra ID's provisioning offers the client credentials grant (§4.4); Okta's SCIM
integrations offer the authorization code grant (§4.1) with refresh tokens (§6).
Both then send the access token as a bearer, so an access token *is* a team
token (:class:`~scim_provisioning.models.SCIMToken` tied to its client): the one
check path of :mod:`scim_provisioning.authentication` applies to it unchanged,
digest only, expiry and revocation on the next request included.

Written here rather than on django-oauth-toolkit: the toolkit stores access and
refresh tokens and codes in plaintext (DESIGN promise 2 allows digests only), its
applications belong to users rather than teams, its access tokens would need a
second check path on every SCIM request, and a host that already runs it for its
own clients would share its tables and settings with us. The part needed is
small: three grants, client authentication and one consent page.

* :mod:`.clients`: create, rotate and revoke clients; authenticate them.
* :mod:`.grants`: codes and refresh tokens (single use, digests), access tokens.
* :mod:`.pkce`: RFC 7636 code challenges.
* :mod:`.views`: the token and authorize endpoints.
"""
