# batchlens — the commands the README gives. Go 1.26 is all they need.
GO ?= go

.PHONY: demo test race build bench fuzz vet

demo: ## run batchlens on its built-in simulated fleet
	$(GO) run ./cmd/batchlens demo

test: vet ## run every test
	$(GO) test -count=1 ./...

race: ## the concurrent packages under the race detector
	$(GO) test -race -count=1 ./internal/kube/ ./internal/usage/ ./internal/cli/ ./internal/store/... ./internal/query/ ./internal/web/ ./internal/demo/

vet:
	$(GO) vet ./...

build:
	$(GO) build -o bin/batchlens ./cmd/batchlens

bench: ## run the benchmarks recorded in docs/benchmarks.md
	$(GO) test -run '^$$' -bench . -benchtime 3x ./internal/...

fuzz: ## fuzz the ledger: its facts alone (fast), then through SQLite (slow under coverage instrumentation)
	$(GO) test -run '^$$' -fuzz FuzzPodFacts -fuzztime 60s ./internal/ledger/
	$(GO) test -run '^$$' -fuzz FuzzPodUpdates -fuzztime 60s ./internal/ledger/
