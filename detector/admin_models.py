"""Admin for installed detector models (imported by detector/admin.py)."""
