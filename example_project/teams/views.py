from django.shortcuts import render

from scim_provisioning.links import scim_base_url as scim_base_url_for

from .models import Team


def home(request):
    """Landing page: the teams of this site and where SCIM lives."""
    teams = Team.objects.all()
    scim_base_url = scim_base_url_for(request)
    return render(request, "teams/home.html", {"teams": teams, "scim_base_url": scim_base_url})
