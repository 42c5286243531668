"""The code's syntax trees for the tests that read the code itself, parsed in a child process.

CPython 3.11 keeps the AST constructor's recursion counter per interpreter, not per thread
(python/cpython#106905): ``ast.parse`` in one thread fails with "AST constructor recursion depth
mismatch" when another thread parses at the same moment — and 3.11's traceback printer parses each
line it shows. A server thread still printing an error from an earlier test failed the architecture
test twice in CI, once after a retry. A child process has no other threads: it parses every file
once and sends the trees back pickled (unpickling builds nodes without that counter)."""

from __future__ import annotations

import ast
import functools
import pickle
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "kefu"

_CHILD = """
import ast, pickle, sys
from pathlib import Path
paths = sys.stdin.read().split("\\n")
sys.stdout.buffer.write(pickle.dumps({p: ast.parse(Path(p).read_text("utf-8"), p) for p in paths if p}))
"""


@functools.cache
def _trees() -> dict[str, ast.Module]:
    paths = sorted(str(p) for p in ROOT.rglob("*.py"))
    done = subprocess.run(
        [sys.executable, "-c", _CHILD], input="\n".join(paths).encode(), capture_output=True, check=True, timeout=120
    )
    trees: dict[str, ast.Module] = pickle.loads(done.stdout)  # our own child's output
    return trees


def syntax_tree(path: Path) -> ast.Module:
    """The syntax tree of a file of the ``kefu`` package."""
    return _trees()[str(path.resolve())]
