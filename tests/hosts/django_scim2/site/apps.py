from django.apps import AppConfig


class SiteConfig(AppConfig):
    name = "tests.hosts.django_scim2.site"
    label = "ds2host"
    default_auto_field = "django.db.models.BigAutoField"
