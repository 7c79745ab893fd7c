# mk/action.mk: tooling for the GitHub Action (action.yml, action/).
#
#   make octokit-openapi  GitHub's OpenAPI description (npm @octokit/openapi):
#                         the Action's tests validate every request body
#                         they send against it
#   make act              nektos/act, built from the module proxy through
#                         the tools module hack/tools/act, for the
#                         end-to-end test of action.yml
#   make test-action      the Action's tests with both
#   make bench-action     API requests and overhead of one pull-request run
#
# Both land in $(TOOLS_CACHE)/<tool>-<version>/ and reach the tests through
# KUBECTL_SECURE_OCTOKIT_OPENAPI and KUBECTL_SECURE_ACT.

ACTION_ROOT             := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))..)
OCTOKIT_OPENAPI_VERSION ?= 23.0.2
OCTOKIT_OPENAPI_DIR     := $(TOOLS_CACHE)/octokit-openapi-$(OCTOKIT_OPENAPI_VERSION)
OCTOKIT_OPENAPI         := $(OCTOKIT_OPENAPI_DIR)/package/generated/api.github.com.json
ACT_VERSION             := $(shell awk '$$1=="github.com/nektos/act"{print $$2}' $(ACTION_ROOT)/hack/tools/act/go.mod)
ACT                     := $(TOOLS_CACHE)/act-$(ACT_VERSION)/act

TEST_DEPS += octokit-openapi act
TEST_ENV  += KUBECTL_SECURE_OCTOKIT_OPENAPI=$(OCTOKIT_OPENAPI) KUBECTL_SECURE_ACT=$(ACT)

.PHONY: octokit-openapi act test-action bench-action

octokit-openapi: $(OCTOKIT_OPENAPI)
$(OCTOKIT_OPENAPI):
	@mkdir -p $(OCTOKIT_OPENAPI_DIR)
	cd $(OCTOKIT_OPENAPI_DIR) && npm pack --silent @octokit/openapi@$(OCTOKIT_OPENAPI_VERSION) >/dev/null
	tar -xzf $(OCTOKIT_OPENAPI_DIR)/octokit-openapi-$(OCTOKIT_OPENAPI_VERSION).tgz -C $(OCTOKIT_OPENAPI_DIR) package/generated/api.github.com.json
	@touch $@

act: $(ACT)
$(ACT):
	@mkdir -p $(dir $@)
	GOTOOLCHAIN=local go -C $(ACTION_ROOT)/hack/tools/act build -trimpath -ldflags '-s -w' -o $@ github.com/nektos/act

# actionlint comes from mk/dist.mk.
test-action: octokit-openapi act actionlint shellcheck
	KUBECTL_SECURE_REQUIRE_TOOLS=1 KUBECTL_SECURE_OCTOKIT_OPENAPI=$(OCTOKIT_OPENAPI) KUBECTL_SECURE_ACT=$(ACT) KUBECTL_SECURE_ACTIONLINT=$(ACTIONLINT) \
		GOTOOLCHAIN=local go -C $(ACTION_ROOT) test -count=1 ./action/... ./internal/githubfake/ ./plugin/ -run 'Action|OpenAPI|Patch|SARIF|Annotate|Inputs|Values|ReadInputs'

# `make bench` runs this one too.
bench: bench-action

bench-action:
	GOTOOLCHAIN=local go -C $(ACTION_ROOT) test -run '^$$' -bench BenchmarkActionPullRequest -benchtime 3x ./plugin/
