from django.apps import AppConfig


class SCIMProvisioningConfig(AppConfig):
    """Django app config: names the app and registers its system checks."""

    name = "scim_provisioning"
    verbose_name = "SCIM provisioning"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks

        checks.register()
