# The two commands a newcomer needs: `make demo` and `make test`.
# Both build .venv first (Debian packages via apt-get when run as root, then pip).

VENV := .venv
PYTHON := $(VENV)/bin/python

.PHONY: demo demo-two-pi test test-el9 bench soak venv clean rpm install

$(VENV)/.ready: requirements.txt tools/debian-packages tools/bootstrap
	tools/bootstrap

venv: $(VENV)/.ready

demo: $(VENV)/.ready
	$(PYTHON) tools/demo.py

# The two-Pi SO2 camera: a master pycamd and a second one with the off-band camera, simulated.
demo-two-pi: $(VENV)/.ready
	$(PYTHON) tools/demo.py --two-pi

test: $(VENV)/.ready
	$(PYTHON) -m pytest

# `make test-el9`: the observatory packages' tests again, on Python 3.9 with the library
# versions of Rocky 9 and EPEL 9 (tools/el9-requirements.txt) in .venv-el9, made by
# tools/el9-venv (which fails, rather than skips, without a Python 3.9). Not part of
# `make test`: with it, CI would outgrow its 10 minutes on 2 cores.
EL9_VENV := .venv-el9
EL9_TESTS := tests/common tests/alpaca tests/focuser tests/chiller tests/camvirt
# The cases in those folders that run pycamd (Python 3.11) or rockit-web (matplotlib,
# Starlette) are not el9 software: left out.
EL9_DESELECT := not pycamd and not web_poller and not remote_camera

$(EL9_VENV)/.ready: tools/el9-requirements.txt tools/el9-venv
	tools/el9-venv

test-el9: $(EL9_VENV)/.ready
	$(EL9_VENV)/bin/python -m pytest -p no:cacheprovider -k '$(EL9_DESELECT)' $(EL9_TESTS)

bench: $(VENV)/.ready
	$(PYTHON) bench/run.py

# `make soak`: every daemon for SOAK_MINUTES (10) under random faults, all at once, beside
# KILL_TRIALS (200) SIGKILLs of a writing pycamd; about SOAK_MINUTES + 2 minutes in all.
SOAK_MINUTES ?= 10
KILL_TRIALS ?= 200
soak: $(VENV)/.ready
	SOAK_MINUTES=$(SOAK_MINUTES) KILL_TRIALS=$(KILL_TRIALS) $(PYTHON) -m bench.soak.run

clean:
	rm -rf $(VENV) $(EL9_VENV) .demo .pytest_cache .hypothesis

# `make rpm`: every package into $(RPM_DIR)/el9 and $(RPM_DIR)/el10, with rpmbuild (Debian:
# apt-get install rpm python3-pip python3-setuptools python3-wheel). Each target has its
# dist tag and its python (el9 3.9, el10 3.12): the python packages are installed from
# wheels into that python's site-packages and require that python's packages. pycam runs
# on Raspberry Pi OS, and rockit-web needs el10's Starlette and uvicorn: el10 only.
RPM_DIR := build/rpm
# Versions are UTC build times, as the reference packages', at Epoch 1 (set in the specs) so
# that every build of ours sorts after every reference build it replaces.
ifndef RPM_VERSION
RPM_VERSION := $(shell date --utc +%Y%m%d%H%M%S)
endif
el9_PYTHON := 3.9
el10_PYTHON := 3.12
el9_SPECS := python3-rockit-common rockit-focuser-multichannel rockit-chiller rockit-camvirt
el10_SPECS := $(el9_SPECS) rockit-pycam rockit-web
rpm_macro = $(or $(shell rpm --eval '%{?$(1)}' 2>/dev/null),$(2))
RPM_DEFINES = --define '_topdir $(abspath $(RPM_DIR))/rpmbuild' \
	--define '_sourcedir $(CURDIR)' \
	--define '_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm' \
	--define 'rockit_version $(RPM_VERSION)' \
	--define '_unitdir $(call rpm_macro,_unitdir,/usr/lib/systemd/system)' \
	--define '_udevrulesdir $(call rpm_macro,_udevrulesdir,/usr/lib/udev/rules.d)' \
	--define '_sysusersdir $(call rpm_macro,_sysusersdir,/usr/lib/sysusers.d)'

# $(call rpm_target,el9): that target's packages into $(RPM_DIR)/el9.
define rpm_target
	@mkdir -p $(RPM_DIR)/$(1)
	@for spec in $($(1)_SPECS); do echo "rpmbuild $(1) $$spec"; rpmbuild -bb --quiet $(RPM_DEFINES) \
		--define '_rpmdir $(abspath $(RPM_DIR))/$(1)' --define 'dist .$(1)' \
		--define 'python3_version $($(1)_PYTHON)' \
		--define 'python3_sitelib /usr/lib/python$($(1)_PYTHON)/site-packages' \
		rpm/$$spec.spec || exit 1; done
endef

rpm:
	$(call rpm_target,el9)
	$(call rpm_target,el10)
	@rm -rf $(RPM_DIR)/rpmbuild
	@ls -1 $(RPM_DIR)/el9 $(RPM_DIR)/el10

# `make install`: for hosts without RPM. The python package and its dependencies go into
# the venv INSTALL_VENV (empty: into the system python's site-packages); the executables
# into $(PREFIX)/bin, with units, sysusers files, completions and config folders. SITE=clasp
# also installs that site's configs, unit drop-ins and udev rules. DESTDIR stages it all.
DESTDIR ?=
PREFIX ?= /usr/local
SYSCONFDIR ?= /etc
INSTALL_VENV ?= /opt/rockit
PYTHON3 ?= python3
EXTRAS ?=
PIP_OPTS ?=
SITE ?=
UNITDIR ?= $(SYSCONFDIR)/systemd/system
SYSUSERSDIR ?= $(SYSCONFDIR)/sysusers.d
UDEVRULESDIR ?= $(SYSCONFDIR)/udev/rules.d
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions

install:
	DESTDIR='$(DESTDIR)' PREFIX='$(PREFIX)' SYSCONFDIR='$(SYSCONFDIR)' INSTALL_VENV='$(INSTALL_VENV)' \
	PYTHON3='$(PYTHON3)' EXTRAS='$(EXTRAS)' PIP_OPTS='$(PIP_OPTS)' SITE='$(SITE)' UNITDIR='$(UNITDIR)' \
	SYSUSERSDIR='$(SYSUSERSDIR)' UDEVRULESDIR='$(UDEVRULESDIR)' COMPLETIONDIR='$(COMPLETIONDIR)' \
	tools/install
