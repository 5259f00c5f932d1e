# metatx — the commands a newcomer needs. `make test` and `make demo` run
# `make setup` first, so each works as the first command on a fresh machine.

PREFIX ?= /usr/local
SWIFT ?= swift
# The kernels' elementwise loops (GELU, softmax, LayerNorm, AdamW) vectorise for
# the CPU that builds them (AVX-512 here: a tiny forward 7 % faster than with the
# baseline x86-64 SSE2); results are the same bits either way. For a binary that
# must run on other CPUs: make install TARGET_CPU=x86-64
TARGET_CPU ?= native
RELEASE = -c release -Xswiftc -target-cpu -Xswiftc $(TARGET_CPU)

.PHONY: setup build test bench demo accuracy transfer model model-search install clean

## setup: install the Debian packages metatx needs (as root), when missing
setup:
	@Scripts/setup.sh

## build: release build of the metatx command
build: setup
	$(SWIFT) build $(RELEASE) --product metatx

## test: the whole test suite, optimised (numerical tests are slow in debug builds);
## the scripts' standard-library Python tests first
test: setup
	python3 -m unittest discover -s Scripts/accuracy
	python3 -m unittest discover -s Scripts/transfer
	python3 -m unittest discover -s Scripts/model_search
	$(SWIFT) build $(RELEASE) --build-tests
	$(SWIFT) test $(RELEASE) --skip-build

## bench: encoder throughput against the sgemm limit (and PyTorch, where installed)
bench: setup
	@Scripts/bench_peer_setup.sh || true
	$(SWIFT) run $(RELEASE) metatx-bench

## demo: the main job on the built-in model
demo: build
	@Scripts/demo.sh

## accuracy: the accuracy table (data/accuracy.md) on the datasets of Scripts/datasets.sh;
## options ENCODER=, MODEL=, DATASETS=, EPOCHS=, SEEDS=, THREADS= (see Scripts/accuracy.sh)
accuracy: build
	@[ -d data ] || Scripts/datasets.sh
	@Scripts/accuracy.sh

## transfer: pretrained frozen vs random frozen vs tuned encoder on modalities the
## model was not pretrained on (data/transfer.md); options MODEL= (default
## Models/default.safetensors, from make model), DATASETS=, SEEDS=, EPOCHS=, THREADS=
## (see Scripts/transfer.sh)
transfer: build
	@Scripts/transfer.sh

## model: the built-in default model, by contrastive pretraining on offline paired data
## (Fashion-MNIST captions, espeak-ng spoken digits); writes Models/default.safetensors,
## its training log, its zero-shot and retrieval evaluations (about 26 minutes on 2 cores)
MODEL_EPOCHS ?= 6
MODEL_IMAGES ?= 5000
model: build
	Scripts/datasets.sh --only fashion-mnist,spoken-digits --limit $(MODEL_IMAGES)
	python3 Scripts/datasets/pairs.py data
	cd data/pairs && ../../.build/release/metatx tokenize --train-bpe corpus.txt --vocab-size 1024 -o merges.txt
	Scripts/model.sh --epochs $(MODEL_EPOCHS) \
	  --zero-shot-images fashion-mnist-zero-shot.csv --zero-shot-audio spoken-digits-zero-shot.csv \
	  --retrieval image-text-val.csv --retrieval audio-text-val.csv

## model-search: how the model's recipe was chosen: the recipe and one-change variants
## for the same short budget, zero-shot on held-out training data (data/model-search.md);
## VARIANTS=, EPOCHS= (default 2), THREADS= (see Scripts/model_search.sh)
model-search: build
	@Scripts/model_search.sh

## install: copy the metatx command to $(PREFIX)/bin
install: build
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 .build/release/metatx $(DESTDIR)$(PREFIX)/bin/metatx
	if [ -f Models/default.safetensors ]; then \
	  install -d $(DESTDIR)$(PREFIX)/share/metatx && \
	  install -m 0644 Models/default.safetensors $(DESTDIR)$(PREFIX)/share/metatx/default.safetensors; fi

clean:
	rm -rf .build data/demo data/accuracy-runs data/transfer-runs
