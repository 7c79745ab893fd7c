package rules

import (
	"sort"
	"strings"
	"testing"
)

// TestRealWorldCorpus lints the bundled real-world manifests (Argo CD,
// cert-manager, kube-prometheus, Helm charts, Kubernetes examples,
// kubernetes-goat, ...) as one set: nothing may crash or fail to decode,
// and the deliberately insecure kubernetes-goat scenarios must be flagged
// with the rules that describe their weakness.
func TestRealWorldCorpus(t *testing.T) {
	raws, errs := lint(t, testRegistry(t), testSettings(), nil, "testdata/corpus/real")
	for _, e := range errs {
		t.Errorf("input error: %s", e.Error())
	}
	if len(raws) < 1000 {
		t.Fatalf("only %d findings on the corpus", len(raws))
	}
	byFile := map[string]map[string]bool{}
	for _, r := range raws {
		f := strings.TrimPrefix(r.Location().File, "testdata/corpus/real/kubernetes-goat/")
		if byFile[f] == nil {
			byFile[f] = map[string]bool{}
		}
		byFile[f][r.RuleID()] = true
	}
	goat := map[string][]string{
		"scenarios/system-monitor/deployment.yaml": {
			"privileged-container", "host-pid", "host-ipc", "host-path-sensitive", // not also host-path-volume (#13)
			"host-path-writable", "allow-privilege-escalation", "secret-in-manifest", "secret-in-env",
		},
		"scenarios/docker-bench-security/deployment.yaml": {
			"privileged-container", "host-network", "host-pid", "host-ipc", "host-path-sensitive",
			"run-as-root", "non-default-capabilities", "image-latest-tag",
		},
		"scenarios/health-check/deployment.yaml": {
			"privileged-container", "host-path-sensitive", "host-path-writable", "image-latest-tag",
		},
		"scenarios/insecure-rbac/setup.yaml":             {"rbac-cluster-admin-binding"},
		"scenarios/hunger-check/deployment.yaml":         {"rbac-wildcard", "secret-in-manifest", "memory-limit-missing"},
		"pwnchart.yaml":                                  {"rbac-wildcard", "rbac-default-sa-binding"},
		"scenarios/kube-bench-security/master-job.yaml":  {"host-pid", "host-path-sensitive", "image-latest-tag"},
		"scenarios/kube-bench-security/node-job.yaml":    {"host-pid", "host-path-sensitive", "image-latest-tag"},
		"scenarios/internal-proxy/deployment.yaml":       {"service-nodeport"},
		"scenarios/cache-store/deployment.yaml":          {"namespace-missing-network-policy", "namespace-missing-psa-label"},
		"metadata-db.yaml":                               {"image-latest-tag", "run-as-non-root"},
		"scenarios/batch-check/job.yaml":                 {"image-latest-tag", "memory-limit-missing"},
		"scenarios/poor-registry/deployment.yaml":        {"image-latest-tag"},
		"scenarios/build-code/deployment.yaml":           {"image-latest-tag", "seccomp-profile-missing"},
		"scenarios/kubernetes-goat-home/deployment.yaml": {"image-latest-tag"},
	}
	for file, want := range goat {
		got := byFile[file]
		for _, id := range want {
			if !got[id] {
				var have []string
				for k := range got {
					have = append(have, k)
				}
				sort.Strings(have)
				t.Errorf("kubernetes-goat %s: no %s finding (have %v)", file, id, have)
			}
		}
	}
}

// TestEdgeCorpus: files with duplicate keys, type errors and template
// placeholders produce input errors by design, but never a rule crash.
func TestEdgeCorpus(t *testing.T) {
	_, errs := lint(t, testRegistry(t), testSettings(), nil, "testdata/corpus/edge")
	for _, e := range errs {
		if strings.Contains(e.Message, "internal error") || e.File == "<rules>" {
			t.Errorf("rule crash: %s", e.Error())
		}
	}
}
