# The two commands a newcomer needs: `make demo` and `make test`.
# Both build .venv first (Debian packages via apt-get when run as root, then pip).

VENV := .venv
PYTHON := $(VENV)/bin/python

.PHONY: demo test bench venv clean

$(VENV)/.ready: requirements.txt tools/debian-packages tools/bootstrap
	tools/bootstrap

venv: $(VENV)/.ready

demo: $(VENV)/.ready
	$(PYTHON) tools/demo.py

test: $(VENV)/.ready
	$(PYTHON) -m pytest

bench: $(VENV)/.ready
	$(PYTHON) bench/run.py

clean:
	rm -rf $(VENV) .demo .pytest_cache .hypothesis
