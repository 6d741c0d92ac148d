"""A DELETE that waited for the person's lock sees what committed meanwhile (issue 27).

A DELETE's locked read asks whether the person is in a group or manages anyone,
and spends those statements only then. On PostgreSQL the answer comes from the
statement's snapshot: a group membership committed while the read waited for
the record's lock is not seen, and the record's DELETE then fails the deferred
foreign key at COMMIT. The write runs again then, asking nothing; a live server,
real transactions, two threads.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import close_old_connections, connections, transaction

from scim_provisioning.models import SCIMGroup, SCIMGroupMembership, SCIMUser
from scim_provisioning.tokens import issue_token

from .live_client import LiveIdPClient

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"


def test_a_delete_waiting_on_a_group_add_removes_the_new_membership_too(live_server, team):
    idp = LiveIdPClient(live_server.url, issue_token(team).plaintext)
    person = idp.post("/Users", {"schemas": [USER], "userName": "ada@acme.com"}).json()
    group = idp.post("/Groups", {"schemas": [GROUP], "displayName": "Engineering"}).json()
    idp.get(f"/Users/{person['id']}")  # the token is remembered: the DELETE checks it in its read
    holding, release = threading.Event(), threading.Event()

    def add_to_the_group() -> None:
        # What a group PATCH adding the person does: lock their record, insert the row.
        try:
            with transaction.atomic():
                SCIMUser.objects.select_for_update(no_key=True).get(pk=person["id"])
                SCIMGroupMembership.objects.create(
                    group=SCIMGroup.objects.get(pk=group["id"]),
                    user_id=person["id"],
                )
                holding.set()
                release.wait(10)
        finally:
            connections.close_all()

    adder = threading.Thread(target=add_to_the_group)
    adder.start()
    assert holding.wait(10)
    answers: list = []
    deleter = threading.Thread(
        target=lambda: answers.append(idp.delete(f"/Users/{person['id']}")), daemon=True
    )
    deleter.start()
    time.sleep(0.5)  # the DELETE's locked read is waiting for the adder's lock
    release.set()
    adder.join(10)
    deleter.join(20)
    close_old_connections()

    assert answers, "the DELETE did not answer"
    assert answers[0].status_code == 204, answers[0].content
    assert not SCIMUser.objects.filter(pk=person["id"]).exists()
    assert not SCIMGroupMembership.objects.filter(user_id=person["id"]).exists()
