# Quick start: `make report` (demo data -> output/), `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: report test lint bench clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

demo_data/.complete: $(STAMP)
	$(BIN)/campaign-report demo-data --out demo_data

report: $(STAMP) demo_data/.complete
	$(BIN)/campaign-report run --config config.toml

test: $(STAMP)
	$(BIN)/ruff check analysis renderers pipeline tests bench
	$(BIN)/mypy analysis renderers pipeline
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python bench/report_time.py

clean:
	rm -rf output demo_data
