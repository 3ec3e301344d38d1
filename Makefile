# batchlens — the commands the README gives. Go 1.26 is all they need.
GO ?= go

.PHONY: demo test race build bench fuzz vet e2e demo-cluster

demo: ## run batchlens on its built-in simulated fleet
	$(GO) run ./cmd/batchlens demo

test: vet ## run every test
	$(GO) test -count=1 ./...

race: ## the concurrent packages under the race detector
	$(GO) test -race -count=1 ./internal/kube/ ./internal/usage/ ./internal/cli/ ./internal/store/... ./internal/query/ ./internal/web/ ./internal/demo/

vet:
	$(GO) vet ./...
	$(GO) vet -tags e2e ./e2e/...

e2e: ## end to end on a real control plane; builds it once into ~/.cache/batchlens (about 15 min on 2 cores)
	$(GO) test -tags e2e -count=1 -timeout 80m -v -run TestEndToEnd ./e2e/

demo-cluster: ## batchlens serve on a real control plane (kwok nodes) running the e2e scenario continuously
	$(GO) run ./e2e/cmd/demo-cluster

build:
	$(GO) build -o bin/batchlens ./cmd/batchlens

bench: ## run the benchmarks recorded in docs/benchmarks.md
	$(GO) test -run '^$$' -bench . -benchtime 3x ./internal/...

fuzz: ## fuzz the ledger: its facts alone (fast), then through SQLite (slow under coverage instrumentation)
	$(GO) test -run '^$$' -fuzz FuzzPodFacts -fuzztime 60s ./internal/ledger/
	$(GO) test -run '^$$' -fuzz FuzzPodUpdates -fuzztime 60s ./internal/ledger/
