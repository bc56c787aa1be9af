# nasrun — common tasks. `make help` lists them.
GO       ?= go
BIN      ?= bin
PKGS     ?= ./...
BENCHTIME ?= 1s

.PHONY: help build test test-amd64 test-purego test-arm bench vet cross evolve evo-vs-random clean

DIST     ?= dist
# Static, stripped binaries: nothing to install on the phone or board.
CROSS_BUILD = CGO_ENABLED=0 $(GO) build -trimpath -ldflags '-s -w'
EVOLVE_FLAGS ?=

QEMU_ARM64 ?= $(shell command -v qemu-aarch64-static || command -v qemu-aarch64)
QEMU_ARM   ?= $(shell command -v qemu-arm-static || command -v qemu-arm)
# Tests under emulation check correctness only: -short skips the end-to-end
# command runs that train networks (the native run covers that logic).
ARM_TEST_FLAGS ?= -count=1 -short -timeout 45m

help: ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

build: ## build the nasrun binary into bin/
	CGO_ENABLED=0 $(GO) build -o $(BIN)/nasrun ./cmd/nasrun

test: vet test-amd64 test-purego test-arm ## the whole suite: vet, every kernel implementation this CPU has, pure Go, arm64 and arm under qemu

test-amd64: ## tests on this machine, every kernel implementation the CPU has
	$(GO) test -count=1 $(PKGS)

test-purego: ## tests with no assembly compiled (asserts that no .s file is built)
	@sfiles="$$($(GO) list -tags purego -f '{{join .SFiles " "}}' $(PKGS))"; \
	  if [ -n "$$(echo $$sfiles)" ]; then echo "-tags purego still compiles assembly: $$sfiles"; exit 1; fi
	$(GO) test -count=1 -tags purego $(PKGS)

test-arm: ## tests for linux/arm64 (NEON) and linux/arm (GOARM=7, pure Go) under qemu user emulation
	@if [ -z "$(QEMU_ARM64)" ] || [ -z "$(QEMU_ARM)" ]; then \
	  echo "test-arm: qemu-user-static is not installed (sudo apt-get install qemu-user-static)"; exit 1; fi
	GOOS=linux GOARCH=arm64 $(GO) test $(ARM_TEST_FLAGS) -exec $(QEMU_ARM64) $(PKGS)
	GOOS=linux GOARCH=arm GOARM=7 $(GO) test $(ARM_TEST_FLAGS) -exec $(QEMU_ARM) $(PKGS)

bench: ## kernel benchmarks over the suite in bench/suite/suite.txt (single thread)
	$(GO) test -run '^$$' -bench . -benchtime $(BENCHTIME) -cpu 1 ./kernels/

vet: ## go vet and gofmt
	$(GO) vet $(PKGS)
	@test -z "$$(gofmt -l .)" || (echo "gofmt would change:"; gofmt -l .; false)

# compare: nasrun against its peers (bench/peers: XNNPACK in C, PyTorch in
# Python, the roofline probe), interleaved, at 1 and 2 threads; prints one
# Markdown table and writes it to bench/results/. Extra flags for
# bench/compare go in COMPARE_FLAGS (e.g. COMPARE_FLAGS='-rounds 3' or '-scale').
PEER_CFLAGS ?= -O2 -Wall
bench/build/bench_xnnpack: bench/peers/xnnpack/bench_xnnpack.c bench/peers/peer.h
	@mkdir -p $(@D)
	$(CC) $(PEER_CFLAGS) -o $@ $< -lXNNPACK -lpthreadpool -lcpuinfo -lm

bench/build/roofline: bench/peers/roofline/roofline.c bench/peers/peer.h
	@mkdir -p $(@D)
	$(CC) $(PEER_CFLAGS) -Wno-psabi -pthread -o $@ $<

compare: ## nasrun vs XNNPACK and PyTorch, side by side (bench/results/compare-DATE.md)
	@sh bench/peers/deps.sh
	@$(MAKE) --no-print-directory bench/build/roofline
	@$(MAKE) --no-print-directory bench/build/bench_xnnpack || echo "compare: XNNPACK peer not built; its column is skipped" >&2
	$(GO) run ./bench/compare $(COMPARE_FLAGS)

evolve: ## install the data set if missing, build nasrun, run the default search (runs/)
	@scripts/ensure-data.sh
	@$(MAKE) --no-print-directory build
	$(BIN)/nasrun evolve $(EVOLVE_FLAGS)

# evo-vs-random's settings are round 7's (bench/results/evo-vs-random-2026-11-27-round7.md);
# override any, e.g. make evo-vs-random TRIALS=100, or POPULATION=8 SAMPLE=3 for rounds 1-6.
ARMS ?= evolution-hypervolume random
SEEDS ?= 1 2 3
TRIALS ?= 60
POPULATION ?= 16
SAMPLE ?= 4
EXTRA ?= --common-seed

evo-vs-random: ## evolution (hypervolume selection, P=16, S=4; ARMS=... for others, e.g. evolution-pareto, evolution-reward) vs random search, 60 trials on 3 seeds each, one training seed per run, compared by hypervolume as logged and retrained from scratch (runs/evo-vs-random)
	@scripts/ensure-data.sh
	@$(MAKE) --no-print-directory build
	ARMS="$(ARMS)" SEEDS="$(SEEDS)" TRIALS=$(TRIALS) POPULATION=$(POPULATION) SAMPLE=$(SAMPLE) EXTRA="$(EXTRA)" scripts/evo-vs-random.sh

cross: ## static nasrun binaries for linux/arm64, linux/arm (v7), android/arm64, darwin/arm64 into dist/
	GOOS=linux   GOARCH=arm64         $(CROSS_BUILD) -o $(DIST)/nasrun-linux-arm64   ./cmd/nasrun
	GOOS=linux   GOARCH=arm   GOARM=7 $(CROSS_BUILD) -o $(DIST)/nasrun-linux-armv7   ./cmd/nasrun
	GOOS=android GOARCH=arm64         $(CROSS_BUILD) -o $(DIST)/nasrun-android-arm64 ./cmd/nasrun
	GOOS=darwin  GOARCH=arm64         $(CROSS_BUILD) -o $(DIST)/nasrun-darwin-arm64  ./cmd/nasrun
	@ls -l $(DIST)

clean: ## remove build outputs
	rm -rf $(BIN) dist
