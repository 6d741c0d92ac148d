"""Setup (a): the example site, as it ships, on the benchmark's database.

Changed: the database (``BENCH_DATABASE_URL``, persistent connections), DEBUG
off, the per-token rate limit raised so high that it never refuses (its
code still runs on every request, as in production), and the deprovisioning
guard's threshold raised to every active member: the workload deactivates and
deletes hundreds of people an hour, and each still goes through the guard's
count (its ``UPDATE``), as in production.
"""

from example_project.settings import *  # noqa: F403

from .common import bench_databases

DEBUG = False
DATABASES = bench_databases()
SCIM_PROVISIONING_RATE_LIMIT = 1_000_000_000
SCIM_PROVISIONING_DEPROVISION_GUARD = {"percent": 100, "minimum": 1_000_000, "window": "1h"}
