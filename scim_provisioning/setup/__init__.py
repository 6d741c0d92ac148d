"""Guided IdP setup for a team's IT admin: pick the IdP, follow its steps with the team's
values filled in, issue a token, and watch for the IdP's first request.

Mount it next to the host's team settings::

    path("teams/<slug:team_slug>/scim/setup/", include("scim_provisioning.setup.urls")),

Who may open it is the adapter's ``can_manage_scim``. Someone without an account (the
customer's IT contact) opens the same page through a setup link
(:mod:`scim_provisioning.setup_links`, mounted from ``setup.link_urls``).
"""
