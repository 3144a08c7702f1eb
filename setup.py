"""The one build step pyproject.toml cannot declare: the wheel carries the starter files
(reputation/starter.py) from where the repository keeps them, in reputation/example/."""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
# The demo config, its rule files and the mentions it reads; MANIFEST.in lists them for sdists.
# The README too: `reputation browse` describes the tables in its words (reputation/browse.py).
STARTER = ("config.yaml", "rules/*.yaml", "data/demo/mentions.jsonl", "README.md")


class BuildWithStarter(build_py):
    """build_py, then the starter files under reputation/example/ (an editable install reads
    them from the checkout instead)."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        target = Path(self.build_lib, "reputation", "example")
        for pattern in STARTER:
            sources = sorted(HERE.glob(pattern))
            if not sources:
                raise FileNotFoundError(f"starter file {pattern} is missing")
            for source in sources:
                destination = target / source.relative_to(HERE)
                self.mkpath(str(destination.parent))
                self.copy_file(str(source), str(destination))


setup(cmdclass={"build_py": BuildWithStarter})
