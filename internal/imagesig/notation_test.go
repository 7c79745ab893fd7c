package imagesig_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-secure/kubectl-secure/internal/imagesig"
	ist "github.com/kubectl-secure/kubectl-secure/internal/imagesig/imagesigtest"
)

const (
	ntnOrg     = "acme"
	ntnCN      = "release signer"
	ntnSubject = "x509.subject: C=US, ST=WA, O=acme, CN=release signer"
)

// notationFixture is a registry, a CA whose root is in a trust store, and a
// trust policy for the registry's app repository.
type notationFixture struct {
	reg   *ist.Registry
	ca    *ist.NotationCA
	leaf  ist.NotationLeaf
	store string
	dir   string
}

func newNotationFixture(t *testing.T) *notationFixture {
	t.Helper()
	ca := ist.NewNotationCA(t, "acme root")
	f := &notationFixture{reg: ist.NewRegistry(t), ca: ca, dir: t.TempDir()}
	f.leaf = ca.Leaf(t, ntnOrg, ntnCN, time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
	f.store = ist.WriteNotationTrustStore(t, filepath.Join(f.dir, "truststore"), "acme", ca)
	return f
}

// policy is a notation-only policy at the given level with the given
// trusted identities (default: the leaf's subject).
func (f *notationFixture) policy(t *testing.T, level string, identities ...string) imagesig.Policy {
	t.Helper()
	if len(identities) == 0 {
		identities = []string{ntnSubject}
	}
	tp := ist.WriteNotationTrustPolicy(t, t.TempDir(), ist.NotationPolicy{
		Name: "acme", Scopes: []string{f.reg.Host + "/app"}, Level: level,
		TrustStores: []string{"ca:acme"}, TrustedIdentities: identities,
	})
	return imagesig.Policy{Authorities: []imagesig.Authority{{Notation: &imagesig.Notation{TrustStore: []string{f.store}, TrustPolicy: tp}}}}
}

// expectWarned expects a verified result with exactly one warning, about what.
func expectWarned(t *testing.T, r imagesig.Result, what string) {
	t.Helper()
	expectVerified(t, r)
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], what) {
		t.Fatalf("warnings = %q, want one about %q", r.Warnings, what)
	}
}

func TestNotationVerify(t *testing.T) {
	f := newNotationFixture(t)
	v := newVerifier()
	ctx := context.Background()
	strict := f.policy(t, "strict")

	for env, format := range map[string]string{ist.NotationJWS: imagesig.FormatNotationJWS, ist.NotationCOSE: imagesig.FormatNotationCOSE} {
		t.Run("valid "+format, func(t *testing.T) {
			img := f.reg.PushImage(t, "app:"+format)
			f.reg.SignNotation(t, img, f.leaf, env)
			r := v.Verify(ctx, f.reg.Ref("app:"+format), strict)
			expectVerified(t, r)
			if r.Format != format || r.Signer == nil || r.Signer.Subject != "CN=release signer,O=acme,ST=WA,C=US" || r.Signer.Level != "strict" || !strings.HasPrefix(r.Signature, "sha256:") || len(r.Warnings) != 0 {
				t.Fatalf("unexpected %+v signer %+v", r, r.Signer)
			}
		})
	}

	t.Run("trust store as PEM files", func(t *testing.T) {
		img := f.reg.PushImage(t, "app:files")
		f.reg.SignNotation(t, img, f.leaf, ist.NotationJWS)
		p := f.policy(t, "strict")
		p.Authorities[0].Notation.TrustStore = []string{f.ca.WritePEM(t, t.TempDir(), "root.pem")}
		expectVerified(t, v.Verify(ctx, img.String(), p))
	})

	t.Run("untrusted CA", func(t *testing.T) {
		img := f.reg.PushImage(t, "app:other-ca")
		other := ist.NewNotationCA(t, "acme root") // same name, another key
		f.reg.SignNotation(t, img, other.Leaf(t, ntnOrg, ntnCN, time.Now().Add(-time.Hour), time.Now().Add(time.Hour)), ist.NotationCOSE)
		expectFail(t, v.Verify(ctx, img.String(), strict), imagesig.KindWrongSigner, "untrusted root")
		// Audit only logs authenticity: verified, with the failure as a warning.
		expectWarned(t, v.Verify(ctx, img.String(), f.policy(t, "audit")), "notation authenticity check failed, only logged at level audit")
	})

	t.Run("identity not in trustedIdentities", func(t *testing.T) {
		img := f.reg.PushImage(t, "app:evil")
		f.reg.SignNotation(t, img, f.ca.Leaf(t, "evil", ntnCN, time.Now().Add(-time.Hour), time.Now().Add(time.Hour)), ist.NotationJWS)
		expectFail(t, v.Verify(ctx, img.String(), strict), imagesig.KindWrongSigner, `signer "CN=release signer,O=evil,ST=WA,C=US" is not in the trust policy's trustedIdentities`)
		// A wildcard trusts any identity the trust store's CAs vouch for.
		expectVerified(t, v.Verify(ctx, img.String(), f.policy(t, "strict", "*")))
	})

	t.Run("expired signing certificate", func(t *testing.T) {
		img := f.reg.PushImage(t, "app:expired")
		leaf := f.ca.Leaf(t, ntnOrg, ntnCN, time.Now().Add(-time.Hour), time.Now().Add(3*time.Second)) // room to sign on a loaded machine
		f.reg.SignNotation(t, img, leaf, ist.NotationJWS)
		time.Sleep(time.Until(leaf.Chain[0].NotAfter) + 1100*time.Millisecond)
		expectFail(t, v.Verify(ctx, img.String(), strict), imagesig.KindInvalid, "expired or not yet valid and no trusted timestamp")
		// Permissive only logs it.
		expectWarned(t, v.Verify(ctx, img.String(), f.policy(t, "permissive")), "notation authenticTimestamp check failed, only logged at level permissive")
	})

	t.Run("signature of another manifest", func(t *testing.T) {
		signed := f.reg.PushImage(t, "app:signed")
		victim := f.reg.PushImage(t, "app:victim")
		env := ist.NotationEnvelope(t, f.reg.Descriptor(t, signed), f.leaf, ist.NotationJWS)
		f.reg.PushNotationSignature(t, victim, env, ist.NotationJWS)
		expectFail(t, v.Verify(ctx, victim.String(), strict), imagesig.KindInvalid, "digest mismatch: the signature covers "+signed.DigestStr())
	})

	t.Run("tampered envelope", func(t *testing.T) {
		img := f.reg.PushImage(t, "app:tampered")
		env := ist.NotationEnvelope(t, f.reg.Descriptor(t, img), f.leaf, ist.NotationJWS)
		i := bytes.Index(env, []byte(`"signature":"`)) + len(`"signature":"`) + 5
		if env[i] == 'A' {
			env[i] = 'B'
		} else {
			env[i] = 'A'
		}
		f.reg.PushNotationSignature(t, img, env, ist.NotationJWS)
		expectFail(t, v.Verify(ctx, img.String(), strict), imagesig.KindInvalid, "integrity")
	})

	t.Run("tag moved", func(t *testing.T) {
		first := f.reg.PushImage(t, "app:moving")
		f.reg.SignNotation(t, first, f.leaf, ist.NotationCOSE)
		expectVerified(t, v.Verify(ctx, f.reg.Ref("app:moving"), strict))
		f.reg.PushImage(t, "app:moving")
		expectFail(t, v.Verify(ctx, f.reg.Ref("app:moving"), strict), imagesig.KindUnsigned, "Notary Project signatures")
		expectVerified(t, v.Verify(ctx, first.String(), strict))
	})

	t.Run("revoked by a given CRL", func(t *testing.T) {
		img := f.reg.PushImage(t, "app:revoked")
		f.reg.SignNotation(t, img, f.leaf, ist.NotationCOSE)
		other := f.ca.Leaf(t, ntnOrg, "someone else", time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
		withCRL := func(level string, revoked ...*x509.Certificate) imagesig.Policy {
			p := f.policy(t, level)
			p.Authorities[0].Notation.CRL = []string{f.ca.WriteCRL(t, t.TempDir(), "acme.crl", revoked...)}
			return p
		}
		expectVerified(t, v.Verify(ctx, img.String(), withCRL("strict", other.Chain[0])))
		expectFail(t, v.Verify(ctx, img.String(), withCRL("strict", f.leaf.Chain[0])), imagesig.KindInvalid,
			`revoked: certificate "CN=release signer,O=acme,ST=WA,C=US" (serial `+f.leaf.Chain[0].SerialNumber.String()+") revoked")
		// Permissive only logs revocation.
		expectWarned(t, v.Verify(ctx, img.String(), withCRL("permissive", f.leaf.Chain[0])), "notation revocation check failed, only logged at level permissive")
	})

	t.Run("no signature", func(t *testing.T) {
		img := f.reg.PushImage(t, "app:unsigned")
		expectFail(t, v.Verify(ctx, img.String(), strict), imagesig.KindUnsigned, "no signatures for manifest")
	})

	t.Run("scope not in the trust policy", func(t *testing.T) {
		img := f.reg.PushImage(t, "other:v1")
		f.reg.SignNotation(t, img, f.leaf, ist.NotationJWS)
		expectFail(t, v.Verify(ctx, img.String(), strict), imagesig.KindUsage, "has no statement whose registryScopes cover")
	})
}

// Registries without the referrers API (notation writes the referrers tag
// fallback) and multi-arch indexes signed per platform.
func TestNotationRegistryShapes(t *testing.T) {
	ctx := context.Background()
	v := newVerifier()
	t.Run("referrers tag fallback", func(t *testing.T) {
		f := newNotationFixture(t)
		reg := ist.NewRegistry(t, ist.WithoutReferrersAPI())
		f.reg = reg
		img := reg.PushImage(t, "app:v1")
		reg.SignNotation(t, img, f.leaf, ist.NotationCOSE)
		expectVerified(t, v.Verify(ctx, reg.Ref("app:v1"), f.policy(t, "strict")))
	})
	t.Run("platform manifest of an unsigned index", func(t *testing.T) {
		f := newNotationFixture(t)
		idx, plats := f.reg.PushIndex(t, "app:multi")
		f.reg.SignNotation(t, plats["linux/amd64"], f.leaf, ist.NotationJWS)
		r := v.Verify(ctx, f.reg.Ref("app:multi"), f.policy(t, "strict"))
		expectVerified(t, r)
		if r.Digest != idx.DigestStr() || r.SignedObject != "platform manifest linux/amd64" || r.SignedDigest != plats["linux/amd64"].DigestStr() {
			t.Fatalf("unexpected %+v", r)
		}
	})
}

func TestNotationAndCosignPolicies(t *testing.T) {
	f := newNotationFixture(t)
	k := ist.NewKeyPair(t)
	v := newVerifier()
	ctx := context.Background()
	notationOnly := f.policy(t, "strict")
	cosignOnly := keyPolicy(k)
	either := imagesig.Policy{Authorities: append(append([]imagesig.Authority(nil), cosignOnly.Authorities...), notationOnly.Authorities...)}

	byNotation := f.reg.PushImage(t, "app:notation")
	f.reg.SignNotation(t, byNotation, f.leaf, ist.NotationJWS)
	byCosign := f.reg.PushImage(t, "app:cosign")
	f.reg.SignLegacy(t, byCosign, k)

	expectVerified(t, v.Verify(ctx, byNotation.String(), notationOnly))
	expectFail(t, v.Verify(ctx, byNotation.String(), cosignOnly), imagesig.KindUnsigned, "")
	expectFail(t, v.Verify(ctx, byCosign.String(), notationOnly), imagesig.KindUnsigned, "")
	for _, img := range []string{byNotation.String(), byCosign.String()} {
		expectVerified(t, v.Verify(ctx, img, either))
	}
	// Notation has no attestations: a policy requiring one needs cosign.
	withAtt := notationOnly
	withAtt.AttestationTypes = []string{"slsaprovenance"}
	expectFail(t, v.Verify(ctx, byNotation.String(), withAtt), imagesig.KindUnsigned, "cannot provide the required slsaprovenance attestation")
}
