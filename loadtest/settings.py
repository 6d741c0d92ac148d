"""The example project's settings as a deployment runs them, for ``loadtest/run.py``.

The differences from ``example_project.settings`` are what a production site
sets: ``DEBUG`` off, persistent database connections, and the cache (which
holds the rate-limit counters) in Redis, shared by the gunicorn workers. The
rate limit stays on, raised far above what one machine can send
(``LOADTEST_RATE_LIMIT``, 100,000 requests per second per token), so every
request pays for the throttle's cache round trips and none is refused by it.
"""

import os

from example_project.settings import *  # noqa: F403
from example_project.settings import DATABASES

DEBUG = False
DATABASES["default"]["CONN_MAX_AGE"] = int(os.environ.get("LOADTEST_CONN_MAX_AGE", "60"))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ.get("LOADTEST_REDIS_URL", "redis://127.0.0.1:6379/14"),
        "KEY_PREFIX": "scim-loadtest",
    }
}
SCIM_PROVISIONING_THROTTLE_CACHE = "default"
SCIM_PROVISIONING_RATE_LIMIT = int(os.environ.get("LOADTEST_RATE_LIMIT", "100000"))
SCIM_PROVISIONING_REQUEST_LOG = True
