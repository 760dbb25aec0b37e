# JobForge: `make run` sets everything up and starts the app; `make test` runs every test.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
PORT ?= 8501

.PHONY: run test lint setup worker bench clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.installed $@

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
