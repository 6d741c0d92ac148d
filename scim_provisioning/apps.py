from django.apps import AppConfig


class SCIMProvisioningConfig(AppConfig):
    """Django app config; it only names the app (checks come with the operator issue)."""

    name = "scim_provisioning"
    verbose_name = "SCIM provisioning"
    default_auto_field = "django.db.models.BigAutoField"
