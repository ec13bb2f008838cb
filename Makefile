# Anvil: make build | run | test | bench | fuzz | lint | clean
GO          ?= go
BIN         := $(CURDIR)/bin
# Build with the Go on this machine; never download another toolchain.
export GOTOOLCHAIN := local

STATICCHECK_VERSION := v0.8.2
FUZZTIME    ?= 10s
TEST_TIMEOUT ?= 25m
BENCHTIME   ?= 1s

.PHONY: all build run test test-setup bench fuzz lint clean

all: build

## build: every binary into ./bin
build:
	$(GO) build -buildvcs=auto -o $(BIN)/ ./cmd/...

## run: the whole stack in one process on the default ports (anvil up)
run: build
	$(BIN)/anvil up

## test: go vet, then every test (unit, integration, e2e) with the race detector
test: test-setup
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) ./...
	# cached under its other connection model (event_loops; see cached/README.md)
	ANVIL_CACHED_EVENT_LOOPS=0 $(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) ./cached/

# test-setup installs what the differential tests compare against, when it
# is missing (needs root and Debian's package archive; the tests skip
# loudly if it cannot be installed).
test-setup:
	@./.ci/test-setup

## bench: every benchmark, with allocations
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./...

## fuzz: each fuzz target for FUZZTIME
fuzz:
	@set -e; for dir in $$(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -r -n1 dirname | sort -u); do \
	  for f in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$dir/*_test.go | sed 's/^func //'); do \
	    echo "== $$dir $$f"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$dir; \
	  done; \
	done

## lint: gofmt, go vet and staticcheck
lint: $(BIN)/staticcheck
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(BIN)/staticcheck ./...
	GOOS=darwin $(GO) build ./...   # the daemons must build off Linux too (epoll, /proc and sysinfo stay behind build tags)

$(BIN)/staticcheck:
	GOBIN=$(BIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

## clean: binaries, the local stack's data, test caches
clean:
	rm -rf $(BIN) .anvil
	$(GO) clean -testcache
