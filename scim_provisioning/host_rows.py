"""Writing the host's membership rows the host's way, and hearing its refusals.

DESIGN promise 3: the host's rules hold. A queryset ``update()`` skips the
model's ``save()`` and its ``pre_save``/``post_save`` receivers; a queryset
``delete()`` skips the model's ``delete()`` (django-organizations'
``OrganizationUser.delete()`` refuses to delete the owner with
``OwnershipRequired``; its queryset delete cascaded to ``OrganizationOwner``,
issue 22). So rows are saved and deleted one by one, through the model,
unless the shortcut is provably the same for the model: no ``save()`` (or
``delete()``) of its own and no receiver of the signals the shortcut skips.
Then one statement changes them all, as before.

A host's model refuses a change by raising: :func:`refusal_exceptions` are
the exceptions taken as such a refusal (a 409 with the host's message,
recorded for the team's managers, see ``provisioning/refusals.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.db import models
from django.db.models import ProtectedError, RestrictedError
from django.db.models.signals import post_save, pre_save
from django.utils.module_loading import import_string

from .conf import PREFIX, app_settings

#: Refusals every host may raise: a model's ``clean``-style ``ValidationError``, a
#: ``PermissionDenied``, and ``on_delete=PROTECT``/``RESTRICT`` of a row pointing at it.
BUILT_IN_REFUSALS: tuple[type[Exception], ...] = (
    ValidationError,
    PermissionDenied,
    ProtectedError,
    RestrictedError,
)


def refusal_exceptions() -> tuple[type[BaseException], ...]:
    """The exceptions a host's model raises to refuse a membership change.

    :data:`BUILT_IN_REFUSALS` and the classes ``SCIM_PROVISIONING_MEMBERSHIP_GUARD_EXCEPTIONS``
    names by dotted path (``["organizations.exceptions.OwnershipRequired"]``).
    Read live (``override_settings``); check E009 reports a path that imports nothing.
    """
    declared = []
    for path in app_settings.MEMBERSHIP_GUARD_EXCEPTIONS:
        try:
            declared.append(import_string(path))
        except ImportError as missing:
            raise ImproperlyConfigured(
                f"{PREFIX}MEMBERSHIP_GUARD_EXCEPTIONS names {path!r}, which cannot be imported."
            ) from missing
    return (*BUILT_IN_REFUSALS, *declared)


def refusal_message(error: BaseException) -> str:
    """The host's own words for a refusal: a ``ValidationError``'s messages, else ``str()``."""
    if isinstance(error, ValidationError):
        text = " ".join(str(message) for message in error.messages)
    elif isinstance(error, (ProtectedError, RestrictedError)):
        text = str(error.args[0]) if error.args else ""
    else:
        text = str(error)
    return text.strip() or f"The site refused the change ({type(error).__name__})."


def saves_need_the_model(model: type[models.Model], fields: Iterable[str] = ()) -> bool:
    """Whether a queryset ``update()`` of ``fields`` would skip something of the host's.

    No, when the model has no ``save()`` and no save receivers of its own, or
    when the host declares that they have nothing to do with these fields
    (``MEMBERSHIP_BULK_UPDATE_FIELDS``).
    """
    fields = set(fields)
    if fields and fields <= app_settings.MEMBERSHIP_BULK_UPDATE_FIELDS:
        return False
    return (
        model.save is not models.Model.save
        or model.save_base is not models.Model.save_base
        or pre_save.has_listeners(model)
        or post_save.has_listeners(model)
    )


def deletes_need_the_model(model: type[models.Model]) -> bool:
    """Whether a queryset ``delete()`` would skip something of the host's for ``model``.

    Its receivers of ``pre_delete``/``post_delete`` and its cascades run either
    way (the deletion collector sends them for every row); its ``delete()`` only
    when each row is deleted itself.
    """
    return model.delete is not models.Model.delete


def update_rows(rows: models.QuerySet[Any], **values: Any) -> int:
    """Give ``rows`` these field values, through the model when the host's rules ask it.

    Returns how many rows there were. Each row saves only the fields given
    (``update_fields``), so a concurrent change of another field survives.
    """
    if not saves_need_the_model(rows.model, values):
        return rows.update(**values)
    found = list(rows)
    for row in found:
        for name, value in values.items():
            setattr(row, name, value)
        row.save(update_fields=_update_fields(row, values))
    return len(found)


def update_row(row: models.Model, **values: Any) -> None:
    """Give the one membership ``row`` these field values, as :func:`update_rows` does.

    For a row read already (``DefaultAdapter.membership_row``): saved through the
    model when the host's rules ask it, else one ``UPDATE`` of its primary key.
    """
    model = type(row)
    if not saves_need_the_model(model, values):
        model._default_manager.filter(pk=row.pk).update(**values)
        return
    for name, value in values.items():
        setattr(row, name, value)
    row.save(update_fields=_update_fields(row, values))


def delete_row(row: models.Model) -> None:
    """Delete the one membership ``row`` read already, as :func:`delete_rows` does.

    Through the row's ``delete()``: the deletion collector sends the host's
    ``pre_delete``/``post_delete`` and runs its cascades, as a queryset
    ``delete()`` would, and the model's own ``delete()`` runs too.
    """
    row.delete()


def save_fields(rows: Iterable[models.Model], names: Iterable[str]) -> None:
    """Save the field ``names`` of these rows, changed by the caller, one by one."""
    names = list(names)
    for row in rows:
        row.save(update_fields=_update_fields(row, dict.fromkeys(names)))


def delete_rows(rows: models.QuerySet[Any]) -> int:
    """Delete ``rows``, each through the model's ``delete()`` when it has one of its own."""
    if not deletes_need_the_model(rows.model):
        deleted, _ = rows.delete()
        return deleted
    found = list(rows)
    for row in found:
        row.delete()
    return len(found)


def _update_fields(row: models.Model, values: dict[str, Any]) -> list[str]:
    """The concrete field names of ``values`` (a foreign key given by its ``_id`` too)."""
    names = []
    for name in values:
        field = row._meta.get_field(name)
        names.append(field.name)
    return names
