from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "benchmarks.django_scim2_site.accounts"
    label = "ds_accounts"
    default_auto_field = "django.db.models.BigAutoField"
