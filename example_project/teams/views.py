from django.db.models import Count, Q
from django.shortcuts import render

from .models import Team


def home(request):
    """Landing page: the teams of this site and where SCIM lives."""
    teams = Team.objects.annotate(
        active_members=Count("memberships", filter=Q(memberships__is_active=True))
    )
    scim_base_url = request.build_absolute_uri("/scim/v2")
    return render(request, "teams/home.html", {"teams": teams, "scim_base_url": scim_base_url})
