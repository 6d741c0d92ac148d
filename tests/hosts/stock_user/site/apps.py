from django.apps import AppConfig


class SiteConfig(AppConfig):
    name = "tests.hosts.stock_user.site"
    label = "stockhost"
    default_auto_field = "django.db.models.BigAutoField"
