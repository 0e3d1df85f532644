# The README's two set-up commands are `make run` and `make test`; each makes its own venv.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
CORPUS ?= ../shared/corpora/spamassassin
OUT ?= out

.PHONY: run demo test venv lint screenshots bundled-model bench bench-quality bench-speed bench-replay bench-load bench-spamd bench-milter bench-scale bench-stream-train bench-replicas bench-hostile bench-extract bench-bytegrams bench-cold-start bench-mailauth bench-images bench-phishing clean

# Debian's python3 makes venvs only with python3-venv; as root the venv step installs
# it when it is missing, so `make run` and `make test` work on a fresh machine.
$(BIN)/spamsift: pyproject.toml setup.py src/spamsift/_speedups.c
	$(PY) -m venv $(VENV) || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
		&& rm -rf $(VENV) && apt-get update -qq \
		&& DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null \
		&& $(PY) -m venv $(VENV); }
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

venv: $(BIN)/spamsift

# The milter's extra: pymilter compiles against libmilter (Debian's libmilter-dev,
# which scripts/install-deps.sh installs); `make run` does not need it.
MILTER_H := /usr/include/libmilter/mfapi.h
$(VENV)/.milter: $(BIN)/spamsift
	$(BIN)/pip install -q -e '.[milter]'
	touch $@

# Main job on embedded defaults: the REST API on 127.0.0.1:8025 (one worker process per
# core), bundled model, SQLite in data/.
run: venv
	$(BIN)/spamsift serve --host 127.0.0.1 --port 8025 --data-dir data

# Train on the corpus, evaluate, write the report, classify a few messages.
demo: venv
	$(BIN)/spamsift demo --out $(OUT)

# The suite, with what it drives set up first where this machine allows. As root with
# apt-get (Debian): the missing system packages (scripts/install-deps.sh). spamsift's
# optional C extension (setup.py) built again when that brought a compiler the venv was
# made without. The milter extra when libmilter's header and a C compiler are there. A throwaway PostgreSQL when
# Debian's package is installed and SPAMSIFT_TEST_PG_URL is unset (scripts/with-postgres.sh).
# Tests whose tool is still missing skip with a line naming it (fail under CI=true).
test: venv
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then PY=$(PY) scripts/install-deps.sh; \
	else echo "make test: not root on Debian: no system packages installed, tests needing missing ones skip"; fi
	@if ! $(BIN)/python -c 'import spamsift._speedups' 2>/dev/null; then \
		if command -v cc >/dev/null; then $(BIN)/pip install -q --no-deps -e .; \
		else echo "make test: spamsift's C extension not built, no C compiler: apt-get install gcc, or run make test as root"; fi; fi
	@if [ ! -f $(MILTER_H) ]; then echo "make test: milter extra (pymilter) skipped, no $(MILTER_H): apt-get install libmilter-dev, or run make test as root"; \
	elif ! command -v cc >/dev/null; then echo "make test: milter extra (pymilter) skipped, no C compiler: apt-get install gcc, or run make test as root"; \
	else $(MAKE) --no-print-directory $(VENV)/.milter; fi
	scripts/with-postgres.sh $(BIN)/python -m pytest -q

lint: venv
	$(BIN)/pip install -q ruff && $(BIN)/ruff check src tests benchmarks

# README's dashboard screenshots (docs/screenshots/*.png) from a running service and
# headless Chromium (Debian's chromium and chromium-driver); about 3 minutes.
screenshots: venv
	$(BIN)/python scripts/screenshots.py --out docs/screenshots

# Rebuild the default model shipped in src/spamsift/data/ (reproducible: fixed seed, corpus
# index order): trained on the random split's training rows, its metrics measured on the
# test rows (README's model card).
bundled-model: venv
	SPAMSIFT_SITE_EVIDENCE=false $(BIN)/spamsift train --index $(CORPUS)/index.csv --root $(CORPUS) --split-column random_split \
		--model-out src/spamsift/data/default-model --report $(OUT)/bundled-model-report --json

bench: bench-quality bench-speed bench-replay bench-load

bench-quality: venv
	$(BIN)/python benchmarks/quality.py --corpus $(CORPUS)

bench-replay: venv
	$(BIN)/spamsift replay --index $(CORPUS)/index.csv --root $(CORPUS) --split-column temporal_split \
		--out $(OUT)/replay-temporal.csv --report $(OUT)/replay-temporal

bench-speed: venv
	$(BIN)/python benchmarks/speed.py --corpus $(CORPUS)

# `spamsift serve` on loopback under 1, 10 and 100 closed-loop clients, 1 and 2 workers
# (about 3 minutes).
bench-load: venv
	$(BIN)/python benchmarks/load.py --corpus $(CORPUS)

# spamsift spamd beside SpamAssassin's spamd, 10 concurrent spamc clients (needs Debian's
# spamc and spamassassin packages).
bench-spamd: venv
	$(BIN)/python benchmarks/spamd.py --corpus $(CORPUS)

# spamsift milter under 1 and 10 concurrent MTA connections (needs the milter extra).
bench-milter: venv $(VENV)/.milter
	$(BIN)/python benchmarks/milter.py --corpus $(CORPUS)

# What DKIM, ARC and DMARC verification cost per message, against a DNS server on
# loopback (about a minute).
bench-mailauth: venv
	$(BIN)/python benchmarks/mailauth.py

# Hand-written phishing of each kind and its controls through `score`, per kind, by the
# bundled model (bench-quality also runs it on the models it trains; seconds).
bench-phishing: venv
	$(BIN)/python benchmarks/phishing_kinds.py

# The bundled model's recipe on ham from senders it never saw (train on 2002, 2003 ham).
bench-cold-start: venv
	$(BIN)/python benchmarks/cold_start.py --corpus $(CORPUS)

# Barcodes and OCR per generated image (a screenshot of text, a banner, a phone photo, a
# QR code), the OCR engine's cold start, the worst case at the caps and OCR under a
# parse worker's memory cap (about 5 minutes).
bench-images: venv
	$(BIN)/python benchmarks/images.py --corpus $(CORPUS)

# Hostile messages, each class at its worst within the 10 MiB cap: time to answer and
# peak memory through `spamsift classify` and a running `spamsift serve` (about 2 minutes).
bench-hostile: venv
	$(BIN)/python benchmarks/hostile.py --corpus $(CORPUS)

# Attachment extraction: cost per message for ordinary documents, hostile ones (bombs,
# floods, deep nesting) in fresh processes, and on the corpus (about 2 minutes).
bench-extract: venv
	$(BIN)/python benchmarks/extract.py --corpus $(CORPUS)

# `spamsift score` on generated archives of 10k, 100k and 1M messages (peak memory), and
# with --dask on 1 and 2 local workers (msgs/s). About 30 minutes on 2 cores; the archives
# (up to 7 GB) go to a temporary folder (SCALE_TMP to choose it) and are deleted.
bench-scale: venv
	$(BIN)/python benchmarks/scale.py --corpus $(CORPUS) $(if $(SCALE_TMP),--tmp $(SCALE_TMP))

# 1 and 2 `spamsift serve` replicas on one PostgreSQL (SPAMSIFT_TEST_PG_URL, or
# PG_URL=...): 10 clients round-robin, feedback and promotion propagation (about 2 minutes).
bench-replicas: venv
	$(BIN)/python benchmarks/replicas.py --corpus $(CORPUS) $(if $(PG_URL),--database-url $(PG_URL))

# `train --stream`: the seed size on the random split's training rows, streamed against
# batch models on both splits' test rows, and peak memory on 10k and 100k messages (about
# 15 minutes on 2 cores; the generated messages go to a temporary folder, SCALE_TMP).
bench-stream-train: venv
	$(BIN)/python benchmarks/stream_train.py --corpus $(CORPUS) $(if $(SCALE_TMP),--tmp $(SCALE_TMP))

# Byte n-grams (ByteNgrams + LinearSVC) beside the token model and their mean: 5-fold CV
# on each split's training rows, a time-ordered check, speed against parse (about 25
# minutes on 2 cores; featurised matrices cached in the system temp dir).
bench-bytegrams: venv
	$(BIN)/python benchmarks/bytegrams_cv.py --corpus $(CORPUS)

clean:
	rm -rf $(VENV) $(OUT) build dist src/*.egg-info
