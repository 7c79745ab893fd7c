package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseValid(t *testing.T) {
	cfg, err := Parse("c.yaml", []byte(`kubernetesVersion: "1.33"
failOn: critical
rules:
  disable: [a-rule]
  severity: {b-rule: low}
exemptions:
  - rule: "*"
    namespace: kube-*
    reason: system components
images:
  allowedRegistries: [ghcr.io/acme/]
sensitiveHostPaths: [/data]
dangerousCapabilities: [BPF]
imageVerification:
  tuf: {mirror: "https://tuf.example.com", root: tuf/root.json}
  images:
    - glob: "ghcr.io/acme/**"
      authorities:
        - key: cosign.pub
        - keyless: {identity: i, issuer: s}
        - notation: {trustStore: [a.pem, b.pem], trustPolicy: trustpolicy.json, crl: acme.crl}
`))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.KubernetesVersion != "1.33" || cfg.Rules.Severity["b-rule"] != "low" || len(cfg.Exemptions) != 1 ||
		cfg.Exemptions[0].Line() != 7 || cfg.SensitiveHostPaths[0] != "/data" || cfg.ImageVerification == nil ||
		cfg.ImageVerification.TUF.Mirror != "https://tuf.example.com" || len(cfg.ImageVerification.Images[0].Authorities[2].Notation.TrustStore) != 2 {
		t.Errorf("parsed %+v", cfg)
	}
	known := func(id string) bool { return id == "a-rule" || id == "b-rule" }
	if err := cfg.CheckRuleIDs(known); err != nil {
		t.Error(err)
	}
}

func TestParseErrorsNameFileAndLine(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"kubernetesVersion: 1.x\n", `c.yaml:1: kubernetesVersion: "1.x" is not a Kubernetes version`},
		{"# comment\nfailOn: severe\n", "c.yaml:2: failOn: unknown severity"},
		{"rules:\n  disabel: [x]\n", `c.yaml: line 2: unknown key "disabel"`},
		{"rules:\n  disable: x\n", "c.yaml: line 2: expected a list, found a string `x`"},
		{"- a\n", "c.yaml: line 1: expected a mapping, found a list"},
		{"rules:\n  severity:\n    x: severe\n", `c.yaml:3: rules.severity.x: unknown severity "severe"`},
		{"exemptions:\n  - rule: x\n    reason: ' '\n", `c.yaml:2: exemption for rule "x" needs a reason`},
		{"exemptions:\n  - rule: '['\n    reason: r\n", `c.yaml:2: bad glob "["`},
		{"imageVerification:\n  images: []\n", "c.yaml:1: imageVerification: image verification policy: images is empty"},
		{"a: [\n", "c.yaml: line 1: did not find expected node content"},
		{"\nimageVerification:\n  tuf: {mirror: 'http://tuf.example.com'}\n  images: [{glob: a, authorities: [{key: k}]}]\n", "c.yaml:2: imageVerification: image verification policy: tuf: TUF mirror \"http://tuf.example.com\": only https"},
		{"imageVerification:\n  images: [{glob: a, authorities: [{notation: {trustStore: s}}]}]\n", "c.yaml:1: imageVerification: image verification policy: images[0] (a): authorities[0]: notation needs trustStore and trustPolicy"},
		{"imageVerification:\n  images:\n    - glob: a\n      authorities: [{notation: {trustStore: s, trustPolicy: p, keys: k}}]\n", `c.yaml: line 4: unknown key "keys"`},
	} {
		_, err := Parse("c.yaml", []byte(tc.src))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.src, err, tc.want)
		}
	}
	cfg, err := Parse("c.yaml", []byte("rules:\n  disable:\n    - known\n    - unknown\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.CheckRuleIDs(func(id string) bool { return id == "known" }); err == nil || !strings.Contains(err.Error(), `c.yaml:4: unknown rule "unknown"`) {
		t.Errorf("unknown rule: %v", err)
	}
}

func TestFindWalksParents(t *testing.T) {
	dir := t.TempDir()
	deep := filepath.Join(dir, "a", "b")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(dir, ".kubectl-secure.yaml")
	if err := os.WriteFile(want, []byte("failOn: low\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := Find(deep); got != want {
		t.Errorf("Find(%s) = %q, want %q", deep, got, want)
	}
}

func TestParseExclude(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, ".kubectl-secure.yaml")
	if err := os.WriteFile(p, []byte("exclude:\n  - examples/\n  - \"**/profiles/*.yaml\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(cfg.Exclude, " ") != "examples/ **/profiles/*.yaml" || cfg.Dir() != dir {
		t.Errorf("exclude %v dir %s", cfg.Exclude, cfg.Dir())
	}
	if _, err := Parse("c.yaml", []byte("exclude: examples\n")); err == nil {
		t.Error("a scalar exclude accepted")
	}
}
