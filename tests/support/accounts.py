"""The password of every test user (tests/conftest.py makes the users)."""

PASSWORD = "correct-Horse-battery-42"
