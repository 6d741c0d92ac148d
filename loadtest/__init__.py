"""Load test of the SCIM endpoints under gunicorn on PostgreSQL: ``make loadtest``."""
