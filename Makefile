# kubectl-secure — build, test and demo. Everything a target needs is built
# from the Go module proxy (or Debian) and cached under .cache/ (git-ignored).

SHELL       := /bin/bash
GO          ?= go
export GOTOOLCHAIN := local

MODULE      := github.com/kubectl-secure/kubectl-secure
BIN         := bin/kubectl-secure
VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT      ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
DATE        ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS     := -s -w -X $(MODULE)/plugin.version=$(VERSION) -X $(MODULE)/plugin.commit=$(COMMIT) -X $(MODULE)/plugin.date=$(DATE)
CACHE       := $(CURDIR)/.cache
FUZZTIME    ?= 10s
LONGFUZZ    ?= 5m
CORPUS_N    ?= 10000
CORPUS_DIR  := $(CACHE)/corpus
# Heavy tools (cosign, kube-apiserver, etcd, act, krew, actionlint, …) are
# built once per machine and version under TOOLS_CACHE, outside the clone, so
# a fresh clone on the same machine reuses them; nothing assumes they exist.
TOOLS_CACHE ?= $(HOME)/.cache/kubectl-secure/tools
export TOOLS_CACHE
# Under `make test` a test whose tool is missing fails instead of skipping.
TEST_ENV    := KUBECTL_SECURE_REQUIRE_TOOLS=1
# Each mk/*.mk fragment adds the tools its tests need to TEST_DEPS (and
# environment for the tests to TEST_ENV); included here, before the rules
# that use them.
TEST_DEPS   := lint cosign kubectl

include $(wildcard mk/*.mk)
.DEFAULT_GOAL := all

.PHONY: tidy-check all build demo test test-go fuzz-short fuzz bench lint vet fmt clean corpus kubectl bench-render helm bench-corpus

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/kubectl-secure

## demo: lint the bundled example manifests and show real findings.
demo: build
	@echo '$$ kubectl secure lint testdata/demo/'
	@./$(BIN) lint testdata/demo/; code=$$?; echo "(exit code $$code: 1 means findings at or above --fail-on)"; test $$code -le 1

## test: everything CI runs — vet, gofmt, unit and integration tests, a short fuzz run.
test: $(TEST_DEPS)
	$(MAKE) test-go fuzz-short

test-go:
	$(TEST_ENV) $(GO) test -count=1 -timeout 45m ./...

# Minimising a new input may take 60 s by default; in a 10-second run that
# outlasts the run and fails it with "context deadline exceeded".
fuzz-short:
	$(GO) test -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./internal/manifest
	$(GO) test -run '^$$' -fuzz '^FuzzFastYAML$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./internal/manifest
	$(GO) test -run '^$$' -fuzz '^FuzzFromJSON$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./internal/manifest
	$(GO) test -run '^$$' -fuzz '^FuzzRewrite$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./internal/fix

fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime $(LONGFUZZ) ./internal/manifest
	$(GO) test -run '^$$' -fuzz '^FuzzFastYAML$$' -fuzztime $(LONGFUZZ) ./internal/manifest
	$(GO) test -run '^$$' -fuzz '^FuzzFromJSON$$' -fuzztime $(LONGFUZZ) ./internal/manifest
	$(GO) test -run '^$$' -fuzz '^FuzzRewrite$$' -fuzztime $(LONGFUZZ) ./internal/fix

lint: vet tidy-check
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.cache/*')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

## tidy-check: go.mod and go.sum are exactly what `go mod tidy` makes.
tidy-check:
	@$(GO) mod tidy -diff || { echo "go.mod/go.sum not tidy: run 'go mod tidy'"; exit 1; }

vet:
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

## corpus: the 10,000-object benchmark corpus (one file, and one object per file).
corpus: $(CORPUS_DIR)/$(CORPUS_N).yaml
$(CORPUS_DIR)/$(CORPUS_N).yaml:
	@mkdir -p $(CORPUS_DIR)
	python3 testdata/corpus/make-scaled.py $(CORPUS_DIR) $(CORPUS_N)

## bench: every benchmark — the 10,000-object corpus, image verification, rendering.
bench: bench-corpus bench-imagesig bench-render

## bench-corpus: speed and memory of lint on the 10,000-object corpus.
bench-corpus: corpus build
	KUBECTL_SECURE_CORPUS=$(CORPUS_DIR)/$(CORPUS_N).yaml KUBECTL_SECURE_CORPUS_DIR=$(CORPUS_DIR)/$(CORPUS_N)-dir KUBECTL_SECURE_BIN=$(CURDIR)/$(BIN) \
		$(GO) test -run '^$$' -bench . -benchmem -benchtime 3x ./internal/bench/

## kubectl: the plugin tests drive a real kubectl; Debian's client when none is installed.
kubectl:
	@command -v kubectl >/dev/null || { apt-get update -qq && apt-get install -y -qq kubernetes-client >/dev/null; }

## bench-render: in-process rendering vs `kustomize build | lint -` and `helm template | lint -`.
bench-render: build helm
	hack/bench-render.sh

## helm: Helm's CLI, built from the module this project already requires (benchmarks only).
helm: $(CACHE)/bin/helm
$(CACHE)/bin/helm:
	@mkdir -p $(dir $@)
	$(GO) -C hack/tools/helm build -o $@ helm.sh/helm/v3/cmd/helm

clean:
	rm -rf bin dist

