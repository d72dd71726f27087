"""Settings for the test suite: the real settings, with a throwaway key and fast hashing."""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-" + "x" * 50)

from oms.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# The test client speaks plain HTTP; production redirects to HTTPS.
SECURE_SSL_REDIRECT = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# One test database per test process: several runs may share a machine and a checkout.
# For SQLite a file, not memory, so that a Celery worker started by a test sees it too.
_db = DATABASES["default"]  # noqa: F405
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db["TEST"] = {"NAME": str(VAR_DIR / f"test-db-{os.getpid()}.sqlite3")}  # noqa: F405
else:
    _db["TEST"] = {"NAME": f"test_{_db['NAME']}_{os.getpid()}"}

# The read replica's alias, a second connection to the same test database (its lag is 0):
# tests of heavy reads switch OMS_READ_REPLICA on and declare both databases.
if "replica" not in DATABASES:  # noqa: F405
    DATABASES["replica"] = {**_db, "TEST": {"MIRROR": "default"}}  # noqa: F405

# Tasks that tests enqueue without starting a worker land here, and are purged at the end.
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_QUEUE", "oms-tests")

# Each test process keeps its own cache (rate limits, throttles), not the shared file cache.
# The coordination cache (core/kick.py) must be shared with the Celery worker a test starts,
# which is given OMS_TEST_COORDINATION by tests/worker.py.
OMS_TEST_COORDINATION = os.environ.get("OMS_TEST_COORDINATION") or f"test-{os.getpid()}"
_coordination = OMS_TEST_COORDINATION
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "coordination": (
        {
            "BACKEND": "core.cache.RedisCache",
            "LOCATION": REDIS_URL,  # noqa: F405
            "KEY_PREFIX": _coordination,
        }
        if REDIS_URL  # noqa: F405
        else {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "coordination" / _coordination),  # noqa: F405
        }
    ),
}
