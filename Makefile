# GridCare: `make demo` and `make test` work on a fresh machine with Python 3.11, make and npm.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PORT
CHROMIUM ?= /usr/bin/chromium

.PHONY: demo test install assets translations serve bench lock clean-db worker browser spark

$(BIN)/.installed: requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check --no-deps -r requirements.lock
	$(BIN)/pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

install: $(BIN)/.installed

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

assets: node_modules/.installed

translations: install
	$(BIN)/gridcare compile_translations

demo: install assets translations
	$(BIN)/gridcare migrate --noinput -v 0
	$(BIN)/gridcare demo-data --if-empty
	$(BIN)/gridcare serve --port $(PORT)

serve: install assets translations
	$(BIN)/gridcare serve --port $(PORT)

worker: install
	$(BIN)/gridcare db_worker

browser:
	@test -x $(CHROMIUM) || (echo "Installing Debian's chromium for the browser tests" && \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

$(BIN)/.spark-installed: requirements-spark.lock $(BIN)/.installed
	$(BIN)/pip install -q --disable-pip-version-check --no-deps -r requirements-spark.lock
	touch $@

spark: $(BIN)/.spark-installed

test: install assets translations browser spark
	$(BIN)/python -m gridcare.devtools.testrun

bench: install assets translations
	$(BIN)/python -m bench.run $(BENCH)

lock:
	{ echo "# Exact versions installed by 'make' (pip install --no-deps -r requirements.lock)."; \
	  echo "# Regenerate after changing pyproject.toml: make lock"; \
	  { $(BIN)/pip freeze --exclude-editable | grep -v -i -E '^(pyspark|py4j)=='; \
	    $(BIN)/pip freeze --all | grep -E '^(setuptools|wheel)=='; } | sort -f -u; } > requirements.lock.new
	mv requirements.lock.new requirements.lock

clean-db:
	rm -f var/gridcare.sqlite3*
