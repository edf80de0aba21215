# mcpdrift build, test and lint entry points. `make help` lists them.
GO        ?= go
BIN       ?= bin/mcpdrift
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT    ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
DATE      ?= $(shell git log -1 --format=%cI 2>/dev/null || echo unknown)
PKG       := github.com/mcpdrift/mcpdrift/internal/version
LDFLAGS   := -s -w -X $(PKG).Version=$(VERSION) -X $(PKG).Commit=$(COMMIT) -X $(PKG).Date=$(DATE)
NPM_DIR   := internal/e2e/testdata/npm
GOLANGCI  ?= $(shell command -v golangci-lint 2>/dev/null || echo $(shell $(GO) env GOPATH)/bin/golangci-lint)

.PHONY: help build test test-short lint npm demo bench fuzz clean

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-11s %s\n", $$1, $$2}'

build: ## build bin/mcpdrift (static, reproducible: -trimpath, commit date as build date)
	CGO_ENABLED=0 $(GO) build -trimpath -buildvcs=false -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/mcpdrift

npm: $(NPM_DIR)/node_modules/.package-lock.json ## install the pinned reference MCP servers for end-to-end tests

$(NPM_DIR)/node_modules/.package-lock.json: $(NPM_DIR)/package.json $(NPM_DIR)/package-lock.json
	cd $(NPM_DIR) && npm ci --no-audit --no-fund --loglevel=error

test: npm ## run every test with the race detector (the CI test command)
	$(GO) test -race -count=1 -timeout 20m ./...

test-short: ## unit tests only, no npm servers
	$(GO) test -short -count=1 ./...

lint: ## gofmt, go vet and golangci-lint
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GOLANGCI) run ./...

demo: build ## the README demo: snapshot, rug pull, drift, alert
	./scripts/demo.sh

bench: ## Go benchmarks and the check-vs-go-sdk comparison
	$(GO) test -run='^$$' -bench=. -benchmem ./...
	./scripts/bench.sh

fuzz: ## run each fuzz target for 30s
	./scripts/fuzz.sh 30s

clean:
	rm -rf bin .demo
