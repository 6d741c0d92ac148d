"""The SCIM HTTP endpoints (DRF views)."""
