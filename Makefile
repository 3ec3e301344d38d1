# batchlens — the commands the README gives. Go 1.26, Node and npm are all they need.
GO ?= go
NPM ?= npm

.PHONY: demo test race build bench bench-ui fuzz vet ui prometheus e2e demo-cluster

demo: ui ## run batchlens on its built-in simulated fleet
	$(GO) run ./cmd/batchlens demo

test: vet ui prometheus ## run every test, the browser tests too (BATCHLENS_SKIP_BROWSER=1 skips them when chromium is missing)
	$(GO) test -count=1 ./...

# The browser UI, built into internal/ui/dist for the binary to embed; npm ci
# only when ui/package-lock.json changed. Without npm the binary serves a
# page that says how to build it.
ui: ## build the browser UI (needs Node and npm)
	@if ! command -v $(NPM) >/dev/null 2>&1; then \
		echo "make ui: npm not found; batchlens will serve a page saying how to build the UI (install Node and npm)"; \
	else \
		cd ui && { [ node_modules/.package-lock.json -nt package-lock.json ] || $(NPM) ci --no-audit --no-fund; } && $(NPM) run --silent build; \
	fi

prometheus: ## Debian's prometheus for the metrics tests, installed when missing (skip with BATCHLENS_SKIP_PROMETHEUS=1)
	@[ "$$BATCHLENS_SKIP_PROMETHEUS" = 1 ] || bash .ci/install-prometheus

race: ## the concurrent packages under the race detector
	$(GO) test -race -count=1 ./internal/kube/ ./internal/usage/ ./internal/cli/ ./internal/store/... ./internal/query/ ./internal/web/ ./internal/demo/ ./internal/metrics/

vet:
	$(GO) vet ./...
	$(GO) vet -tags e2e ./e2e/...

e2e: ## end to end on a real control plane; builds it once into ~/.cache/batchlens (about 15 min on 2 cores)
	$(GO) test -tags e2e -count=1 -timeout 80m -v ./e2e/

demo-cluster: ## batchlens serve on a real control plane (kwok nodes) running the e2e scenario continuously
	$(GO) run ./e2e/cmd/demo-cluster

build:
	$(GO) build -o bin/batchlens ./cmd/batchlens

bench: ## run the benchmarks recorded in docs/benchmarks.md
	$(GO) test -run '^$$' -bench . -benchtime 3x ./internal/...

bench-ui: ui ## measure the Leadership page's ready time on 7 days of demo history, and the JS shipped
	$(GO) build -o bin/batchlens ./cmd/batchlens
	cd ui && node test/bench.mjs ../bin/batchlens

fuzz: ## fuzz the ledger: its facts alone (fast), then through SQLite (slow under coverage instrumentation)
	$(GO) test -run '^$$' -fuzz FuzzPodFacts -fuzztime 60s ./internal/ledger/
	$(GO) test -run '^$$' -fuzz FuzzPodUpdates -fuzztime 60s ./internal/ledger/
