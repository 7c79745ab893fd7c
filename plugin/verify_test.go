package plugin

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-secure/kubectl-secure/internal/imagesig"
	ist "github.com/kubectl-secure/kubectl-secure/internal/imagesig/imagesigtest"
)

func runVerify(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	// Never read the developer's Docker credentials.
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	in, out, errOut := &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	cmd := NewCmdVerify(genericiooptions.IOStreams{In: in, Out: out, ErrOut: errOut})
	cmd.SetArgs(args)
	cmd.SetOut(out)
	cmd.SetErr(errOut)
	err := cmd.Execute()
	return out.String(), errOut.String(), err
}

func writeFile(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestVerifyCommandKey(t *testing.T) {
	reg := ist.NewRegistry(t)
	k := ist.NewKeyPair(t)
	signed := reg.PushImage(t, "app:v1")
	reg.SignLegacy(t, signed, k)
	unsigned := reg.PushImage(t, "app:unsigned")
	keyFile := writeFile(t, "cosign.pub", k.PubPEM)

	out, _, err := runVerify(t, "--key", keyFile, reg.Ref("app:v1"))
	if err != nil || ExitCode(err) != 0 {
		t.Fatalf("exit %d (%v), output:\n%s", ExitCode(err), err, out)
	}
	for _, want := range []string{reg.Ref("app:v1"), "digest:    " + signed.DigestStr(), "result:    verified", "format:    cosign-legacy-sig", "signed:    manifest", "signer:    key sha256:"} {
		if !strings.Contains(out, want) {
			t.Fatalf("output lacks %q:\n%s", want, out)
		}
	}

	out, _, err = runVerify(t, "--key", keyFile, reg.Ref("app:v1"), unsigned.String())
	if ExitCode(err) != 1 {
		t.Fatalf("exit %d (%v), want 1; output:\n%s", ExitCode(err), err, out)
	}
	if !strings.Contains(out, "NOT VERIFIED (unsigned)") || !strings.Contains(out, "reason:    no signatures for manifest "+unsigned.DigestStr()) {
		t.Fatalf("output:\n%s", out)
	}

	out, _, err = runVerify(t, "--key", keyFile, "-o", "json", reg.Ref("app:v1"), unsigned.String(), reg.Ref("app:v1"))
	if ExitCode(err) != 1 {
		t.Fatalf("exit %d, want 1", ExitCode(err))
	}
	var rep struct {
		Verified bool              `json:"verified"`
		Images   []imagesig.Result `json:"images"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("bad JSON: %v\n%s", err, out)
	}
	if rep.Verified || len(rep.Images) != 2 || !rep.Images[0].Verified || rep.Images[1].Verified ||
		rep.Images[1].Kind != imagesig.KindUnsigned || rep.Images[0].Signer == nil || rep.Images[0].Digest != signed.DigestStr() {
		t.Fatalf("unexpected report %+v", rep)
	}
}

func TestVerifyCommandWrongKeyAndUnreachable(t *testing.T) {
	reg := ist.NewRegistry(t)
	signed := reg.PushImage(t, "app:v1")
	reg.SignLegacy(t, signed, ist.NewKeyPair(t))
	other := writeFile(t, "other.pub", ist.NewKeyPair(t).PubPEM)

	out, _, err := runVerify(t, "--key", other, signed.String())
	if ExitCode(err) != 1 || !strings.Contains(out, "NOT VERIFIED (wrong-signer)") {
		t.Fatalf("exit %d, output:\n%s", ExitCode(err), out)
	}
	reg.Close()
	out, _, err = runVerify(t, "--key", other, "--timeout", "2s", signed.String())
	if ExitCode(err) != 1 || !strings.Contains(out, "NOT VERIFIED (unreachable)") || !strings.Contains(out, "connection refused") {
		t.Fatalf("exit %d, output:\n%s", ExitCode(err), out)
	}
}

func TestVerifyCommandKeyless(t *testing.T) {
	ss := ist.NewSigstore(t)
	tr := ss.WriteTrustedRoot(t, t.TempDir(), false)
	reg := ist.NewRegistry(t)
	img := reg.PushImage(t, "app:v1")
	const id, iss = "https://github.com/org/app/.github/workflows/release.yml@refs/heads/main", "https://token.actions.githubusercontent.com"
	reg.PushBundleReferrer(t, img, ss.AttestBundle(t, id, iss, ist.Statement(img, "https://sigstore.dev/cosign/sign/v1", "")), "https://sigstore.dev/cosign/sign/v1")

	out, _, err := runVerify(t, "--trusted-root", tr, "--certificate-identity", id, "--certificate-oidc-issuer", iss, reg.Ref("app:v1"))
	if err != nil {
		t.Fatalf("exit %d (%v):\n%s", ExitCode(err), err, out)
	}
	if !strings.Contains(out, "signer:    "+id+" (issuer "+iss+")") || !strings.Contains(out, "format:    sigstore-bundle-referrer") {
		t.Fatalf("output:\n%s", out)
	}
	out, _, err = runVerify(t, "--trusted-root", tr, "--certificate-identity-regexp", "^https://github.com/other/", "--certificate-oidc-issuer", iss, reg.Ref("app:v1"))
	if ExitCode(err) != 1 || !strings.Contains(out, "wrong-signer") {
		t.Fatalf("exit %d:\n%s", ExitCode(err), out)
	}
	out, _, err = runVerify(t, "--trusted-root", tr, "--certificate-identity", id, "--certificate-oidc-issuer", iss, "--attestation-type", "spdx", reg.Ref("app:v1"))
	if ExitCode(err) != 1 || !strings.Contains(out, "no verified spdx attestation") {
		t.Fatalf("exit %d:\n%s", ExitCode(err), out)
	}

	// No --trusted-root: the trust root comes from a TUF repository, cached.
	trJSON, err := os.ReadFile(tr)
	if err != nil {
		t.Fatal(err)
	}
	repo := ist.NewTUFRepo(t, trJSON)
	tufRoot := repo.WriteRoot(t, t.TempDir())
	cache := t.TempDir()
	t.Setenv(imagesig.TUFCacheEnv, cache)
	args := []string{"--tuf-mirror", repo.URL, "--tuf-root", tufRoot, "--certificate-identity", id, "--certificate-oidc-issuer", iss, reg.Ref("app:v1")}
	if out, _, err = runVerify(t, args...); err != nil || !strings.Contains(out, "result:    verified") {
		t.Fatalf("exit %d (%v):\n%s", ExitCode(err), err, out)
	}
	if entries, _ := os.ReadDir(cache); len(entries) == 0 {
		t.Fatalf("nothing cached in $%s", imagesig.TUFCacheEnv)
	}
	// Warm cache, mirror down: still verified.
	repo.Close()
	if out, _, err = runVerify(t, args...); err != nil {
		t.Fatalf("offline: exit %d (%v):\n%s", ExitCode(err), err, out)
	}
	// Another cache (--tuf-cache), mirror down: exit 2, naming the cause.
	out, _, err = runVerify(t, append([]string{"--tuf-cache", t.TempDir()}, args...)...)
	if ExitCode(err) != 2 || !strings.Contains(out, "TUF mirror "+repo.URL+" unreachable") {
		t.Fatalf("exit %d (%v):\n%s", ExitCode(err), err, out)
	}
}

func TestVerifyCommandUsageErrors(t *testing.T) {
	key := writeFile(t, "k.pub", ist.NewKeyPair(t).PubPEM)
	notKey := writeFile(t, "bad.pub", []byte("hello"))
	tr := ist.NewSigstore(t).WriteTrustedRoot(t, t.TempDir(), false)
	cases := map[string][]string{
		"no image":               {"--key", key},
		"no authority":           {"127.0.0.1:1/app:v1"},
		"missing key file":       {"--key", filepath.Join(t.TempDir(), "nope.pub"), "127.0.0.1:1/app:v1"},
		"not a key":              {"--key", notKey, "127.0.0.1:1/app:v1"},
		"bad output":             {"--key", key, "-o", "yaml", "127.0.0.1:1/app:v1"},
		"root file and TUF":      {"--certificate-identity", "a", "--certificate-oidc-issuer", "b", "--trusted-root", tr, "--tuf-mirror", "https://tuf.example.com", "127.0.0.1:1/app:v1"},
		"TUF over plain HTTP":    {"--certificate-identity", "a", "--certificate-oidc-issuer", "b", "--tuf-mirror", "http://tuf.example.com", "127.0.0.1:1/app:v1"},
		"missing TUF root":       {"--certificate-identity", "a", "--certificate-oidc-issuer", "b", "--tuf-root", filepath.Join(t.TempDir(), "root.json"), "127.0.0.1:1/app:v1"},
		"keyless without issuer": {"--certificate-identity", "a", "--trusted-root", tr, "127.0.0.1:1/app:v1"},
		"bad regexp":             {"--certificate-identity-regexp", "(", "--certificate-oidc-issuer", "b", "--trusted-root", tr, "127.0.0.1:1/app:v1"},
		"unknown attestation":    {"--key", key, "--attestation-type", "nonsense", "127.0.0.1:1/app:v1"},
		"bad platform":           {"--key", key, "--platform", "linux", "127.0.0.1:1/app:v1"},
		"bad reference":          {"--key", key, "NOT A REF"},
	}
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			out, _, err := runVerify(t, args...)
			if ExitCode(err) != 2 {
				t.Fatalf("exit %d (%v), want 2; output:\n%s", ExitCode(err), err, out)
			}
		})
	}
}

func TestVerifyCommandNotation(t *testing.T) {
	reg := ist.NewRegistry(t)
	ca := ist.NewNotationCA(t, "acme root")
	img := reg.PushImage(t, "app:v1")
	reg.SignNotation(t, img, ca.Leaf(t, "acme", "release signer", time.Now().Add(-time.Hour), time.Now().Add(time.Hour)), ist.NotationCOSE)
	other := reg.PushImage(t, "app:other")
	reg.SignNotation(t, other, ist.NewNotationCA(t, "acme root").Leaf(t, "acme", "release signer", time.Now().Add(-time.Hour), time.Now().Add(time.Hour)), ist.NotationJWS)
	dir := t.TempDir()
	store := ist.WriteNotationTrustStore(t, filepath.Join(dir, "truststore"), "acme", ca)
	tp := ist.WriteNotationTrustPolicy(t, dir, ist.NotationPolicy{Name: "acme", Scopes: []string{reg.Host + "/app"}, Level: "strict",
		TrustStores: []string{"ca:acme"}, TrustedIdentities: []string{"x509.subject: C=US, ST=WA, O=acme, CN=release signer"}})

	out, _, err := runVerify(t, "--notation-trust-policy", tp, "--notation-trust-store", store, reg.Ref("app:v1"))
	if err != nil {
		t.Fatalf("exit %d (%v):\n%s", ExitCode(err), err, out)
	}
	for _, want := range []string{"format:    notation-cose", "signer:    CN=release signer,O=acme,ST=WA,C=US (notation, level strict)", "signature: sha256:"} {
		if !strings.Contains(out, want) {
			t.Fatalf("output lacks %q:\n%s", want, out)
		}
	}
	out, _, err = runVerify(t, "-o", "json", "--notation-trust-policy", tp, "--notation-trust-store", store, reg.Ref("app:v1"), other.String())
	if ExitCode(err) != 1 {
		t.Fatalf("exit %d (%v), want 1:\n%s", ExitCode(err), err, out)
	}
	var rep struct {
		Images []imagesig.Result `json:"images"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Images) != 2 || !rep.Images[0].Verified || rep.Images[0].Signer.Subject == "" || rep.Images[1].Kind != imagesig.KindWrongSigner || !strings.Contains(rep.Images[1].Reason, "untrusted root") {
		t.Fatalf("report = %+v", rep)
	}
	// A trust policy without a trust store is a usage error.
	if _, _, err := runVerify(t, "--notation-trust-policy", tp, reg.Ref("app:v1")); ExitCode(err) != 2 {
		t.Fatalf("exit %d, want 2", ExitCode(err))
	}
}
