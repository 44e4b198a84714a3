"""What the thin executables call. Run from a git clone, they re-run themselves with the
clone's .venv so that `./focusd config/focusd/test.json` works without activating it."""
import importlib
import os
import sys
from pathlib import Path


def run(module_name):
    here = Path(sys.argv[0]).resolve().parent
    venv = here / '.venv'
    if (venv / 'bin' / 'python').exists() and Path(sys.prefix).resolve() != venv.resolve():
        python = str(venv / 'bin' / 'python')
        os.execv(python, [python, sys.argv[0]] + sys.argv[1:])
    sys.exit(importlib.import_module(module_name).main())
