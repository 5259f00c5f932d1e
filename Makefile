# metatx — the commands a newcomer needs. `make test` and `make demo` run
# `make setup` first, so each works as the first command on a fresh machine.

PREFIX ?= /usr/local
SWIFT ?= swift
RELEASE = -c release

.PHONY: setup build test bench demo accuracy install clean

## setup: install the Debian packages metatx needs (as root), when missing
setup:
	@Scripts/setup.sh

## build: release build of the metatx command
build: setup
	$(SWIFT) build $(RELEASE) --product metatx

## test: the whole test suite, optimised (numerical tests are slow in debug builds)
test: setup
	$(SWIFT) build $(RELEASE) --build-tests
	$(SWIFT) test $(RELEASE) --skip-build

## bench: encoder throughput against the sgemm limit (and PyTorch, where installed)
bench: setup
	$(SWIFT) run $(RELEASE) metatx-bench

## demo: the main job on the built-in model
demo: build
	@Scripts/demo.sh

## accuracy: the accuracy table (data/accuracy.md) on the datasets of Scripts/datasets.sh;
## options ENCODER=, MODEL=, DATASETS=, EPOCHS=, SEEDS=, THREADS= (see Scripts/accuracy.sh)
accuracy: build
	@[ -d data ] || Scripts/datasets.sh
	@Scripts/accuracy.sh

## install: copy the metatx command to $(PREFIX)/bin
install: build
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 .build/release/metatx $(DESTDIR)$(PREFIX)/bin/metatx

clean:
	rm -rf .build data/demo data/accuracy-runs
