"""Settings for the benchmark's own processes: the product's, with a worker
that measures each job, and a cache of the run's own."""

import os

from tagmanager_site.settings import *  # noqa: F403

# The worker class counts database queries and reads the work-horse's peak
# memory; everything else a worker does is the product's own.
RQ = {"WORKER_CLASS": "bench.measuring_worker.MeasuringWorker"}

# The run's temporary directory, so that a benchmark never touches the cache
# of an app running from the same checkout.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": os.path.join(os.environ["BENCH_DIR"], "cache"),
    }
}
