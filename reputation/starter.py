"""The starter files: the demo config, its rule files and the demo mentions it reads, as the
repository keeps them (config.yaml, rules/, data/demo/mentions.jsonl).

A wheel carries them in reputation/example/ (setup.py copies them in when it builds); an
editable install or a checkout reads them where they are. `reputation init` copies them into
a folder, and a config that names no `rules:` folder and has no rules/ beside it gets the
shipped rules (decision 49).
"""

from __future__ import annotations

import shutil
from pathlib import Path

CONFIG = "config.yaml"
RULES = "rules"
DEMO_MENTIONS = "data/demo/mentions.jsonl"


def root() -> Path:
    """The folder the starter files are in: reputation/example/ in a wheel, else the checkout."""
    packaged = Path(__file__).with_name("example")
    return packaged if packaged.is_dir() else Path(__file__).resolve().parent.parent


def default_rules() -> Path:
    """The folder of the shipped rule files."""
    return root() / RULES


def files() -> list[str]:
    """Every starter file, as a path relative to root() and to the folder `init` writes."""
    rules = sorted(f"{RULES}/{path.name}" for path in default_rules().glob("*.yaml"))
    return [CONFIG, *rules, DEMO_MENTIONS]


def init(folder: Path) -> list[Path]:
    """Copy the starter files into `folder` and return what was written; write nothing and
    raise FileExistsError (naming them) if any of them is already there."""
    base = root()
    names = files()
    taken = [str(folder / name) for name in names if (folder / name).exists()]
    if taken:
        raise FileExistsError(", ".join(taken))
    written = []
    for name in names:
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(base / name, target)
        written.append(target)
    return written
