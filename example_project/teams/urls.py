from django.urls import path

from . import views

app_name = "teams"

urlpatterns = [
    path("", views.my_team, name="mine"),
    path("<slug:slug>/scim/", views.team_scim, name="scim"),
    path("<slug:slug>/scim/people/", views.team_scim_people, name="scim-people"),
]
