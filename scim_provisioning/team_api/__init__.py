"""The team's own SCIM settings: base URL, tokens and recent requests, for its managers.

Reusable parts for a host's team page: :mod:`.services` (one function per
operation, the same for an HTML page and the API), :mod:`.permissions`,
:mod:`.serializers` and a small JSON API in :mod:`.views`, mounted by the host::

    path("api/teams/<str:team_slug>/scim/", include("scim_provisioning.team_api.urls")),

Who may manage a team's SCIM is the adapter's ``can_manage_scim`` (owners and
admins by default, ``SCIM_PROVISIONING_MANAGER_ROLES``).
"""
