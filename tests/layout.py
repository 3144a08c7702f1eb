"""Where the packages' modules live in the repository, named as they are installed."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# Import package -> folder, as pyproject's [tool.setuptools] maps them. reputation/connectors
# is a symlink to connectors/; walking connectors/ itself keeps every module listed once.
PACKAGES = {"reputation": REPO / "reputation", "reputation.connectors": REPO / "connectors"}


def source_modules() -> dict[str, Path]:
    """Every module of ours by its import name (`reputation.connectors.x`), with its file."""
    found: dict[str, Path] = {}
    for package, folder in PACKAGES.items():
        for path in sorted(folder.rglob("*.py")):
            parts = path.relative_to(folder).with_suffix("").parts
            if parts[0] == "connectors" and package == "reputation":
                continue  # the symlink: listed under its own folder
            name = ".".join((package, *parts))
            found[name.removesuffix(".__init__")] = path
    return found
