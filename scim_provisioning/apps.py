from django.apps import AppConfig

#: Loggers that write a request's path: the setup link's secret is scrubbed from them.
_REQUEST_LOGGERS = ("django.server", "django.request")


class SCIMProvisioningConfig(AppConfig):
    """Django app config: names the app, registers its system checks, and keeps setup
    link secrets out of Django's request logging."""

    name = "scim_provisioning"
    verbose_name = "SCIM provisioning"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks

        checks.register()
        _scrub_request_loggers()


def _scrub_request_loggers() -> None:
    """Put :class:`~.redaction.ScrubSecretsFilter` on Django's request loggers (once)."""
    import logging

    from .redaction import ScrubSecretsFilter

    for name in _REQUEST_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, ScrubSecretsFilter) for f in logger.filters):
            logger.addFilter(ScrubSecretsFilter())
