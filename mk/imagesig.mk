# mk/imagesig.mk: tooling for internal/imagesig (image signature verification).
#
# The main Makefile includes mk/*.mk. This fragment defines:
#
#   make cosign        build the real cosign CLIs used by the imagesig tests
#                      (skipped for each binary that already exists)
#   make cosign-clean  delete them (run it after bumping a tools module)
#   make test-imagesig run the imagesig and verify-command tests with them
#   make bench-imagesig run BenchmarkVerifyMany (registry requests, referrers
#                      listings) and BenchmarkTUFWarmCache (TUF mirror requests)
#
# Variables (override on the command line or in the environment):
#
#   COSIGN_BIN_DIR  where binaries go           (default: $(TOOLS_CACHE), outside the clone)
#   COSIGN_V2       path of the cosign v2 binary (default: $(COSIGN_BIN_DIR)/cosign-<version>/cosign)
#   COSIGN_V3       path of the cosign v3 binary (default: $(COSIGN_BIN_DIR)/cosign-<version>/cosign)
#
# Both are built from the Go module proxy through the tools modules in
# hack/tools/cosign/v2 and hack/tools/cosign/v3 (each pins cosign with a
# `tool` directive). Tests find them through KUBECTL_SECURE_COSIGN_V2 and
# KUBECTL_SECURE_COSIGN_V3, which this fragment exports (internal/toolstest:
# missing binaries skip tests run by hand and fail them under make test).
#
# A cold build of both takes about 20 minutes on 2 cores (about 10 each);
# with a warm Go build cache, under a minute.

IMAGESIG_ROOT  := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))..)
# Keyed by the cosign version each tools module pins, so a bump rebuilds.
COSIGN_V2_VERSION := $(shell awk '$$1=="github.com/sigstore/cosign/v2"{print $$2}' $(IMAGESIG_ROOT)/hack/tools/cosign/v2/go.mod)
COSIGN_V3_VERSION := $(shell awk '$$1=="github.com/sigstore/cosign/v3"{print $$2}' $(IMAGESIG_ROOT)/hack/tools/cosign/v3/go.mod)
COSIGN_BIN_DIR ?= $(TOOLS_CACHE)
COSIGN_V2      ?= $(COSIGN_BIN_DIR)/cosign-$(COSIGN_V2_VERSION)/cosign
COSIGN_V3      ?= $(COSIGN_BIN_DIR)/cosign-$(COSIGN_V3_VERSION)/cosign

# An environment value wins; otherwise the tests use the binaries built here.
KUBECTL_SECURE_COSIGN_V2 ?= $(abspath $(COSIGN_V2))
KUBECTL_SECURE_COSIGN_V3 ?= $(abspath $(COSIGN_V3))
export KUBECTL_SECURE_COSIGN_V2 KUBECTL_SECURE_COSIGN_V3

IMAGESIG_GO := GOTOOLCHAIN=local go

.PHONY: cosign cosign-clean test-imagesig bench-imagesig

cosign: $(COSIGN_V2) $(COSIGN_V3)

# No prerequisites on purpose: an existing binary is never rebuilt, so
# `make test` stays fast. `make cosign-clean cosign` rebuilds.
$(COSIGN_V2):
	@mkdir -p $(dir $@)
	$(IMAGESIG_GO) -C $(IMAGESIG_ROOT)/hack/tools/cosign/v2 build -trimpath -ldflags '-s -w' -o $(abspath $@) github.com/sigstore/cosign/v2/cmd/cosign

$(COSIGN_V3):
	@mkdir -p $(dir $@)
	$(IMAGESIG_GO) -C $(IMAGESIG_ROOT)/hack/tools/cosign/v3 build -trimpath -ldflags '-s -w' -o $(abspath $@) github.com/sigstore/cosign/v3/cmd/cosign

cosign-clean:
	rm -f $(COSIGN_V2) $(COSIGN_V3)

test-imagesig: cosign
	$(IMAGESIG_GO) -C $(IMAGESIG_ROOT) test ./internal/imagesig/... ./plugin/ -run 'Verify|Imagesig|Policy|Match|Cosign|TUF|Notation'

bench-imagesig:
	$(IMAGESIG_GO) -C $(IMAGESIG_ROOT) test ./internal/imagesig/ -run '^$$' -bench 'BenchmarkVerifyMany|BenchmarkTUFWarmCache' -benchtime 5x
