# Two commands on a fresh machine:
#   make demo   set up, serve the offline fixture web, crawl it, show what was archived
#   make test   set up and run the test suite
# Both install the exact versions in requirements.lock into .venv first.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DATA := data/demo

.PHONY: setup demo test lock clean

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

demo: $(STAMP)
	rm -rf $(DEMO_DATA)
	$(BIN)/python -m tests.fixtureweb run --slow-seconds 8 -- \
	  $(BIN)/scrapy crawl news -a seeds=seeds/fixture-web.toml \
	  -s ARCHIVE_DATA_DIR=$(DEMO_DATA) -s AUTOTHROTTLE_ENABLED=False -s DOWNLOAD_DELAY=0 \
	  -s DOWNLOAD_TIMEOUT=4 -s RETRY_TIMES=0 -s ARCHIVE_CONTACT_URL=http://localhost/demo -s LOG_LEVEL=WARNING
	$(BIN)/newsarchive --data $(DEMO_DATA) summary

test: $(STAMP)
	$(BIN)/ruff check archive crawler tests
	$(BIN)/python -m pytest

# Re-pin requirements.lock to what is installed in .venv (after changing dependencies in pyproject.toml).
lock:
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m pip freeze --exclude-editable --exclude newsarchive > requirements.lock

clean:
	rm -rf $(VENV) data build *.egg-info
