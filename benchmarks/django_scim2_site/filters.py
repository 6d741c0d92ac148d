"""django-scim2's user filter, with ``externalId`` mapped (it is not in the default map).

Without this, ``filter=externalId eq "…"`` matches nothing at all.
"""

from django_scim.filters import UserFilterQuery as BaseUserFilterQuery


class UserFilterQuery(BaseUserFilterQuery):
    attr_map = {
        **BaseUserFilterQuery.attr_map,
        ("externalId", None, None): "scim_external_id",
    }
