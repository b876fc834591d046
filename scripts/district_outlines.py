"""Write the demo city's district outlines to web/data/districts.geojson (see dispatch.demo_districts).

Run from the repository: `.venv/bin/python scripts/district_outlines.py`. The output is the same
on every run, so a changed file means changed seeds or city area.
"""

from __future__ import annotations

import json

from dispatch.demo_districts import OUTLINES, outline


def main() -> None:
    OUTLINES.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(outline(), ensure_ascii=False, separators=(",", ":"))
    OUTLINES.write_text(text + "\n", encoding="utf-8")
    print(f"wrote {OUTLINES}")


if __name__ == "__main__":
    main()
