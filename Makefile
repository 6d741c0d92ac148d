# Developer entry points. Each target installs what it needs first.
#   make demo   - example site on SQLite with two SCIM-enabled teams and their tokens
#   make test   - the test suite on every core (SQLite by default; PostgreSQL when DATABASE_URL says so)
#   make docs   - the reference site from docs/ (mkdocs build --strict, into site/)
#   make matrix - the whole suite on the newest and lowest pairs, a smoke subset between (noxfile.py)
#   make bench  - the IdP workload against django-scim2 and a bare view (see benchmarks/README.md)
#   make dist   - build the sdist and wheel into dist/ and check them with twine
#   make wheel-smoke - install the built wheel into a fresh virtualenv and run an IdP conversation
#   make mutation - mutmut over the security- and data-critical modules (see docs/mutation-testing.md)

VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
PYTEST_ARGS ?=
# pytest-xdist workers for make test: auto is one per core; 0 runs the suite in this process.
TEST_JOBS ?= auto
NOX_ARGS ?=
LOADTEST_ARGS ?=
BENCH_ARGS ?=
MUTATION_JOBS ?= 2
MUTATION_ARGS ?=
DEMO_DB := example_project/db.sqlite3
# The wheel smoke's throwaway virtualenv: only the wheel and what it depends on.
SMOKE_VENV ?= .smoke-venv

.DEFAULT_GOAL := help
.PHONY: help install demo test docs matrix loadtest bench mutation lint format migrations-check dist wheel-smoke update-axe clean

help:
	@echo "make demo              run the example site with SCIM enabled for two teams"
	@echo "make test              run the tests on every core (TEST_JOBS=0: one process; PYTEST_ARGS=..., DATABASE_URL=postgres://... optional)"
	@echo "make docs              build the docs site from docs/ into site/ (mkdocs build --strict)"
	@echo "make matrix            the whole suite on the newest and the lowest pairs, a smoke subset on the others (NOX_ARGS=...)"
	@echo "make loadtest          gunicorn (4 sync, then 2x8 gthread) on PostgreSQL, 60 s IdP load each"
	@echo "make bench             this project vs django-scim2 vs a bare view, SQLite + PostgreSQL (BENCH_ARGS=--quick)"
	@echo "make mutation          mutmut on tokens, auth, adapters, provisioning, PATCH, filters, compiled reads, hostile text, scope (~3 h; MUTATION_JOBS=2)"
	@echo "make lint              ruff check + ruff format --check + mypy (the package)"
	@echo "make format            ruff format + ruff check --fix"
	@echo "make migrations-check  fail if a model change lacks a migration"
	@echo "make dist              build the sdist and wheel (dist/) and run twine check on them"
	@echo "make wheel-smoke       the built wheel in a fresh virtualenv: a minimal host and an IdP conversation"
	@echo "make clean             remove the virtualenv and the demo database"

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e '.[dev,django-scim2]'
	touch $@

install: $(VENV)/.installed

$(VENV)/.loadtest-installed: $(VENV)/.installed
	$(BIN)/python -m pip install -e '.[dev,django-scim2,loadtest]'
	touch $@

# Twice: sync workers, then threaded (gthread) workers sharing each process's objects.
loadtest: $(VENV)/.loadtest-installed
	$(BIN)/python loadtest/run.py --worker-class sync --workers 4 $(LOADTEST_ARGS)
	$(BIN)/python loadtest/run.py --worker-class gthread --workers 2 --threads 8 $(LOADTEST_ARGS)

demo: $(VENV)/.installed
	VENV=$(VENV) bash scripts/demo.sh

# Populated databases are built once (benchmarks/.data/, bench_* on BENCH_POSTGRES_URL) and reused.
bench: $(VENV)/.installed
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

# DATABASE_URL (if set) is inherited from the environment. Workers are handed the tests in
# collection order (fixed: no random order) and steal from each other at the end (worksteal);
# each has its own test database. TEST_JOBS=0 reruns in one process (docs/contributing.md).
test: $(VENV)/.installed
	$(BIN)/python -m pytest -n $(TEST_JOBS) --dist worksteal $(PYTEST_ARGS)

$(VENV)/.docs-installed: $(VENV)/.installed
	$(BIN)/python -m pip install -e '.[dev,django-scim2,docs]'
	touch $@

# --strict: a link to a missing page or heading, or a page left out of the nav, fails the build.
docs: $(VENV)/.docs-installed
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

# nox builds one virtualenv per session under .nox/, from pyenv's interpreters.
$(VENV)/.nox-installed: $(VENV)/.installed
	$(BIN)/python -m pip install 'nox>=2026.10'
	touch $@

matrix: $(VENV)/.nox-installed
	$(BIN)/nox $(NOX_ARGS)

$(VENV)/.mutation-installed: $(VENV)/.installed
	$(BIN)/python -m pip install -e '.[dev,mutation]'
	touch $@

# Configured in pyproject.toml ([tool.mutmut]). Starts afresh each time (mutants/ is a
# scratch copy of the package); prints the surviving mutants, then the counts.
# MUTATION_ARGS='scim_provisioning.tokens.*' runs only the mutants matching a pattern.
# SQLite in memory: the parallel workers must not share the tests' database file.
mutation: $(VENV)/.mutation-installed
	rm -rf mutants
	env -u DATABASE_URL SCIM_TEST_SQLITE_NAME=:memory: \
		$(BIN)/mutmut run --max-children $(MUTATION_JOBS) $(MUTATION_ARGS)
	$(BIN)/mutmut results
	$(BIN)/mutmut export-cicd-stats
	@cat mutants/mutmut-cicd-stats.json; echo

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(VENV)/.installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

migrations-check: $(VENV)/.installed
	$(BIN)/python manage.py makemigrations --check --dry-run

# An isolated build (pip fetches the build backend named in pyproject.toml), then
# twine's metadata and README checks, as PyPI would run them on upload.
dist: $(VENV)/.installed
	rm -rf dist
	$(BIN)/python -m build --outdir dist .
	$(BIN)/twine check --strict dist/*

# Not editable, not the dev virtualenv: what `pip install django-scim-provisioning` gives.
wheel-smoke: dist
	rm -rf $(SMOKE_VENV)
	$(PYTHON) -m venv $(SMOKE_VENV)
	$(SMOKE_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SMOKE_VENV)/bin/python -m pip install --quiet dist/*.whl
	$(SMOKE_VENV)/bin/python -m pip check
	$(SMOKE_VENV)/bin/python scripts/wheel_smoke.py
	$(SMOKE_VENV)/bin/python -m pip install --quiet 'django-organizations>=2.5'
	$(SMOKE_VENV)/bin/python -m pip check
	$(SMOKE_VENV)/bin/python scripts/wheel_smoke.py organizations

# axe-core for the browser tests is vendored (tests/vendor/axe-core: no Node needed to test).
AXE_VERSION ?= 4.14.1
update-axe:
	rm -rf .axe-pack && mkdir .axe-pack
	cd .axe-pack && npm pack axe-core@$(AXE_VERSION) && tar xzf axe-core-$(AXE_VERSION).tgz && sha256sum axe-core-$(AXE_VERSION).tgz
	cp .axe-pack/package/axe.min.js .axe-pack/package/LICENSE .axe-pack/package/LICENSE-3RD-PARTY.txt tests/vendor/axe-core/
	rm -rf .axe-pack

clean:
	rm -rf $(VENV) $(SMOKE_VENV) $(DEMO_DB) dist build site
