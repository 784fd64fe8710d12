"""Which code produced a result: recorded on every Report and every model card."""

from __future__ import annotations

import subprocess
from functools import lru_cache
from pathlib import Path

import ml


@lru_cache(maxsize=1)
def code_version() -> str:
    """ml.__version__, plus the git commit when the code runs from a checkout."""
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=2,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ml.__version__
    return f"{ml.__version__}+g{commit}" if commit else ml.__version__
