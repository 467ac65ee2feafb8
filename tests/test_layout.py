"""The test tree itself: pytest imports test modules by their file name (the test folders are not
packages), so two `test_x.py` in different folders stop a whole run at collection, while a run of
either folder alone passes. A fresh clone's full run found one; this keeps it from coming back."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def test_no_two_test_modules_share_a_file_name() -> None:
    seen: dict[str, list[str]] = defaultdict(list)
    for path in TESTS.rglob("test_*.py"):
        seen[path.name].append(str(path.relative_to(TESTS)))
    clashes = {name: paths for name, paths in seen.items() if len(paths) > 1}
    assert not clashes, f"rename one of each: {clashes}"
