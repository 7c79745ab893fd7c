package imagesig

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestPublicGoodBundleVerifies verifies a real public-good sigstore bundle
// offline against the public-good trusted root, for the artifact it is about
// (testdata/imagesig/README.md): the positive counterpart of
// TestPublicGoodBundleOnImage.
func TestPublicGoodBundleVerifies(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "imagesig")
	b, err := os.ReadFile(filepath.Join(dir, "sigstore-js-1.3.0-provenance.sigstore.json"))
	if err != nil {
		t.Fatal(err)
	}
	const sha512 = "76176ffa33808b54602c7c35de5c6e9a4deb96066dba6533f50ac234f4f1f4c6b3527515dc17c06fbe2860030f410eee69ea20079bd3a2c6f3dcf3b329b10751"
	a := Authority{
		Identity:    "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main",
		Issuer:      "https://token.actions.githubusercontent.com",
		TrustedRoot: filepath.Join(dir, "trusted_root.public-good.json"),
	}
	v := New()
	vs, e := v.verifyBundle(b, a, nil, "sha512", sha512)
	if e != nil {
		t.Fatalf("verification failed: %s: %s", e.kind, e.msg)
	}
	if vs.signer.Identity != a.Identity || vs.signer.Issuer != a.Issuer || vs.predicateType != "https://slsa.dev/provenance/v0.2" {
		t.Fatalf("unexpected %+v", vs)
	}

	// One flipped byte in the signed payload breaks it.
	tampered := bytes.Clone(b)
	i := bytes.Index(tampered, []byte(`"payload":"`)) + len(`"payload":"`) + 40
	if tampered[i] == 'A' {
		tampered[i] = 'B'
	} else {
		tampered[i] = 'A'
	}
	if _, e := v.verifyBundle(tampered, a, nil, "sha512", sha512); e == nil || e.kind != KindInvalid {
		t.Fatalf("tampered bundle: got %v", e)
	}
	// The wrong artifact digest.
	if _, e := v.verifyBundle(b, a, nil, "sha512", "00"+sha512[2:]); e == nil || e.kind != KindInvalid {
		t.Fatalf("wrong digest: got %v", e)
	}
}
