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
	lab lab-test wheelhouse wheelhouse-current wheelhouse-test slides

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
# installs from the wheelhouse with --no-index and imports everything, and the
# student kit, unzipped into an empty folder, installs from it and runs chapter 1.
wheelhouse-test: wheelhouse-current
	WHEELHOUSE_PLATFORM_DIR=$(WHEELHOUSE)/$(PLATFORM) $(BIN)/pytest -q tests/test_wheelhouse.py tests/test_kit.py

# This platform's and this Python's wheels only (cheap once pip's cache holds them).
wheelhouse-current: $(STAMP)
	$(BIN)/python -m tools.wheelhouse $(WHEELHOUSE) --current

# One reveal.js deck per chapter from the book build's executed chapters, into
# _build/html/slides/ with reveal.js copied beside them (no network at run time).
# `make book` ends with it; alone, it rewrites the decks from the last build.
slides: $(STAMP)
	$(BIN)/python -m tools.slides _build/jupyter_execute/notebooks _build/html/slides

# The website: executes every chapter (cached between builds) into _build/html.
# The chapters' kernels start in an IPython profile whose config keeps the kernel
# application's start-up warnings out of the build log (book/_kernel/).
KERNEL_PROFILE := _build/ipython
book: $(STAMP)
	@mkdir -p $(KERNEL_PROFILE)/profile_default
	@cp book/_kernel/ipython_kernel_config.py $(KERNEL_PROFILE)/profile_default/
	IPYTHONDIR=$(CURDIR)/$(KERNEL_PROFILE) $(BIN)/jupyter-book build . $(JB_FLAGS)
	$(MAKE) --no-print-directory slides

# Everything CI checks, in order of cost: lint, helpers, the book (which executes
# each chapter once), the chapters under nbval, student notebooks, the site in a browser.
test: $(STAMP) browser lint unit book notebooks student-test site lab-test wheelhouse-test

lint: $(STAMP)
	$(BIN)/ruff check helpers tests notebooks benchmarks tools book/_ext

unit: $(STAMP)
	$(BIN)/pytest -q tests --ignore=tests/test_site.py --ignore=tests/test_site_links.py \
		--ignore=tests/test_student.py --ignore=tests/test_wheelhouse.py --ignore=tests/test_hosted.py \
		--ignore=tests/test_site_search.py --ignore=tests/test_slides_site.py --ignore=tests/test_lab.py

# nbval executes every chapter; tests/clean_cells.py fails any cell that writes to
# stderr (a TensorFlow log line, a warning), reading the outputs nbval collected.
notebooks: $(STAMP)
	$(BIN)/python -m pytest -q --nbval-lax -p tests.clean_cells notebooks

# The learner copies in student/, and the student kit (copies, helpers wheel, pinned
# requirements, README) as the zip the workshop page links.
student: $(STAMP)
	$(BIN)/python -m tools.student notebooks student
	$(BIN)/python -m tools.kit notebooks student/inside-the-lstm-student.zip

# Regenerates the student copies in a temporary folder and runs each one.
student-test: $(STAMP)
	$(BIN)/pytest -q tests/test_student.py

# The built site in a browser (pages and slide decks); then Colab's path: a fresh venv installs helpers
# from the served site (dependencies from the wheelhouse) and runs chapter 1.
site: wheelhouse-current
	$(BIN)/pytest -q tests/test_site.py tests/test_site_links.py tests/test_site_search.py tests/test_slides_site.py
	WHEELHOUSE_PLATFORM_DIR=$(WHEELHOUSE)/$(PLATFORM) $(BIN)/pytest -q tests/test_hosted.py

# One chapter in JupyterLab, driven by chromium: reads as on the site (test_lab.py).
lab-test: $(STAMP)
	$(BIN)/pytest -q tests/test_lab.py

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
