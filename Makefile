# nasrun — common tasks. `make help` lists them.
GO       ?= go
BIN      ?= bin
PKGS     ?= ./...
BENCHTIME ?= 1s

.PHONY: help build test test-purego test-arm bench vet fmt cross compare evolve clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

build: ## build the nasrun binary into bin/
	CGO_ENABLED=0 $(GO) build -o $(BIN)/nasrun ./cmd/nasrun

test: ## the whole test suite: every kernel implementation this CPU has, the pure-Go build, vet
	$(GO) vet $(PKGS)
	$(GO) test -count=1 $(PKGS)
	$(GO) test -count=1 -tags purego $(PKGS)

bench: ## kernel benchmarks over the suite in bench/suite/suite.txt (single thread)
	$(GO) test -run '^$$' -bench . -benchtime $(BENCHTIME) -cpu 1 ./kernels/

vet: ## go vet and gofmt
	$(GO) vet $(PKGS)
	@test -z "$$(gofmt -l .)" || (gofmt -l . && false)

clean: ## remove build outputs
	rm -rf $(BIN) dist
