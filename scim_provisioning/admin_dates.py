"""The admin's moments in the app's one date format (:mod:`scim_provisioning.dates`).

Django's admin writes a ``DateTimeField`` in the locale's ``DATETIME_FORMAT`` ("Dec. 6,
2026, 12:16 p.m."), without the time zone, while the SCIM pages and the timeline
embedded in the admin write ``2026-12-06 12:16:11 UTC``. The admin has no hook for one
field's display, so each date-time field named in the change list or among the read-only
fields is swapped for a callable that formats it the app's way, keeping the column's
title and its ordering.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from .dates import format_moment


class MomentsAdminMixin:
    """Mix into a ``ModelAdmin``: its date-time fields read as the app's pages write them."""

    model: type[models.Model]

    #: The suffix of the admin attribute displaying a date-time field: ``created_moment``.
    SUFFIX = "_moment"

    def _moment(self, name: Any) -> Any:
        """The name of the admin attribute displaying field ``name`` if it is a date-time
        field; else ``name``. A name, not the callable: the admin matches fields by name."""
        if not isinstance(name, str):
            return name
        try:
            field = self.model._meta.get_field(name)
        except Exception:  # a method, a callable's name, a relation path: shown as it is
            return name
        if not isinstance(field, models.DateTimeField):
            return name
        attribute = name + self.SUFFIX
        if attribute not in self.__dict__:
            empty = self.get_empty_value_display()  # type: ignore[attr-defined]

            @admin.display(description=field.verbose_name, ordering=name)
            def display(obj: Any) -> str:
                return format_moment(getattr(obj, name)) or empty

            setattr(self, attribute, display)
        return attribute

    def _moments(self, names: Sequence[Any]) -> list[Any]:
        return [self._moment(name) for name in names]

    def get_list_display(self, request: HttpRequest) -> Any:
        return self._moments(super().get_list_display(request))  # type: ignore[misc]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self._moments(super().get_readonly_fields(request, obj))  # type: ignore[misc]

    def get_exclude(self, request: HttpRequest, obj: Any = None) -> Any:
        # The form must still leave out the read-only fields it no longer sees by name.
        excluded = super().get_exclude(request, obj)  # type: ignore[misc]
        readonly = super().get_readonly_fields(request, obj)  # type: ignore[misc]
        swapped = [name for name in readonly if self._moment(name) != name]
        if not swapped:
            return excluded
        return [*(excluded or ()), *swapped]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = super().get_fields(request, obj)  # type: ignore[misc]
        if obj is not None and not self.has_change_permission(request, obj):  # type: ignore[attr-defined]
            # A view-only page shows every field read-only (and its form has none).
            return self._moments(fields)
        readonly = set(super().get_readonly_fields(request, obj))  # type: ignore[misc]
        return [self._moment(name) if name in readonly else name for name in fields]
