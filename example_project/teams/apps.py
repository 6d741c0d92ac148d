from django.apps import AppConfig


class TeamsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "example_project.teams"
    label = "teams"
    verbose_name = "Teams"

    def ready(self):
        from . import receivers  # noqa: F401  (connects the SCIM signal receivers)
