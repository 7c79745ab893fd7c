# mk/dist.mk: release archives, and the tools their tests drive.
#
#   make dist        every release archive, checksums.txt and the filled krew
#                    manifest secure.yaml into $(DIST_DIR) (go run ./hack/dist:
#                    version, commit and date from git, the date being the
#                    commit time, so the same commit gives the same bytes)
#   make krew        krew and validate-krew-manifest (sigs.k8s.io/krew)
#   make actionlint  actionlint, which checks .github/workflows in make test
#   make shellcheck  Debian's shellcheck, which actionlint runs on run: scripts
#
# The tools are built from the Go module proxy through the tools modules in
# hack/tools/krew and hack/tools/actionlint (each pins its version with
# `tool` directives) into $(TOOLS_CACHE)/<tool>-<version>/; an existing
# binary is never rebuilt. Tests find them through KUBECTL_SECURE_KREW,
# KUBECTL_SECURE_VALIDATE_KREW_MANIFEST, KUBECTL_SECURE_ACTIONLINT (and
# shellcheck on PATH, or KUBECTL_SECURE_SHELLCHECK).

DIST_ROOT          := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))..)
DIST_DIR           ?= dist
# Extra flags for hack/dist, e.g. DIST_FLAGS=-platforms=linux/amd64.
DIST_FLAGS         ?=
KREW_VERSION       := $(shell awk '$$1=="sigs.k8s.io/krew"{print $$2}' $(DIST_ROOT)/hack/tools/krew/go.mod)
ACTIONLINT_VERSION := $(shell awk '$$1=="github.com/rhysd/actionlint"{print $$2}' $(DIST_ROOT)/hack/tools/actionlint/go.mod)
KREW               ?= $(TOOLS_CACHE)/krew-$(KREW_VERSION)/krew
VALIDATE_KREW_MANIFEST ?= $(TOOLS_CACHE)/krew-$(KREW_VERSION)/validate-krew-manifest
ACTIONLINT         ?= $(TOOLS_CACHE)/actionlint-$(ACTIONLINT_VERSION)/actionlint

TEST_DEPS += krew actionlint shellcheck
TEST_ENV  += KUBECTL_SECURE_KREW=$(KREW) KUBECTL_SECURE_VALIDATE_KREW_MANIFEST=$(VALIDATE_KREW_MANIFEST) KUBECTL_SECURE_ACTIONLINT=$(ACTIONLINT)

.PHONY: dist krew actionlint shellcheck

dist:
	rm -rf $(DIST_DIR)
	$(GO) run ./hack/dist -out $(DIST_DIR) $(DIST_FLAGS)

krew: $(KREW) $(VALIDATE_KREW_MANIFEST)

$(KREW):
	@mkdir -p $(dir $@)
	$(GO) -C $(DIST_ROOT)/hack/tools/krew build -trimpath -o $@ sigs.k8s.io/krew/cmd/krew

$(VALIDATE_KREW_MANIFEST):
	@mkdir -p $(dir $@)
	$(GO) -C $(DIST_ROOT)/hack/tools/krew build -trimpath -o $@ sigs.k8s.io/krew/cmd/validate-krew-manifest

actionlint: $(ACTIONLINT)

$(ACTIONLINT):
	@mkdir -p $(dir $@)
	$(GO) -C $(DIST_ROOT)/hack/tools/actionlint build -trimpath -o $@ github.com/rhysd/actionlint/cmd/actionlint

shellcheck:
	@command -v shellcheck >/dev/null || { apt-get update -qq && apt-get install -y -qq shellcheck >/dev/null; }
