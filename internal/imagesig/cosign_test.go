package imagesig_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-secure/kubectl-secure/internal/imagesig"
	ist "github.com/kubectl-secure/kubectl-secure/internal/imagesig/imagesigtest"
)

// These tests sign images with the real cosign CLIs (built by `make cosign`)
// against the in-process registry, offline: no transparency log upload, no
// signing config, keys from `cosign generate-key-pair`.

const slsaPredicate = `{"buildType":"https://example.com/build/v1","builder":{"id":"https://example.com/builder"},"invocation":{},"materials":[]}`

func cosignSignArgs(major int, key, ref string) []string {
	args := []string{"sign", "--key", key, "--tlog-upload=false", "--allow-insecure-registry", "--allow-http-registry", "--yes"}
	if major >= 3 {
		args = append(args, "--use-signing-config=false")
	}
	return append(args, ref)
}

func cosignAttestArgs(major int, key, predicate, typ, ref string) []string {
	args := []string{"attest", "--key", key, "--predicate", predicate, "--type", typ, "--tlog-upload=false", "--allow-insecure-registry", "--allow-http-registry", "--yes"}
	if major >= 3 {
		args = append(args, "--use-signing-config=false")
	}
	return append(args, ref)
}

func TestCosignV2LegacySignatures(t *testing.T) {
	testCosign(t, 2, imagesig.FormatLegacySig, true)
}

func TestCosignV3BundleReferrers(t *testing.T) {
	testCosign(t, 3, imagesig.FormatBundle, true)
}

func TestCosignV3BundleReferrersTagFallback(t *testing.T) {
	testCosign(t, 3, imagesig.FormatBundle, false)
}

func testCosign(t *testing.T, major int, wantFormat string, referrersAPI bool) {
	cs := ist.NewCosign(t, major)
	var opts []ist.RegistryOption
	if !referrersAPI {
		opts = append(opts, ist.WithoutReferrersAPI())
	}
	reg := ist.NewRegistry(t, opts...)
	key, pub := cs.GenerateKeyPair(t, "signer")
	_, otherPub := cs.GenerateKeyPair(t, "other")
	pol := imagesig.Policy{Authorities: []imagesig.Authority{{Keys: [][]byte{pub}}}}
	wrong := imagesig.Policy{Authorities: []imagesig.Authority{{Keys: [][]byte{otherPub}}}}
	v := newVerifier()
	ctx := context.Background()

	img := reg.PushImage(t, "app:v1")
	cs.Run(t, cosignSignArgs(major, key, img.String())...)

	r := v.Verify(ctx, reg.Ref("app:v1"), pol)
	expectVerified(t, r)
	if r.Format != wantFormat || r.Digest != img.DigestStr() || r.SignedObject != "manifest" || r.Signer == nil || r.Signer.Key == "" {
		t.Fatalf("unexpected result: %+v", r)
	}
	expectFail(t, v.Verify(ctx, img.String(), wrong), imagesig.KindWrongSigner, "given key")

	// Attestations: none yet, then a signed SLSA provenance.
	attPol := pol
	attPol.AttestationTypes = []string{"slsaprovenance"}
	expectFail(t, v.Verify(ctx, img.String(), attPol), imagesig.KindUnsigned, "no verified slsaprovenance attestation")
	pred := filepath.Join(cs.Home, "provenance.json")
	if err := os.WriteFile(pred, []byte(slsaPredicate), 0o600); err != nil {
		t.Fatal(err)
	}
	cs.Run(t, cosignAttestArgs(major, key, pred, "slsaprovenance", img.String())...)
	r = v.Verify(ctx, img.String(), attPol)
	expectVerified(t, r)
	if len(r.Attestations) != 1 || r.Attestations[0].Type != "slsaprovenance" || !strings.HasPrefix(r.Attestations[0].PredicateType, "https://slsa.dev/provenance/") {
		t.Fatalf("attestations = %+v", r.Attestations)
	}
	// An attestation type nobody attested.
	attPol.AttestationTypes = []string{"slsaprovenance", "cyclonedx"}
	expectFail(t, v.Verify(ctx, img.String(), attPol), imagesig.KindUnsigned, "no verified cyclonedx attestation")

	// Unsigned image.
	u := reg.PushImage(t, "app:unsigned")
	expectFail(t, v.Verify(ctx, u.String(), pol), imagesig.KindUnsigned, "no signatures")

	// Tag moved to a new image after signing.
	reg.PushImage(t, "app:v1")
	expectFail(t, v.Verify(ctx, reg.Ref("app:v1"), pol), imagesig.KindUnsigned, "no signatures")
	expectVerified(t, v.Verify(ctx, img.String(), pol)) // the old digest is still signed
}

// TestCosignV2SignatureCopiedToAnotherImage copies cosign's .sig image onto
// another image's signature tag: the signature is valid, the digest is not.
func TestCosignV2SignatureCopiedToAnotherImage(t *testing.T) {
	cs := ist.NewCosign(t, 2)
	reg := ist.NewRegistry(t)
	key, pub := cs.GenerateKeyPair(t, "signer")
	pol := imagesig.Policy{Authorities: []imagesig.Authority{{Keys: [][]byte{pub}}}}
	signed := reg.PushImage(t, "app:signed")
	cs.Run(t, cosignSignArgs(2, key, signed.String())...)
	victim := reg.PushImage(t, "app:victim")
	reg.CopyTag(t, ist.SigTag(signed), ist.SigTag(victim))
	expectFail(t, newVerifier().Verify(context.Background(), victim.String(), pol), imagesig.KindInvalid, "digest mismatch: the signature covers "+signed.DigestStr())
}

// TestCosignV3BundleCopiedToAnotherImage re-attaches cosign v3's bundle to
// another image: the in-toto subject names the original digest.
func TestCosignV3BundleCopiedToAnotherImage(t *testing.T) {
	cs := ist.NewCosign(t, 3)
	reg := ist.NewRegistry(t)
	key, pub := cs.GenerateKeyPair(t, "signer")
	pol := imagesig.Policy{Authorities: []imagesig.Authority{{Keys: [][]byte{pub}}}}
	signed := reg.PushImage(t, "app:signed")
	cs.Run(t, cosignSignArgs(3, key, signed.String())...)
	b := ist.FetchBundleReferrer(t, signed)
	victim := reg.PushImage(t, "app:victim")
	reg.PushBundleReferrer(t, victim, b, "https://sigstore.dev/cosign/sign/v1")
	expectFail(t, newVerifier().Verify(context.Background(), victim.String(), pol), imagesig.KindInvalid, "digest mismatch")
}
