# JobForge: `make run` sets everything up and starts the app; `make test` runs every test.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
PORT ?= 8501

# Installs come from the lock files (exact versions with their hashes); `make lock` regenerates them.
UV_VERSION ?= 0.13.9
LOCK_ARGS ?=
LOCK_FLAGS := --quiet --universal --python-version 3.11 --generate-hashes --custom-compile-command "make lock"

.PHONY: run test lint setup worker bench clean lock

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.lock | $(VENV)/bin/python
	$(PY) -m pip install --quiet --require-hashes -r requirements.lock
	touch $@

$(VENV)/.dev-installed: requirements.lock requirements-dev.lock | $(VENV)/bin/python
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.lock
	touch $(VENV)/.installed $@

# After editing requirements*.txt: re-resolve, keeping the current pins where they still fit
# (`make lock LOCK_ARGS=--upgrade` moves everything to the newest allowed). The runtime lock is
# constrained by the dev lock, so both install the same version of every shared package.
lock: | $(VENV)/bin/python
	$(PY) -m pip install --quiet "uv==$(UV_VERSION)"
	$(VENV)/bin/uv pip compile $(LOCK_FLAGS) $(LOCK_ARGS) requirements-dev.txt -o requirements-dev.lock
	$(VENV)/bin/uv pip compile $(LOCK_FLAGS) $(LOCK_ARGS) -c requirements-dev.lock requirements.txt -o requirements.lock

setup: $(VENV)/.installed
	$(PY) -m jobforge setup

# Streamlit refuses a larger upload before buffering it only if its cap is JobForge's limit.
run: setup
	$(VENV)/bin/streamlit run app.py --server.port $(PORT) --browser.gatherUsageStats false \
		--server.maxUploadSize $$($(PY) -c 'from jobforge.config import get_settings; print(get_settings().max_upload_mb)')

worker: setup
	$(PY) -m jobforge worker

test: $(VENV)/.dev-installed
	$(PY) -m ruff check .
	$(PY) -m pytest

lint: $(VENV)/.dev-installed
	$(PY) -m ruff check .

# Each benchmark prints its figures; record them in bench/RESULTS.md with the command.
bench: $(VENV)/.dev-installed
	$(PY) bench/onet_load.py
	$(PY) bench/offline_speed.py
	$(PY) bench/accuracy.py
	$(PY) bench/llm_agent.py
	$(PY) bench/upload_review.py
	$(PY) bench/review_page.py
	$(PY) bench/imputation.py
	$(PY) bench/hostile_uploads.py

clean:
	rm -rf $(VENV) .pytest_cache
