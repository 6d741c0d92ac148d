"""SCIM 2.0 provisioning for the teams of an existing Django site.

One base URL serves every team; the bearer token says which team a request
belongs to. See the README for installation and docs/ (docs/settings.md) for the reference.
"""

__version__ = "0.1.0"
