# mk/cluster.mk: a real API server for the scan tests (internal/cluster,
# plugin scan tests) and the scan benchmark.
#
#   make kube-apiserver  build kube-apiserver $(KUBE_APISERVER_VERSION) from the
#                        Go module proxy (hack/tools/kube-apiserver pins
#                        k8s.io/kubernetes and every staging module; ~10 min
#                        of CPU once, then cached under $(TOOLS_CACHE))
#   make etcd            Debian's etcd-server, unpacked (no install, no root
#                        needed) under $(TOOLS_CACHE)
#   make test-cluster    run the cluster and scan tests against them
#   make bench-scan      10,000 pods on the test server: scan vs kubectl get
#
# Tests find the binaries through KUBECTL_SECURE_KUBE_APISERVER and
# KUBECTL_SECURE_ETCD (internal/cluster/clustertest).

CLUSTER_ROOT           := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))..)
KUBE_APISERVER_VERSION := $(shell awk '$$1=="k8s.io/kubernetes"{print $$2}' $(CLUSTER_ROOT)/hack/tools/kube-apiserver/go.mod)
KUBE_APISERVER         ?= $(TOOLS_CACHE)/kube-apiserver-$(KUBE_APISERVER_VERSION)/kube-apiserver
ETCD_DEB_VERSION       ?= 3.4.23
ETCD                   ?= $(TOOLS_CACHE)/etcd-$(ETCD_DEB_VERSION)/etcd

KUBECTL_SECURE_KUBE_APISERVER ?= $(abspath $(KUBE_APISERVER))
KUBECTL_SECURE_ETCD           ?= $(abspath $(ETCD))
export KUBECTL_SECURE_KUBE_APISERVER KUBECTL_SECURE_ETCD

TEST_DEPS += kube-apiserver etcd
TEST_ENV  += KUBECTL_SECURE_KUBE_APISERVER=$(KUBECTL_SECURE_KUBE_APISERVER) KUBECTL_SECURE_ETCD=$(KUBECTL_SECURE_ETCD)

CLUSTER_GO := GOTOOLCHAIN=local go

.PHONY: kube-apiserver etcd test-cluster bench-scan cluster-clean

kube-apiserver: $(KUBE_APISERVER)
etcd: $(ETCD)

# No prerequisites on purpose: an existing binary is never rebuilt.
# GONOSUMDB: the checksum database does not know every k8s.io staging tag.
$(KUBE_APISERVER):
	@mkdir -p $(dir $@)
	GONOSUMDB=k8s.io $(CLUSTER_GO) -C $(CLUSTER_ROOT)/hack/tools/kube-apiserver build -trimpath -ldflags '-s -w' -o $(abspath $@) k8s.io/kubernetes/cmd/kube-apiserver

# Debian's package, unpacked rather than installed: no root, no service.
$(ETCD):
	@mkdir -p $(dir $@)
	@# A fresh machine has no package lists yet: update once when the
	@# download fails, and take Debian's current etcd-server when the pinned
	@# version is no longer served (the path still names the pin).
	@tmp=$$(mktemp -d) && cd $$tmp && \
		{ apt-get download -qq etcd-server=$(ETCD_DEB_VERSION)\* 2>/dev/null \
		  || { apt-get update -qq && apt-get download -qq etcd-server=$(ETCD_DEB_VERSION)\*; } \
		  || apt-get download -qq etcd-server; } \
		&& dpkg-deb -x etcd-server_*.deb x && cp x/usr/bin/etcd $(abspath $@) && rm -rf $$tmp
	@$(abspath $@) --version | head -1

test-cluster: kube-apiserver etcd
	KUBECTL_SECURE_REQUIRE_TOOLS=1 $(CLUSTER_GO) -C $(CLUSTER_ROOT) test -count=1 ./internal/cluster/... ./plugin/ -run 'Cluster|Scan'

## bench-scan: scan vs `kubectl get … -A -o json` on 10,000 pods (README "scan").
# KUBECTL_SECURE_BENCH_PODS=1000 for a quick run.
bench-scan: kube-apiserver etcd kubectl build
	KUBECTL_SECURE_REQUIRE_TOOLS=1 KUBECTL_SECURE_BENCH_SCAN=1 KUBECTL_SECURE_BIN=$(CLUSTER_ROOT)/bin/kubectl-secure \
		KUBECTL_SECURE_KUBECTL=$$(command -v kubectl) \
		$(CLUSTER_GO) -C $(CLUSTER_ROOT) test -count=1 -timeout 60m -run '^TestBenchScan$$' -v ./internal/cluster/scanbench/

cluster-clean:
	rm -f $(KUBE_APISERVER) $(ETCD)
