# The commands a person types. `make demo` and `make test` do all their own set-up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
# Every version `make` installs: `make upgrade` refreshes it from pyproject's ranges.
LOCK := requirements/lock.txt
LAYER_REQUIREMENTS := layers/blogpub/requirements.txt
SITE_DIR ?= _site
PORT ?= 8000

.PHONY: help install upgrade demo serve test lint format typecheck template-lint unit golden bench package fidelity clean

help:
	@echo "make demo     build the example site on the embedded local stack into $(SITE_DIR)/"
	@echo "make serve    serve $(SITE_DIR)/ on http://127.0.0.1:$(PORT)/"
	@echo "make test     lint, type-check, validate template.yaml and run every test"
	@echo "make bench    run the benchmarks (bench/README.md)"
	@echo "make golden   regenerate the golden pages after an intended theme change"
	@echo "make fidelity HEXO=path  compare Hexo 7's build of a Hexo folder with blogpub's"
	@echo "make package  sam build (no Docker, no python3.13) and check the layer before a deploy"
	@echo "make upgrade  re-resolve $(LOCK) to the newest versions pyproject.toml allows"

$(STAMP): pyproject.toml $(LOCK) scripts/bootstrap-venv.sh
	PYTHON=$(PYTHON) scripts/bootstrap-venv.sh $(VENV)
	$(BIN)/pip install -q -r $(LOCK)
	$(BIN)/pip install -q --no-deps -e .
	touch $@

install: $(STAMP)

# The lock holds the dev and local extras for Python 3.11; the layer's pins follow it.
upgrade: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --upgrade \
		--output-file $(LOCK)
	$(BIN)/python scripts/pin_layer.py $(LOCK) $(LAYER_REQUIREMENTS)
	$(MAKE) install

demo: $(STAMP)
	rm -rf $(SITE_DIR)
	$(BIN)/blogpub local run examples/posts --out $(SITE_DIR) --report $(SITE_DIR)/report.json
	@echo
	@echo "The site is in $(SITE_DIR)/ (report: $(SITE_DIR)/report.json)."
	@echo "Browse it:  make serve   then open http://127.0.0.1:$(PORT)/"
	@echo "Or run the live stack:  $(BIN)/blogpub local up   (see README: The local stack)"

serve:
	$(PYTHON) -m http.server --bind 127.0.0.1 --directory $(SITE_DIR) $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: $(STAMP)
	$(BIN)/mypy layers/blogpub/blogpub cli/blogpub_cli local/blogpub_local
	for handler in functions/*/app.py; do $(BIN)/mypy $$handler || exit 1; done

template-lint: $(STAMP)
	scripts/lint-template.sh

unit: $(STAMP)
	scripts/install-browser.sh
	$(BIN)/pytest

test: lint typecheck template-lint unit

golden: $(STAMP)
	BLOGPUB_UPDATE_GOLDEN=1 $(BIN)/pytest tests/golden -q

bench: $(STAMP)
	$(BIN)/pip install -q -c $(LOCK) -e '.[dev,bench]'
	$(BIN)/python bench/run.py

# pip in .venv-sam fetches the runtime's wheels (layers/blogpub/Makefile); the check reads them.
package: $(STAMP)
	scripts/sam-venv.sh
	rm -rf .aws-sam/build
	SAM_CLI_TELEMETRY=0 PYTHON=$(CURDIR)/.venv-sam/bin/python .venv-sam/bin/sam build --template template.yaml
	$(BIN)/python scripts/check-package.py .aws-sam/build

# A tool you run, not part of `make test`: needs npm (the Hexo 7 build) and a few minutes.
fidelity: $(STAMP)
	@test -n "$(HEXO)" || { echo "usage: make fidelity HEXO=path/to/hexo-site"; exit 2; }
	$(BIN)/python scripts/hexo-fidelity $(HEXO)

clean:
	rm -rf $(VENV) .venv-sam $(SITE_DIR) .mypy_cache .ruff_cache .pytest_cache .aws-sam
