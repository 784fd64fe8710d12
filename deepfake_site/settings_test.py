"""Settings for the test suite: the real PostgreSQL and Redis of the machine.

Each test run gets its own database name, so two runs on one machine never collide.
Set REDIS_URL to a database number of your own when running suites side by side.
"""

import os
import tempfile

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/deepfake")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("CACHE_URL", "redis://127.0.0.1:6379/14")
os.environ.setdefault("MEDIA_ROOT", tempfile.mkdtemp(prefix="deepfake-test-media-"))
os.environ.setdefault("MODELS_ROOT", tempfile.mkdtemp(prefix="deepfake-test-models-"))
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "test-only-key-" + "x" * 50)

from deepfake_site.settings import *

DATABASES["default"]["TEST"] = {"NAME": f"test_deepfake_{os.getpid()}"}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STATIC_ROOT = tempfile.mkdtemp(prefix="deepfake-test-static-")  # WhiteNoise wants it to exist
