package plugin

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ist "github.com/kubectl-secure/kubectl-secure/internal/imagesig/imagesigtest"
)

// lint --verify-images with a config naming a Notary Project authority and a
// keyless one whose trust root comes from a TUF repository (--tuf-mirror and
// --tuf-root override the config's tuf).
func TestLintVerifyImagesNotationAndTUF(t *testing.T) {
	reg := ist.NewRegistry(t)
	ca := ist.NewNotationCA(t, "acme root")
	notarySigned := reg.PushImage(t, "notary/app:v1")
	reg.SignNotation(t, notarySigned, ca.Leaf(t, "acme", "release signer", time.Now().Add(-time.Hour), time.Now().Add(time.Hour)), ist.NotationJWS)
	reg.PushImage(t, "notary/unsigned:v1")

	ss := ist.NewSigstore(t)
	const id, iss = "https://github.com/org/app/.github/workflows/release.yml@refs/heads/main", "https://token.actions.githubusercontent.com"
	keyless := reg.PushImage(t, "keyless/app:v1")
	reg.PushBundleReferrer(t, keyless, ss.AttestBundle(t, id, iss, ist.Statement(keyless, "https://sigstore.dev/cosign/sign/v1", "")), "https://sigstore.dev/cosign/sign/v1")
	trJSON, err := os.ReadFile(ss.WriteTrustedRoot(t, t.TempDir(), false))
	if err != nil {
		t.Fatal(err)
	}
	tuf := ist.NewTUFRepo(t, trJSON)

	pod := func(name, image string) string {
		return fmt.Sprintf("apiVersion: v1\nkind: Pod\nmetadata:\n  name: %s\nspec:\n  containers:\n    - name: c\n      image: %s\n", name, image)
	}
	dir := writeFiles(t, map[string]string{
		"pods.yaml": strings.Join([]string{
			pod("a", reg.Ref("notary/app:v1")), pod("b", reg.Ref("notary/unsigned:v1")), pod("c", reg.Ref("keyless/app:v1")),
		}, "---\n"),
		"tuf/root.json": string(tuf.RootJSON(t)),
		".kubectl-secure.yaml": fmt.Sprintf(`imageVerification:
  tuf: {mirror: "https://tuf.invalid", root: nope.json}
  images:
    - glob: "%[1]s/notary/**"
      authorities:
        - notation:
            trustStore: truststore
            trustPolicy: trustpolicy.json
    - glob: "%[1]s/keyless/**"
      authorities:
        - keyless: {identity: %[2]q, issuer: %[3]q}
`, reg.Host, id, iss),
	})
	ist.WriteNotationTrustStore(t, filepath.Join(dir, "truststore"), "acme", ca)
	ist.WriteNotationTrustPolicy(t, dir, ist.NotationPolicy{Name: "acme", Scopes: []string{"*"}, Level: "strict",
		TrustStores: []string{"ca:acme"}, TrustedIdentities: []string{"x509.subject: C=US, ST=WA, O=acme, CN=release signer"}})

	// The config's tuf root does not exist: Compile says so.
	if _, errOut, code := run(t, dir, "", nil, "lint", "--verify-images", "--enable", "image-signature", "pods.yaml"); code != 2 || !strings.Contains(errOut, "nope.json") {
		t.Fatalf("code %d, stderr %s", code, errOut)
	}
	out, errOut, code := run(t, dir, "", nil, "lint", "--verify-images", "--enable", "image-signature", "-o", "json",
		"--tuf-mirror", tuf.URL, "--tuf-root", filepath.Join(dir, "tuf", "root.json"), "--tuf-cache", t.TempDir(), "pods.yaml")
	if code != 1 {
		t.Fatalf("code %d, stderr %s\n%s", code, errOut, out)
	}
	var rep struct {
		Findings []struct {
			RuleID  string                `json:"ruleId"`
			Message string                `json:"message"`
			Object  struct{ Name string } `json:"object"`
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 1 || rep.Findings[0].Object.Name != "b" || !strings.Contains(rep.Findings[0].Message, "(unsigned)") {
		t.Fatalf("want one unsigned finding for b, got %+v", rep.Findings)
	}
	if tuf.Requests() == 0 {
		t.Fatal("the keyless image was verified without asking the TUF mirror")
	}
}
