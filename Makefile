# Two commands on a fresh machine:
#   make demo   set up, serve the offline fixture web, crawl it, show what was archived
#   make test   set up and run the test suite
# Both install the exact versions in requirements.lock into .venv first.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DATA := data/demo
# pywb (GPL-3.0) and the WACZ/CDXJ reference tools run as separate programs from their own
# virtualenv, never imported: the replay and format tests call them there.
PYWB_VENV := .venv-pywb
PYWB_STAMP := $(PYWB_VENV)/.installed
PYWB_TOOLS := pywb cdxj-indexer wacz
# ReplayWeb.page (AGPL-3.0), the viewer WACZ is made for: its self-contained ui.js and sw.js, pinned by
# version and tarball hash, fetched with `npm pack` (no install, no build) outside git, for the browser
# test that opens the archive in it (tests/archive/web/test_replaywebpage.py).
REPLAYWEB_VERSION := 2.5.3
REPLAYWEB_SHA256 := b7d35c39c4da9b7121c5a393911d8675d4cc6f19513c380191e16b086bea812c
REPLAYWEB_DIR := build/replaywebpage
REPLAYWEB_STAMP := $(REPLAYWEB_DIR)/.version-$(REPLAYWEB_VERSION)

.PHONY: setup pywb replaywebpage browser demo test lock lock-pywb clean bench bench-setup

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

pywb: $(PYWB_STAMP)

$(PYWB_STAMP): requirements-pywb.lock
	$(PYTHON) -m venv $(PYWB_VENV)
	$(PYWB_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(PYWB_VENV)/bin/python -m pip install --quiet -r requirements-pywb.lock
	touch $(PYWB_STAMP)

replaywebpage: $(REPLAYWEB_STAMP)

$(REPLAYWEB_STAMP):
	@command -v npm >/dev/null || { echo "npm is needed to fetch ReplayWeb.page (Debian: apt-get install npm)"; exit 1; }
	rm -rf $(REPLAYWEB_DIR) && mkdir -p $(REPLAYWEB_DIR)
	cd $(REPLAYWEB_DIR) && npm pack --silent replaywebpage@$(REPLAYWEB_VERSION) >/dev/null
	echo "$(REPLAYWEB_SHA256)  $(REPLAYWEB_DIR)/replaywebpage-$(REPLAYWEB_VERSION).tgz" | sha256sum -c --quiet
	tar -xzf $(REPLAYWEB_DIR)/replaywebpage-$(REPLAYWEB_VERSION).tgz -C $(REPLAYWEB_DIR) --strip-components=1 \
	  package/ui.js package/sw.js package/package.json package/LICENSE
	rm $(REPLAYWEB_DIR)/replaywebpage-$(REPLAYWEB_VERSION).tgz
	touch $(REPLAYWEB_STAMP)

demo: $(STAMP)
	rm -rf $(DEMO_DATA)
	$(BIN)/python -m tests.fixtureweb run --slow-seconds 8 -- \
	  $(BIN)/scrapy crawl news -a seeds=seeds/fixture-web.toml \
	  -s ARCHIVE_DATA_DIR=$(DEMO_DATA) -s AUTOTHROTTLE_ENABLED=False -s DOWNLOAD_DELAY=0 \
	  -s DOWNLOAD_TIMEOUT=4 -s RETRY_TIMES=0 -s ARCHIVE_CONTACT_URL=http://localhost/demo -s LOG_LEVEL=WARNING
	$(BIN)/newsarchive --data $(DEMO_DATA) summary

# Debian's chromium and its driver for the browser tests (tests/archive/web/test_browser.py), as root or through sudo.
browser:
	@[ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] || { SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update && $$SUDO apt-get install -y chromium chromium-driver; }

test: $(STAMP) $(PYWB_STAMP) $(REPLAYWEB_STAMP) browser
	$(BIN)/ruff check archive crawler tests
	$(BIN)/python -m pytest

# Benchmarks (bench/README.md): the small suite against its baselines, one table, under 10 minutes on 2 cores.
# Sizes and groups: $(BIN)/python -m bench --help
bench: $(STAMP)
	@command -v wget >/dev/null || echo "wget is missing: the wget baselines will be skipped (make bench-setup installs it)"
	$(BIN)/python -m bench

# wget for the benchmark baselines (Debian/Ubuntu: apt-get, as root or through sudo).
bench-setup: $(STAMP)
	@command -v wget >/dev/null || { SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update && $$SUDO apt-get install -y wget; }
	@wget --version | head -n 1

# Re-pin requirements.lock to what is installed in .venv (after changing dependencies in pyproject.toml).
lock:
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m pip freeze --exclude-editable --exclude newsarchive > requirements.lock

# Re-pin requirements-pywb.lock to the newest releases of the external tools.
lock-pywb:
	$(PYTHON) -m venv $(PYWB_VENV)
	$(PYWB_VENV)/bin/python -m pip install --quiet --upgrade $(PYWB_TOOLS)
	{ sed -n '/^#/p' requirements-pywb.lock; $(PYWB_VENV)/bin/python -m pip freeze; } > requirements-pywb.lock.new
	mv requirements-pywb.lock.new requirements-pywb.lock

clean:
	rm -rf $(VENV) $(PYWB_VENV) data build *.egg-info
