"""Setup (c), the floor: one view, one indexed SELECT, JSON out, the example's middleware."""

from .example import *  # noqa: F403

ROOT_URLCONF = "benchmarks.sites.bare_urls"
