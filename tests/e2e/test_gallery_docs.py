"""docs/gallery.md shows generated code from real runs: fail when it is stale."""
import os
import sys

from paths import ROOT  # noqa: E402
sys.path.insert(0, os.path.join(ROOT, "tools"))

import gen_gallery  # noqa: E402


def test_gallery_page_is_up_to_date():
    with open(gen_gallery.PAGE, encoding="utf-8") as f:
        current = f.read()
    assert current == gen_gallery.render(current), (
        "docs/gallery.md is stale: run python tools/gen_gallery.py")
