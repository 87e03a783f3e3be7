# Inside the LSTM: `make book` builds the website, `make test` runs every test.
# Both create the virtual environment in .venv on first use.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
JB_FLAGS := -W -n --keep-going
# `make install OFFLINE=1` installs from wheelhouse/<platform>/ (see `make wheelhouse`) with no index.
OFFLINE ?=
WHEELHOUSE := wheelhouse
PLATFORM = $(shell $(PYTHON) -c "import platform as p; print({'Linux': 'linux', 'Darwin': 'macos', 'Windows': 'windows'}.get(p.system(), p.system()) + '-' + {'amd64': 'x86_64'}.get(p.machine().lower(), p.machine().lower()))")

.PHONY: install book test lint unit notebooks site student student-test bench serve browser clean \
	lab wheelhouse wheelhouse-test slides

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
ifeq ($(OFFLINE),)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
else
	$(BIN)/python -m pip install --quiet --no-index --find-links $(WHEELHOUSE)/$(PLATFORM) -r requirements.txt
endif
	@touch $(STAMP)

# The chapters in JupyterLab; jupyterlab-myst renders their MyST markup as the site does.
lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/ $(if $(filter 0,$(shell id -u)),--allow-root)

# Every wheel for Linux x86_64, macOS arm64 and Windows x86_64, Python 3.11 and 3.12 (several GB).
wheelhouse: $(STAMP)
	$(BIN)/python -m tools.wheelhouse $(WHEELHOUSE)

# CI's proof of the offline path, for this platform and Python only: a fresh venv
# installs from the wheelhouse with --no-index and imports everything.
wheelhouse-test: $(STAMP)
	$(BIN)/python -m tools.wheelhouse $(WHEELHOUSE) --current
	WHEELHOUSE_PLATFORM_DIR=$(WHEELHOUSE)/$(PLATFORM) $(BIN)/pytest -q tests/test_wheelhouse.py

# One reveal.js deck per chapter from the book build's executed chapters, into
# _build/html/slides/ with reveal.js copied beside them (no network at run time).
slides: book
	$(BIN)/python -m tools.slides _build/jupyter_execute/notebooks _build/html/slides

# The website: executes every chapter (cached between builds) into _build/html.
book: $(STAMP)
	$(BIN)/jupyter-book build . $(JB_FLAGS)

# Everything CI checks, in order of cost: lint, helpers, the book (which executes
# each chapter once), the chapters under nbval, student notebooks, the site in a browser.
test: $(STAMP) browser lint unit book notebooks student-test site wheelhouse-test

lint: $(STAMP)
	$(BIN)/ruff check helpers tests notebooks benchmarks tools book/_ext

unit: $(STAMP)
	$(BIN)/pytest -q tests --ignore=tests/test_site.py --ignore=tests/test_site_links.py \
		--ignore=tests/test_student.py --ignore=tests/test_wheelhouse.py \
		--ignore=tests/test_site_search.py

# nbval executes every chapter; tests/clean_cells.py fails any cell that writes to
# stderr (a TensorFlow log line, a warning), reading the outputs nbval collected.
notebooks: $(STAMP)
	$(BIN)/python -m pytest -q --nbval-lax -p tests.clean_cells notebooks

student: $(STAMP)
	$(BIN)/python -m tools.student notebooks student student/inside-the-lstm-student.zip

# Regenerates the student copies in a temporary folder and runs each one.
student-test: $(STAMP)
	$(BIN)/pytest -q tests/test_student.py

site: $(STAMP)
	$(BIN)/pytest -q tests/test_site.py tests/test_site_links.py tests/test_site_search.py

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

serve:
	$(BIN)/python -m http.server 8000 --bind 127.0.0.1 --directory _build/html

# Debian's chromium for the browser test; Playwright cannot download browsers here.
browser:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "chromium not found and not root: the browser test will be skipped"; fi

clean:
	rm -rf _build student
