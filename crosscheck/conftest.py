"""Cross-checks against InVEST itself: skipped unless InVEST is installed (scripts/install-invest.sh)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `import crosscheck.…` from any working dir
