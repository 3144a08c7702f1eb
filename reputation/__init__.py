"""reputation: a social-media reputation monitor (public API)."""

from reputation.config import Config, ConfigError, load_config
from reputation.models import Alert, Mention, Score
from reputation.pipeline import RunSummary, run_once
from reputation.store import Store

__all__ = [
    "Alert",
    "Config",
    "ConfigError",
    "Mention",
    "RunSummary",
    "Score",
    "Store",
    "load_config",
    "run_once",
]
__version__ = "0.1.0"
