"""The floor: the least a Django view can do to answer GET /Users/{id}.

One indexed SELECT (the primary key), ``JsonResponse``, and nothing else, in
front of the example site's own URLs so that resolving it costs no more.
"""

from django.http import Http404, JsonResponse
from django.urls import path

from example_project.urls import urlpatterns as example_urlpatterns
from scim_provisioning.models import SCIMUser


def user_row(request, pk):
    rows = SCIMUser.objects.filter(pk=pk).values("id", "user_name", "external_id", "active")
    for row in rows:
        return JsonResponse(row)
    raise Http404


urlpatterns = [path("bare/Users/<uuid:pk>", user_row), *example_urlpatterns]
