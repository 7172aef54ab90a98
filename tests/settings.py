"""Settings for the test suite only: the application's settings with a fast password hasher.

PBKDF2 is slow on purpose (hundreds of thousands of rounds per password). Every test creates
people, so with it the suite spends most of its time hashing. MD5 is never acceptable outside
tests: `test_settings.py` checks that the settings a person runs keep PBKDF2.
"""

from incident_manager.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# A commit on PostgreSQL need not wait for its write-ahead log to reach the disk: a test database
# never outlives a crash. (Every transactional test commits and truncates; the clusters, clocks
# and threads of the concurrency tests commit what they claim.) Locks, constraints and
# isolation are unchanged.
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":  # noqa: F405
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c synchronous_commit=off"  # noqa: F405
