# Inside the LSTM: `make book` builds the website, `make test` runs every test.
# Both create the virtual environment in .venv on first use.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
JB_FLAGS := -W -n --keep-going

.PHONY: install book test lint unit notebooks site student student-test bench serve browser clean

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	@touch $(STAMP)

# The website: executes every chapter (cached between builds) into _build/html.
book: $(STAMP)
	$(BIN)/jupyter-book build . $(JB_FLAGS)

# Everything CI checks, in order of cost: lint, helpers, the book (which executes
# each chapter once), the chapters under nbval, student notebooks, the site in a browser.
test: $(STAMP) browser lint unit book notebooks student-test site

lint: $(STAMP)
	$(BIN)/ruff check helpers tests notebooks benchmarks

unit: $(STAMP)
	$(BIN)/pytest -q tests --ignore=tests/test_site.py --ignore=tests/test_student.py

notebooks: $(STAMP)
	$(BIN)/pytest -q --nbval-lax notebooks

student: $(STAMP)
	$(BIN)/python -m helpers.student notebooks student

# Regenerates the student copies in a temporary folder and runs each one.
student-test: $(STAMP)
	$(BIN)/pytest -q tests/test_student.py

site: $(STAMP)
	$(BIN)/pytest -q tests/test_site.py

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
