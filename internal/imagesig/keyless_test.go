package imagesig_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/kubectl-secure/kubectl-secure/internal/imagesig"
	ist "github.com/kubectl-secure/kubectl-secure/internal/imagesig/imagesigtest"
)

const (
	ciIdentity = "https://github.com/org/app/.github/workflows/release.yml@refs/heads/main"
	ciIssuer   = "https://token.actions.githubusercontent.com"
	signPred   = "https://sigstore.dev/cosign/sign/v1"
)

func keylessPolicy(trustedRoot string) imagesig.Policy {
	return imagesig.Policy{Authorities: []imagesig.Authority{{Identity: ciIdentity, Issuer: ciIssuer, TrustedRoot: trustedRoot}}}
}

func TestKeylessBundleReferrer(t *testing.T) {
	ss := ist.NewSigstore(t)
	tr := ss.WriteTrustedRoot(t, t.TempDir(), false)
	ctx := context.Background()
	v := newVerifier()

	for _, withAPI := range []bool{true, false} {
		var opts []ist.RegistryOption
		if !withAPI {
			opts = append(opts, ist.WithoutReferrersAPI())
		}
		reg := ist.NewRegistry(t, opts...)
		img := reg.PushImage(t, "app:v1")
		reg.PushBundleReferrer(t, img, ss.AttestBundle(t, ciIdentity, ciIssuer, ist.Statement(img, signPred, "")), signPred)

		r := v.Verify(ctx, reg.Ref("app:v1"), keylessPolicy(tr))
		expectVerified(t, r)
		if r.Format != imagesig.FormatBundle || r.Signer == nil || r.Signer.Identity != ciIdentity || r.Signer.Issuer != ciIssuer {
			t.Fatalf("unexpected %+v signer %+v", r, r.Signer)
		}
	}

	reg := ist.NewRegistry(t)
	img := reg.PushImage(t, "app:v1")
	reg.PushBundleReferrer(t, img, ss.AttestBundle(t, ciIdentity, ciIssuer, ist.Statement(img, signPred, "")), signPred)

	t.Run("identity regexp", func(t *testing.T) {
		p := imagesig.Policy{Authorities: []imagesig.Authority{{IdentityRegexp: `^https://github\.com/org/`, IssuerRegexp: `^https://token\.actions\.`, TrustedRoot: tr}}}
		expectVerified(t, v.Verify(ctx, img.String(), p))
	})
	t.Run("wrong identity", func(t *testing.T) {
		p := keylessPolicy(tr)
		p.Authorities[0].Identity = "https://github.com/evil/app/.github/workflows/release.yml@refs/heads/main"
		expectFail(t, v.Verify(ctx, img.String(), p), imagesig.KindWrongSigner, "certificate identity does not match")
	})
	t.Run("wrong issuer", func(t *testing.T) {
		p := keylessPolicy(tr)
		p.Authorities[0].Issuer = "https://accounts.google.com"
		expectFail(t, v.Verify(ctx, img.String(), p), imagesig.KindWrongSigner, "certificate identity does not match")
	})
	t.Run("another sigstore's root", func(t *testing.T) {
		other := ist.NewSigstore(t).WriteTrustedRoot(t, t.TempDir(), false)
		expectFail(t, v.Verify(ctx, img.String(), keylessPolicy(other)), imagesig.KindInvalid, "")
	})
	t.Run("SCT required when the root lists CT logs", func(t *testing.T) {
		withCT := ss.WriteTrustedRoot(t, t.TempDir(), true)
		expectFail(t, v.Verify(ctx, img.String(), keylessPolicy(withCT)), imagesig.KindInvalid, "signed certificate timestamp")
	})
	t.Run("key policy on a keyless signature", func(t *testing.T) {
		expectFail(t, v.Verify(ctx, img.String(), keyPolicy(ist.NewKeyPair(t))), imagesig.KindWrongSigner, "policy expects a key")
	})
	t.Run("bundle for another digest", func(t *testing.T) {
		victim := reg.PushImage(t, "app:victim")
		reg.PushBundleReferrer(t, victim, ss.AttestBundle(t, ciIdentity, ciIssuer, ist.Statement(img, signPred, "")), signPred)
		expectFail(t, v.Verify(ctx, victim.String(), keylessPolicy(tr)), imagesig.KindInvalid, "digest mismatch")
	})
	t.Run("attestations from the same authority", func(t *testing.T) {
		p := keylessPolicy(tr)
		p.AttestationTypes = []string{"slsaprovenance", "https://example.com/custom/v1"}
		expectFail(t, v.Verify(ctx, img.String(), p), imagesig.KindUnsigned, "no verified slsaprovenance, https://example.com/custom/v1 attestation")
		// Provenance by someone else does not count.
		reg.PushBundleReferrer(t, img, ss.AttestBundle(t, "https://github.com/evil/x/.github/workflows/x.yml@refs/heads/main", ciIssuer,
			ist.Statement(img, "https://slsa.dev/provenance/v1", `{"buildDefinition":{}}`)), "https://slsa.dev/provenance/v1")
		expectFail(t, v.Verify(ctx, img.String(), p), imagesig.KindUnsigned, "no verified slsaprovenance")
		reg.PushBundleReferrer(t, img, ss.AttestBundle(t, ciIdentity, ciIssuer, ist.Statement(img, "https://slsa.dev/provenance/v1", `{"buildDefinition":{}}`)), "https://slsa.dev/provenance/v1")
		reg.PushBundleReferrer(t, img, ss.AttestBundle(t, ciIdentity, ciIssuer, ist.Statement(img, "https://example.com/custom/v1", `{}`)), "https://example.com/custom/v1")
		r := v.Verify(ctx, img.String(), p)
		expectVerified(t, r)
		if len(r.Attestations) != 2 {
			t.Fatalf("attestations = %+v", r.Attestations)
		}
	})
}

func TestKeylessLegacySignature(t *testing.T) {
	ss := ist.NewSigstore(t)
	tr := ss.WriteTrustedRoot(t, t.TempDir(), false)
	reg := ist.NewRegistry(t)
	ctx := context.Background()
	v := newVerifier()

	img := reg.PushImage(t, "app:v1")
	ss.SignLegacy(t, reg, img, ciIdentity, ciIssuer, nil)
	r := v.Verify(ctx, reg.Ref("app:v1"), keylessPolicy(tr))
	expectVerified(t, r)
	if r.Format != imagesig.FormatLegacySig || r.Signer.Identity != ciIdentity || r.Signer.Issuer != ciIssuer {
		t.Fatalf("unexpected %+v", r)
	}

	wrongIssuer := keylessPolicy(tr)
	wrongIssuer.Authorities[0].Issuer = "https://gitlab.com"
	expectFail(t, v.Verify(ctx, img.String(), wrongIssuer), imagesig.KindWrongSigner, "certificate identity does not match")

	t.Run("forged signed entry timestamp", func(t *testing.T) {
		i := reg.PushImage(t, "app:forged-set")
		ss.SignLegacy(t, reg, i, ciIdentity, ciIssuer, func(a map[string]string) {
			// Keep a valid structure, break the SET: move the integrated time.
			var b map[string]any
			if err := json.Unmarshal([]byte(a["dev.sigstore.cosign/bundle"]), &b); err != nil {
				t.Fatal(err)
			}
			p := b["Payload"].(map[string]any)
			p["integratedTime"] = p["integratedTime"].(float64) + 1
			nb, _ := json.Marshal(b)
			a["dev.sigstore.cosign/bundle"] = string(nb)
			// Without a timestamp, the log entry is the only time evidence.
			delete(a, "dev.sigstore.cosign/rfc3161timestamp")
		})
		expectFail(t, v.Verify(ctx, i.String(), keylessPolicy(tr)), imagesig.KindInvalid, "log")
	})
	t.Run("no log entry: signed timestamp suffices", func(t *testing.T) {
		i := reg.PushImage(t, "app:tsa-only")
		ss.SignLegacy(t, reg, i, ciIdentity, ciIssuer, func(a map[string]string) { delete(a, "dev.sigstore.cosign/bundle") })
		expectVerified(t, v.Verify(ctx, i.String(), keylessPolicy(tr)))
	})
	t.Run("no log entry and no timestamp", func(t *testing.T) {
		i := reg.PushImage(t, "app:no-evidence")
		ss.SignLegacy(t, reg, i, ciIdentity, ciIssuer, func(a map[string]string) {
			delete(a, "dev.sigstore.cosign/bundle")
			delete(a, "dev.sigstore.cosign/rfc3161timestamp")
		})
		expectFail(t, v.Verify(ctx, i.String(), keylessPolicy(tr)), imagesig.KindInvalid, "timestamp")
	})
	t.Run("legacy attestation", func(t *testing.T) {
		p := keylessPolicy(tr)
		p.AttestationTypes = []string{"vuln"}
		expectFail(t, v.Verify(ctx, img.String(), p), imagesig.KindUnsigned, "no verified vuln attestation")
		const vulnPred = "https://cosign.sigstore.dev/attestation/vuln/v1"
		// By another identity: does not count.
		ss.AttestLegacy(t, reg, img, "https://github.com/evil/x/.github/workflows/x.yml@refs/heads/main", ciIssuer, ist.Statement(img, vulnPred, `{}`))
		expectFail(t, v.Verify(ctx, img.String(), p), imagesig.KindUnsigned, "no verified vuln attestation")
		// About another image: invalid.
		other := reg.PushImage(t, "app:other")
		ss.AttestLegacy(t, reg, img, ciIdentity, ciIssuer, ist.Statement(other, vulnPred, `{}`))
		expectFail(t, v.Verify(ctx, img.String(), p), imagesig.KindInvalid, "digest mismatch: the signed statement covers "+other.DigestStr())
		ss.AttestLegacy(t, reg, img, ciIdentity, ciIssuer, ist.Statement(img, vulnPred, `{}`))
		r := v.Verify(ctx, img.String(), p)
		expectVerified(t, r)
		if len(r.Attestations) != 1 || r.Attestations[0].Format != imagesig.FormatLegacySig || r.Attestations[0].PredicateType != vulnPred {
			t.Fatalf("attestations = %+v", r.Attestations)
		}
	})
	t.Run("certificate of another sigstore", func(t *testing.T) {
		i := reg.PushImage(t, "app:other-ca")
		ist.NewSigstore(t).SignLegacy(t, reg, i, ciIdentity, ciIssuer, nil)
		expectFail(t, v.Verify(ctx, i.String(), keylessPolicy(tr)), imagesig.KindInvalid, "")
	})
}

// TestPublicGoodBundleOnImage attaches a real public-good bundle (SLSA
// provenance of an npm package, see testdata/imagesig/README.md) to an image:
// certificate chain, SCT, Rekor inclusion proof, SET and timestamp all
// verify offline against the public-good trusted root, and only the subject
// check fails, because the bundle is about another artifact.
func TestPublicGoodBundleOnImage(t *testing.T) {
	root := ist.RepoRoot(t)
	b, err := os.ReadFile(filepath.Join(root, "testdata", "imagesig", "sigstore-js-1.3.0-provenance.sigstore.json"))
	if err != nil {
		t.Fatal(err)
	}
	tr := filepath.Join(root, "testdata", "imagesig", "trusted_root.public-good.json")
	reg := ist.NewRegistry(t)
	img := reg.PushImage(t, "app:v1")
	reg.PushBundleReferrer(t, img, b, "")
	pol := imagesig.Policy{Authorities: []imagesig.Authority{{
		Identity: "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main",
		Issuer:   "https://token.actions.githubusercontent.com", TrustedRoot: tr,
	}}}
	v := newVerifier()
	expectFail(t, v.Verify(context.Background(), img.String(), pol), imagesig.KindInvalid,
		"digest mismatch: the signed statement covers sha512:76176ffa33808b54602c7c35de5c6e9a4deb96066dba6533f50ac234f4f1f4c6b3527515dc17c06fbe2860030f410eee69ea20079bd3a2c6f3dcf3b329b10751")
	pol.Authorities[0].Identity = "https://github.com/sigstore/sigstore-js/.github/workflows/other.yml@refs/heads/main"
	expectFail(t, v.Verify(context.Background(), img.String(), pol), imagesig.KindWrongSigner, "certificate identity does not match")
}
