"""The environment the bench runs the functions in, set before the package is imported
(Powertools reads it at import time): quiet logs and metrics, no tracing."""

from __future__ import annotations

REGION = "us-east-1"
BASE_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "POSTS_PREFIX": "_posts/",
    "POWERTOOLS_SERVICE_NAME": "blogpub",
    "POWERTOOLS_METRICS_NAMESPACE": "blogpub",
    "POWERTOOLS_TRACE_DISABLED": "true",
    # A log line per post would dominate the time being measured.
    "POWERTOOLS_LOG_LEVEL": "ERROR",
}
