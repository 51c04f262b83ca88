# The two commands of the README: `make run` and `make test`. Each creates the virtual environment on first use.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: run test system-deps bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	rm -f $(VENV)/.installed-* && touch $@

# OpenSSH (client and server, for the SFTP tests), poppler (PDF → PNG) and strace (the parser opens no file a
# hostile DOCTYPE names), from Debian, when missing.
system-deps:
	@missing=""; \
	for c in sshd:openssh-server sftp:openssh-client pdftoppm:poppler-utils sshpass:sshpass strace:strace; do \
	  command -v $${c%%:*} >/dev/null 2>&1 || [ -x /usr/sbin/$${c%%:*} ] || missing="$$missing $${c##*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing$$missing"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "missing system packages:$$missing (the tests that need them are skipped)"; fi; \
	fi

# Initialise the working folders and database, load the demo data, run the gateway in the foreground.
run: $(STAMP)
	$(BIN)/gateway init
	$(BIN)/gateway demo-data
	$(BIN)/gateway run

# The whole test suite (SQLite; set GATEWAY_TEST_DATABASE_URL=postgresql://... for PostgreSQL).
test: $(STAMP) system-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP) system-deps
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) gateway.db gateway.db-wal gateway.db-shm build *.egg-info
