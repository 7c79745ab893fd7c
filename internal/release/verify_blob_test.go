package release

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-secure/kubectl-secure/internal/imagesig/imagesigtest"
)

// readmeCommand returns the arguments of the README's command that starts
// with prefix (continuation lines joined, double quotes removed), with
// shell variables replaced from vars.
func readmeCommand(t *testing.T, prefix string, vars map[string]string) []string {
	t.Helper()
	lines := strings.Split(string(mustRead(t, filepath.Join(repoRoot(t), "README.md"))), "\n")
	var cmd strings.Builder
	for i, l := range lines {
		if !strings.HasPrefix(l, prefix) {
			continue
		}
		for ; i < len(lines); i++ {
			l := strings.TrimSpace(lines[i])
			cont := strings.HasSuffix(l, "\\")
			cmd.WriteString(strings.TrimSuffix(l, "\\") + " ")
			if !cont {
				break
			}
		}
		break
	}
	s := cmd.String()
	for k, v := range vars {
		s = strings.ReplaceAll(s, "$"+k, v)
	}
	if strings.ContainsAny(s, "$'`") {
		t.Fatalf("README command %q needs a shell", s)
	}
	args := strings.Fields(strings.ReplaceAll(s, `"`, ""))
	if len(args) < 2 {
		t.Fatalf("README has no command starting with %q", prefix)
	}
	return args
}

// The README's `cosign verify-blob` command, run with the real cosign,
// accepts a checksums.txt signed as release.yml at the tag, and refuses a
// changed checksums.txt and signatures by another workflow or tag. The
// signing is a virtual sigstore's (offline); the only arguments added to
// the README's are its trust root and the absence of CT logs.
func TestReadmeVerifyBlob(t *testing.T) {
	cosign := imagesigtest.NewCosign(t, 3)
	sigstore := imagesigtest.NewSigstore(t)
	trustedRoot := sigstore.WriteTrustedRoot(t, t.TempDir(), false)

	const tag = "v1.2.3"
	args := readmeCommand(t, "cosign verify-blob", map[string]string{"VERSION": tag})
	// The virtual sigstore's trust root instead of the public one, and its
	// certificates carry no certificate-transparency timestamp.
	args = append(args[1:len(args)-1], "--trusted-root", trustedRoot, "--insecure-ignore-sct", args[len(args)-1])

	repo := strings.TrimPrefix(Module, "github.com/")
	workflow := "https://github.com/" + repo + "/.github/workflows/release.yml@refs/tags/"
	const issuer = "https://token.actions.githubusercontent.com"
	checksums := Checksums(fakeArtifacts(tag, Platforms))

	verify := func(signed, onDisk []byte, identity string) (string, error) {
		t.Helper()
		bundle := sigstore.SignBlobBundle(t, identity, issuer, signed)
		if err := os.WriteFile(filepath.Join(cosign.Home, ChecksumsFile+".sigstore.json"), bundle, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(cosign.Home, ChecksumsFile), onDisk, 0o644); err != nil {
			t.Fatal(err)
		}
		return cosign.TryRun(args...)
	}
	if out, err := verify(checksums, checksums, workflow+tag); err != nil {
		t.Fatalf("cosign %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	changed := append(checksums, []byte("0000  extra.tar.gz\n")...)
	if out, err := verify(checksums, changed, workflow+tag); err == nil || !strings.Contains(out, "invalid signature") {
		t.Errorf("a changed checksums.txt: %v\n%s", err, out)
	}
	for _, other := range []string{
		workflow + "v1.2.4",
		"https://github.com/" + repo + "/.github/workflows/ci.yml@refs/tags/" + tag,
		"https://github.com/someone/fork/.github/workflows/release.yml@refs/tags/" + tag,
	} {
		if out, err := verify(checksums, checksums, other); err == nil || !strings.Contains(out, "no matching CertificateIdentity") {
			t.Errorf("signed as %s: %v\n%s", other, err, out)
		}
	}
}
