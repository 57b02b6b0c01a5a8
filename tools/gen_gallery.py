"""Regenerate the generated-code blocks of docs/gallery.md from real runs.

    python tools/gen_gallery.py           # rewrite docs/gallery.md
    python tools/gen_gallery.py --check   # exit 1 if the page is stale

Each gallery section has a Python block with the user's function and the call
(``grad(f, ...)(args)``), then, a paragraph later, the block of generated code.  This
script writes the first block to a module (after ``import numpy as np`` and ``from
s2sgrad import grad``, so the ``(line N)`` comments match the page's numbering of the
user's code), runs it, and puts the ``.source`` of the last gradient called into the
second block.  Arguments the call needs that the block does not define come from an
HTML comment before the block: ``<!-- setup: inputs = ...; W = ... -->``.
"""
import importlib.util
import os
import re
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGE = os.path.join(ROOT, "docs", "gallery.md")
HEADER = "import numpy as np\nfrom s2sgrad import grad\n\n"

_BLOCK = re.compile(r"```python\n(.*?)```", re.S)
_SETUP = re.compile(r"<!-- setup: (.*?) -->")


def _run(user_code: str, setup: str, index: int) -> str:
    """The generated source for the last grad object called by ``user_code``."""
    if ROOT not in sys.path:
        sys.path.insert(0, ROOT)
    import s2sgrad
    lines = user_code.rstrip("\n").split("\n")
    # the call is the last line; setup goes just before it (the defs keep their lines)
    body = "\n".join(lines[:-1]) + "\n" + (setup.replace("; ", "\n") + "\n" if setup else "")
    body += "_result = " + lines[-1].split("  #")[0] + "\n"
    made = []

    def recording_grad(*args, **kwargs):
        g = s2sgrad.grad(*args, **kwargs)
        made.append(g)
        return g

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "gallery_%d.py" % index)
        with open(path, "w", encoding="utf-8") as f:
            # three lines before the user's code, as in HEADER; grad is the recorder
            f.write("import numpy as np\n# grad: tools/gen_gallery.py\n\n" + body)
        spec = importlib.util.spec_from_file_location("gallery_%d" % index, path)
        module = importlib.util.module_from_spec(spec)
        module.grad = recording_grad
        spec.loader.exec_module(module)
    if not made:
        raise SystemExit("gallery block %d calls no grad: %r" % (index, lines[-1]))
    return made[-1].source


def render(text: str) -> str:
    blocks = list(_BLOCK.finditer(text))
    out, last = [], 0
    k = 0
    while k + 1 < len(blocks):
        user, generated = blocks[k], blocks[k + 1]
        if not re.search(r"^grad\(", user.group(1), re.M):
            k += 1
            continue
        between = text[last:user.start()]
        setup = _SETUP.search(between)
        source = _run(user.group(1), setup.group(1) if setup else "", k)
        out.append(text[last:generated.start()])
        out.append("```python\n" + source.rstrip("\n") + "\n```")
        last = generated.end()
        k += 2
    out.append(text[last:])
    return "".join(out)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    os.environ.setdefault("S2SGRAD_NO_CACHE", "1")
    with open(PAGE, encoding="utf-8") as f:
        current = f.read()
    new = render(current)
    if "--check" in argv:
        if new != current:
            print("docs/gallery.md is stale: run python tools/gen_gallery.py")
            return 1
        return 0
    with open(PAGE, "w", encoding="utf-8") as f:
        f.write(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
