package rules

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/kubectl-secure/kubectl-secure/internal/engine"
	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
	"github.com/kubectl-secure/kubectl-secure/internal/render"
)

// Values a chart generates at render time (the renderer marks them in
// manifest.Object.Generated) are not committed secrets; values a user sets
// in values.yaml are.
func TestSecretInManifestSkipsHelmGeneratedValues(t *testing.T) {
	dir := t.TempDir()
	for p, content := range map[string]string{
		"Chart.yaml":  "apiVersion: v2\nname: gen\nversion: 0.1.0\n",
		"values.yaml": "apiKey: Xk29-aLq81-ZtQ\npassword: \"\"\n",
		"templates/generated.yaml": `{{- $ca := genCA "gen-ca" 365 }}
apiVersion: v1
kind: Secret
metadata:
  name: generated
data:
  password: {{ randAlphaNum 24 | b64enc }}
  ca.crt: {{ $ca.Cert | b64enc }}
  tls.key: {{ $ca.Key | b64enc }}
  id: {{ uuidv4 | b64enc }}
---
apiVersion: v1
kind: Secret
metadata:
  name: from-values
data:
  password: {{ randAlphaNum 24 | b64enc }}
  apiKey: {{ .Values.apiKey | b64enc }}
---
# A values key that falls back to a generated value when empty: generated
# (the renderer marks it).
apiVersion: v1
kind: Secret
metadata:
  name: fallback
data:
  password: {{ .Values.password | default (randAlphaNum 16) | b64enc }}
---
# A generated key in a ConfigMap is not a committed credential either.
apiVersion: v1
kind: ConfigMap
metadata:
  name: keys
data:
  signing.key: {{ genPrivateKey "ecdsa" | quote }}
`,
	} {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	res := render.Load([]string{dir}, render.Options{Manifest: manifest.Options{BaseDir: dir}})
	if len(res.Errors) > 0 || len(res.Objects) != 4 {
		t.Fatalf("render: %d objects, errors %v", len(res.Objects), res.Errors)
	}
	raws, errs := (&engine.Engine{Registry: testRegistry(t)}).Run(res.Objects)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var got []engine.Raw
	for _, r := range raws {
		switch r.RuleID() {
		case "secret-in-manifest":
			got = append(got, r)
		case "hardcoded-credential":
			t.Errorf("generated value reported: %s", r.Message)
		}
	}
	if len(got) != 1 || got[0].Obj.Name != "from-values" || got[0].Severity != finding.High {
		for _, r := range got {
			t.Logf("%s %s: %s", r.Severity, r.Obj.Name, r.Message)
		}
		t.Fatalf("want one high finding on from-values, got %d", len(got))
	}
	if want := `Secret from-values commits 1 value(s) in data (keys: apiKey): literal credentials (a literal value in "apiKey")`; got[0].Message[:len(want)] != want {
		t.Errorf("message %q", got[0].Message)
	}
}
