"""What provisioning means: SCIM documents applied to records, accounts, seats and groups.

The views call these functions inside one transaction per request, so a
request that fails changes nothing. The team scope arrives first and every
query here is bounded by it.
"""
