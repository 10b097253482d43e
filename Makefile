# Quick start: `make report` (demo data -> output/), `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
SRC := campaign_report

.PHONY: report test lint bench clean

# `make report` installs the runtime only; `make test` adds the [test] extra (PySpark, psycopg, linters).
$(STAMP): pyproject.toml
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	touch $(STAMP)

$(TEST_STAMP): $(STAMP)
	$(BIN)/pip install -q -e '.[test]'
	touch $(TEST_STAMP)

demo_data/.complete: $(STAMP)
	$(BIN)/campaign-report demo-data --out demo_data

# The demo's earlier campaigns are read once into output/ first, so that the report shows the campaign history.
output/campaigns.sqlite: demo_data/.complete
	for earlier in demo_data/campaign_*.toml; do $(BIN)/campaign-report run --quiet --config $$earlier || exit 2; done

report: $(STAMP) demo_data/.complete output/campaigns.sqlite
	$(BIN)/campaign-report run --config config.toml

test: $(TEST_STAMP)
	$(BIN)/ruff check $(SRC) tests bench tools
	$(BIN)/mypy $(SRC)
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python bench/scale.py --sizes 20000 200000

clean:
	rm -rf output demo_data
