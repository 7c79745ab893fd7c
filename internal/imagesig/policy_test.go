package imagesig_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-secure/kubectl-secure/internal/imagesig"
	ist "github.com/kubectl-secure/kubectl-secure/internal/imagesig/imagesigtest"
)

func TestMatchPolicy(t *testing.T) {
	cases := []struct {
		patterns []string
		ref      string
		want     int
	}{
		{[]string{"ghcr.io/org/*"}, "ghcr.io/org/app:1.0", 0},
		{[]string{"ghcr.io/org/*"}, "ghcr.io/org/team/app:1.0", -1}, // * stays in one segment
		{[]string{"ghcr.io/org/**"}, "ghcr.io/org/team/app@sha256:" + strings.Repeat("a", 64), 0},
		{[]string{"ghcr.io/other/**", "ghcr.io/**"}, "ghcr.io/org/app", 1},
		{[]string{"nginx"}, "nginx:1.27", 0},
		{[]string{"index.docker.io/library/*"}, "nginx:1.27", 0}, // normalized
		{[]string{"docker.io/library/nginx"}, "nginx", 0},
		{[]string{"ghcr.io/org/app:1.*"}, "ghcr.io/org/app:1.2", 0}, // tag in the pattern
		{[]string{"ghcr.io/org/app:1.*"}, "ghcr.io/org/app:2.0", -1},
		{[]string{"registry.example.com:5000/a?c"}, "registry.example.com:5000/abc:v", 0},
		{[]string{"ghcr.io/org/app"}, "ghcr.io/org/app-evil:1", -1},
		{nil, "nginx", -1},
	}
	for _, c := range cases {
		got, ok := imagesig.MatchPolicy(c.patterns, c.ref)
		if got != c.want || ok != (c.want >= 0) {
			t.Errorf("MatchPolicy(%q, %q) = %d, %v; want %d", c.patterns, c.ref, got, ok, c.want)
		}
	}
}

func TestPolicyConfig(t *testing.T) {
	dir := t.TempDir()
	k := ist.NewKeyPair(t)
	if err := os.MkdirAll(filepath.Join(dir, "keys"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "keys", "team.pub"), k.PubPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	tr := ist.NewSigstore(t).WriteTrustedRoot(t, dir, false)
	good := `
onUnreachable: warn
images:
  - glob: "ghcr.io/org/**"
    authorities:
      - key: keys/team.pub
      - keyless:
          identityRegexp: "^https://github.com/org/"
          issuer: https://token.actions.githubusercontent.com
          trustedRoot: ` + filepath.Base(tr) + `
    attestations: [slsaprovenance]
  - glob: "**"
    authorities:
      - key: |
` + indent(string(k.PubPEM), "          ")
	cfg, err := imagesig.ParsePolicyConfig([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	cp, err := cfg.Compile(dir)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := cp.PolicyFor("ghcr.io/org/team/app:1")
	if !ok || len(p.Authorities) != 2 || len(p.Authorities[0].Keys) != 1 || p.Authorities[1].TrustedRoot != tr || p.AttestationTypes[0] != "slsaprovenance" {
		t.Fatalf("policy = %+v, %v", p, ok)
	}
	p, ok = cp.PolicyFor("quay.io/x/y")
	if !ok || len(p.Authorities) != 1 || len(p.AttestationTypes) != 0 {
		t.Fatalf("fallback policy = %+v, %v", p, ok)
	}
	if s := cp.SeverityFor(imagesig.Result{Kind: imagesig.KindUnreachable}); s != imagesig.SeverityWarning {
		t.Fatalf("unreachable severity = %s", s)
	}
	if s := cp.SeverityFor(imagesig.Result{Kind: imagesig.KindUnsigned}); s != imagesig.SeverityError {
		t.Fatalf("unsigned severity = %s", s)
	}

	bad := map[string]string{
		"unknown field":      "images: [{glob: a, authorities: [{key: k}], color: red}]",
		"no images":          "onUnreachable: fail",
		"bad onUnreachable":  "onUnreachable: maybe\nimages: [{glob: a, authorities: [{key: k}]}]",
		"empty glob":         "images: [{authorities: [{key: k}]}]",
		"no authorities":     "images: [{glob: a}]",
		"key and keyless":    "images: [{glob: a, authorities: [{key: k, keyless: {identity: i, issuer: s, trustedRoot: r}}]}]",
		"keyless no issuer":  "images: [{glob: a, authorities: [{keyless: {identity: i, trustedRoot: r}}]}]",
		"tuf plain http":     "tuf: {mirror: http://tuf.example.com}\nimages: [{glob: a, authorities: [{keyless: {identity: i, issuer: s}}]}]",
		"tuf unknown key":    "tuf: {url: https://tuf.example.com}\nimages: [{glob: a, authorities: [{keyless: {identity: i, issuer: s}}]}]",
		"bad attestation":    "images: [{glob: a, authorities: [{key: k}], attestations: [sbom-ish]}]",
		"key and notation":   "images: [{glob: a, authorities: [{key: k, notation: {trustStore: s, trustPolicy: p}}]}]",
		"notation no store":  "images: [{glob: a, authorities: [{notation: {trustPolicy: p}}]}]",
		"notation no policy": "images: [{glob: a, authorities: [{notation: {trustStore: [s]}}]}]",
	}
	for name, y := range bad {
		if _, err := imagesig.ParsePolicyConfig([]byte(y)); err == nil {
			t.Errorf("%s: accepted %q", name, y)
		}
	}
	// Shape is fine, files are not.
	cfg, err = imagesig.ParsePolicyConfig([]byte("images: [{glob: a, authorities: [{key: missing.pub}]}]"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.Compile(dir); err == nil || !strings.Contains(err.Error(), "missing.pub") {
		t.Fatalf("Compile with a missing key: %v", err)
	}
	cfg, _ = imagesig.ParsePolicyConfig([]byte("images: [{glob: a, authorities: [{keyless: {identity: i, issuer: s, trustedRoot: nope.json}}]}]"))
	if _, err := cfg.Compile(dir); err == nil || !strings.Contains(err.Error(), "nope.json") {
		t.Fatalf("Compile with a missing trusted root: %v", err)
	}
	// Keyless without trustedRoot: the root comes from TUF, whose root file
	// is relative to the config.
	cfg, err = imagesig.ParsePolicyConfig([]byte("tuf: {mirror: https://tuf.example.com, root: tuf/root.json}\nimages: [{glob: a, authorities: [{keyless: {identity: i, issuer: s}}]}]"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.Compile(dir); err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "tuf", "root.json")) {
		t.Fatalf("Compile with a missing TUF root: %v", err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "tuf"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tuf", "root.json"), []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	cp, err = cfg.Compile(dir)
	if err != nil {
		t.Fatal(err)
	}
	p, _ = cp.PolicyFor("a")
	if got := p.Authorities[0].TUF; got.Mirror != "https://tuf.example.com" || got.Root != filepath.Join(dir, "tuf", "root.json") || p.Authorities[0].TrustedRoot != "" {
		t.Fatalf("TUF = %+v", p.Authorities[0])
	}
}

func TestPolicyConfigNotation(t *testing.T) {
	dir := t.TempDir()
	ca := ist.NewNotationCA(t, "root")
	ca.WritePEM(t, dir, "root.pem")
	ca.WritePEM(t, filepath.Join(dir, "more"), "other.pem")
	ist.WriteNotationTrustPolicy(t, dir, ist.NotationPolicy{Name: "p", Scopes: []string{"*"}, Level: "strict", TrustStores: []string{"ca:x"}, TrustedIdentities: []string{"*"}})
	for name, store := range map[string]string{"one path": "root.pem", "a list": "[root.pem, more]"} {
		t.Run(name, func(t *testing.T) {
			cfg, err := imagesig.ParsePolicyConfig([]byte("images: [{glob: '**', authorities: [{notation: {trustStore: " + store + ", trustPolicy: trustpolicy.json}}]}]"))
			if err != nil {
				t.Fatal(err)
			}
			cp, err := cfg.Compile(dir)
			if err != nil {
				t.Fatal(err)
			}
			p, _ := cp.PolicyFor("nginx")
			n := p.Authorities[0].Notation
			if n == nil || n.TrustPolicy != filepath.Join(dir, "trustpolicy.json") || n.TrustStore[0] != filepath.Join(dir, "root.pem") || p.Authorities[0].Keyless() {
				t.Fatalf("authority = %+v", p.Authorities[0])
			}
		})
	}
	// The trust policy is validated with notation's rules at Compile.
	if err := os.WriteFile(filepath.Join(dir, "bad.json"), []byte(`{"version":"1.0","trustPolicies":[{"name":"p","registryScopes":["*"],"signatureVerification":{"level":"paranoid"},"trustStores":["ca:x"],"trustedIdentities":["*"]}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := imagesig.ParsePolicyConfig([]byte("images: [{glob: '**', authorities: [{notation: {trustStore: root.pem, trustPolicy: bad.json}}]}]"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.Compile(dir); err == nil || !strings.Contains(err.Error(), "bad.json") || !strings.Contains(err.Error(), "paranoid") {
		t.Fatalf("Compile with an invalid trust policy: %v", err)
	}
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i := range lines {
		lines[i] = prefix + lines[i]
	}
	return strings.Join(lines, "\n") + "\n"
}
