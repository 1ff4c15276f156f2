"""Write every ```python block of the READMEs to a folder, one module each, for the type checker.

    python scripts/readme_snippets.py OUT_DIR

Snippets are excerpts, so names they take from the surrounding prose (``corpus``, ``index``)
are not errors (mypy runs with ``--disable-error-code name-defined``); everything else in them
must type-check against the packages, e.g. a ``str`` passed where the API takes a ``SecretStr``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def main(out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    count = 0
    for readme in [ROOT / "README.md", *sorted((ROOT / "packages").glob("*/README.md"))]:
        tag = readme.parent.name if readme.parent != ROOT else "root"
        for i, block in enumerate(BLOCK.findall(readme.read_text())):
            line = readme.read_text()[: readme.read_text().index(block)].count("\n") + 1
            name = f"snippet_{tag.replace('-', '_')}_{i}.py"
            (out / name).write_text(f"# {readme.relative_to(ROOT)}:{line}\n{block}")
            count += 1
    print(f"{count} README snippets written to {out}")
    return 0 if count else 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
