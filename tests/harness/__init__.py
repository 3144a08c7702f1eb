"""Per-connector harnesses for the contract test (tests/test_connector_contract.py).

Each connector type `T` has a module `tests/harness/T.py` defining `HARNESS`, an object with:

- `type`: the connector type;
- `env`: fake credentials, by variable name: the environment the connector is given;
- `http`: False for connectors with no remote API (the fault tests skip those);
- `options(base_url, tmp_path) -> dict`: the config entry (with `type`) that points every URL
  the connector calls at `base_url`;
- `serve(server)`: install handlers on the pytest-httpserver `server` that answer like the real
  API's documented payloads: pagination where it pages, at least two mentions of "Acme Air",
  one post that only matches the exclusion "acme air fryer", and, where the platform has
  authors, one post by the brand's own account "@acmeair".
"""

from __future__ import annotations

import importlib
from typing import Any

from reputation.validate import Checker


def harness(kind: str) -> Any:
    """The HARNESS of connector type `kind`."""
    return importlib.import_module(f"tests.harness.{kind}").HARNESS


def checked_connector(
    cls: Any, raw: dict[str, Any], brands: list[Any] | None = None,
    env: dict[str, str] | None = None, name: str | None = None,
) -> Any:  # fmt: skip
    """A connector of class `cls` whose options went through the same checks as a config's
    (OPTIONS, then `check_options`), for the workspace brand (Acme Air) unless `brands` are
    given, with the harness's fake secrets unless `env` is given."""
    from tests.conftest import ACME

    brands = brands or [ACME]
    check = Checker()
    options = check.fields(raw, cls.OPTIONS, cls.type)
    if options is not None and hasattr(cls, "check_options"):
        cls.check_options(options, cls.type, check, brands)
    check.raise_if_errors()
    return cls(name or cls.type, options, brands, harness(cls.type).env if env is None else env)


def fetch_batches(connector: Any, cursor: str | None = None, scope: str = "Acme Air") -> list:
    """Every batch one fetch yields at NOW, from `cursor` saved for `scope`."""
    from reputation.connectors import FetchContext
    from tests.conftest import NOW

    return list(
        connector.fetch(FetchContext(now=NOW, cursors={} if cursor is None else {scope: cursor}))
    )
