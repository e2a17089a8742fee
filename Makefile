# The two commands a newcomer needs: `make demo` and `make test`.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint format bench clean vendor dist

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e ".[test]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/backchannel demo

# A wheel to install anywhere (pip or pipx): dist/backchannel-<version>-py3-none-any.whl
dist: $(STAMP)
	$(BIN)/pip wheel --no-deps --quiet --disable-pip-version-check -w dist .

# axe-core for the accessibility tests, as package-lock.json pins it.
node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

test: $(STAMP) node_modules/.package-lock.json
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# PostgreSQL rows too when BACKCHANNEL_BENCH_DATABASE_URL is set (its schema is wiped);
# options through BENCH_ARGS, e.g. make bench BENCH_ARGS="--quick".
bench: $(STAMP)
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

# The studio's front-end files, copied from npm (as package-lock.json pins them) with
# their licences; tests/test_vendored.py checks the copies match.
vendor: node_modules/.package-lock.json
	cp node_modules/sortablejs/Sortable.min.js templates/studio/static/vendor/Sortable.min.js
	cp node_modules/sortablejs/LICENSE templates/studio/static/vendor/Sortable.LICENSE

clean:
	rm -rf $(VENV) node_modules demo-site demo-data test-artifacts .pytest_cache .ruff_cache
