"""What the thin executables call. Run from a git clone by a python outside any venv, they
re-run themselves with the clone's .venv so that `./focusd config/focusd/test.json` works
without activating it; run by a venv's python (.venv-el9 for one), they stay in it."""
import importlib
import os
import sys


def run(module_name):
    venv = os.path.join(os.path.dirname(os.path.realpath(sys.argv[0])), '.venv')
    python = os.path.join(venv, 'bin', 'python')
    if os.path.exists(python) and sys.prefix == sys.base_prefix:
        os.execv(python, [python, sys.argv[0]] + sys.argv[1:])
    sys.exit(importlib.import_module(module_name).main())
