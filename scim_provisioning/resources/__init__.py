"""SCIM representations of the app's records: to and from SCIM JSON."""
