"""reputation: a social-media reputation monitor (public API).

Names are imported on first use, so `import reputation.connectors` (which needs reputation's
records) never drags the whole pipeline in half-initialized.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"  # the one place the version is written: pyproject reads it from here
_EXPORTS = {
    "Alert": "reputation.models",
    "Mention": "reputation.models",
    "Score": "reputation.models",
    "Config": "reputation.config",
    "ConfigError": "reputation.config",
    "load_config": "reputation.config",
    "RunSummary": "reputation.pipeline",
    "run_once": "reputation.pipeline",
    "Store": "reputation.store",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'reputation' has no attribute {name!r}")
