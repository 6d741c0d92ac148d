"""``POST /Bulk`` (RFC 7644 §3.7): many operations in one request, with ``bulkId`` references.

:mod:`.request` reads and bounds the BulkRequest, :mod:`.plan` orders its
operations so that references resolve, :mod:`.runner` runs each one through
the same writes as a single request and builds the BulkResponse.
"""

from .request import BulkRequest, max_operations, read_bulk_request
from .runner import run_bulk

__all__ = ["BulkRequest", "max_operations", "read_bulk_request", "run_bulk"]
