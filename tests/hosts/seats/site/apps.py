from django.apps import AppConfig


class SiteConfig(AppConfig):
    name = "tests.hosts.seats.site"
    label = "seathost"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (connects the audit receivers)
