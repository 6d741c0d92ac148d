"""A small team-management site that hosts scim_provisioning (demo and test bed)."""
