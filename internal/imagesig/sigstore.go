package imagesig

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	in_toto "github.com/in-toto/attestation/go/v1"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
	"google.golang.org/protobuf/encoding/protojson"
)

// verr is a classified verification failure of one signature.
type verr struct {
	kind Kind
	msg  string
}

func (e *verr) Error() string { return e.msg }

func newVerr(k Kind, format string, args ...any) *verr {
	return &verr{kind: k, msg: fmt.Sprintf(format, args...)}
}

// rank orders failures: the most specific one is reported.
func (e *verr) rank() int {
	switch e.kind {
	case KindInvalid:
		return 3
	case KindWrongSigner:
		return 2
	default:
		return 1
	}
}

// keyEntry is a parsed public key of an authority.
type keyEntry struct {
	verifier    signature.Verifier
	fingerprint string
}

func loadPublicKey(pemBytes []byte) (keyEntry, error) {
	pub, err := cryptoutils.UnmarshalPEMToPublicKey(pemBytes)
	if err != nil {
		return keyEntry{}, fmt.Errorf("not a PEM public key: %w", err)
	}
	ver, err := signature.LoadVerifier(pub, crypto.SHA256)
	if err != nil {
		return keyEntry{}, fmt.Errorf("unsupported public key: %w", err)
	}
	der, err := cryptoutils.MarshalPublicKeyToDER(pub)
	if err != nil {
		return keyEntry{}, fmt.Errorf("encoding public key: %w", err)
	}
	sum := sha256.Sum256(der)
	return keyEntry{verifier: ver, fingerprint: "sha256:" + hex.EncodeToString(sum[:])}, nil
}

func loadKeys(a Authority) ([]keyEntry, error) {
	out := make([]keyEntry, 0, len(a.Keys))
	for i, k := range a.Keys {
		e, err := loadPublicKey(k)
		if err != nil {
			return nil, fmt.Errorf("key %d: %w", i+1, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// rootCache loads each trusted root (a trusted_root.json file, or one TUF
// repository's target) once per Verifier.
type rootCache struct {
	mu    sync.Mutex
	roots map[string]*rootEntry
}

type rootEntry struct {
	once sync.Once
	tr   *root.TrustedRoot
	err  error
}

func newRootCache() *rootCache { return &rootCache{roots: map[string]*rootEntry{}} }

func (c *rootCache) get(key string, load func() (*root.TrustedRoot, error)) (*root.TrustedRoot, error) {
	c.mu.Lock()
	e, ok := c.roots[key]
	if !ok {
		e = &rootEntry{}
		c.roots[key] = e
	}
	c.mu.Unlock()
	e.once.Do(func() { e.tr, e.err = load() })
	return e.tr, e.err
}

// trustedRoot returns the authority's trusted root: its trusted_root.json
// file, or else the one its TUF repository serves.
func (v *Verifier) trustedRoot(a Authority) (*root.TrustedRoot, error) {
	if a.TrustedRoot != "" {
		return v.roots.get("file:"+a.TrustedRoot, func() (*root.TrustedRoot, error) {
			tr, err := root.NewTrustedRootFromPath(a.TrustedRoot)
			if err != nil {
				return nil, fmt.Errorf("loading trusted root %s: %w", a.TrustedRoot, err)
			}
			return tr, nil
		})
	}
	return v.roots.get("tuf:"+a.TUF.mirror()+"\x00"+a.TUF.Root, func() (*root.TrustedRoot, error) {
		return v.fetchTUFTrustedRoot(a.TUF)
	})
}

// keylessVerifier builds a sigstore-go verifier for a certificate-signed
// entity: transparency-log evidence when the entity has log entries, else a
// signed timestamp; SCTs when the trusted root lists CT logs.
func keylessVerifier(tr root.TrustedMaterial, hasTlog bool) (*verify.Verifier, error) {
	var opts []verify.VerifierOption
	if hasTlog {
		opts = append(opts, verify.WithTransparencyLog(1), verify.WithObserverTimestamps(1))
	} else {
		opts = append(opts, verify.WithSignedTimestamps(1))
	}
	if len(tr.CTLogs()) > 0 {
		opts = append(opts, verify.WithSignedCertificateTimestamps(1))
	}
	return verify.NewVerifier(tr, opts...)
}

func identityOf(a Authority) (verify.CertificateIdentity, error) {
	return verify.NewShortCertificateIdentity(a.Issuer, a.IssuerRegexp, a.Identity, a.IdentityRegexp)
}

// classifySigstoreErr maps a sigstore-go verification error to a failure kind.
func classifySigstoreErr(err error) *verr {
	var noID *verify.ErrNoMatchingCertificateIdentity
	msg := err.Error()
	switch {
	case errors.As(err, &noID):
		return newVerr(KindWrongSigner, "certificate identity does not match the policy: %s", msg)
	case strings.Contains(msg, "expected key signature, not certificate"):
		return newVerr(KindWrongSigner, "signed with a certificate (keyless), but the policy expects a key")
	case strings.Contains(msg, "entity was not signed with a certificate"),
		strings.Contains(msg, "SCTs required but bundle is signed with a public key"):
		return newVerr(KindWrongSigner, "signed with a key, but the policy expects a keyless identity")
	}
	return newVerr(KindInvalid, "%s", msg)
}

func signerFromResult(res *verify.VerificationResult) Signer {
	if res.Signature != nil && res.Signature.Certificate != nil {
		c := res.Signature.Certificate
		return Signer{Identity: c.SubjectAlternativeName, Issuer: c.Extensions.Issuer}
	}
	return Signer{}
}

// statementCovers checks that an in-toto statement names digest d.
func statementCovers(st *in_toto.Statement, algo, hexDigest string) *verr {
	if st == nil {
		return newVerr(KindInvalid, "signed envelope has no in-toto statement")
	}
	var seen []string
	for _, s := range st.GetSubject() {
		for a, h := range s.GetDigest() {
			if strings.EqualFold(a, algo) && strings.EqualFold(h, hexDigest) {
				return nil
			}
			seen = append(seen, a+":"+h)
		}
	}
	return newVerr(KindInvalid, "digest mismatch: the signed statement covers %s, not %s:%s (signature copied from another image?)",
		strings.Join(seen, ", "), algo, hexDigest)
}

// verifiedStatement is the outcome of verifying one signed object.
type verifiedStatement struct {
	signer        Signer
	predicateType string // "" for a plain message signature over the manifest
}

// verifyBundle verifies a sigstore bundle against authority a for digest
// algo:hexDigest.
func (v *Verifier) verifyBundle(content []byte, a Authority, keys []keyEntry, algo, hexDigest string) (verifiedStatement, *verr) {
	b := &bundle.Bundle{}
	if err := b.UnmarshalJSON(content); err != nil {
		return verifiedStatement{}, newVerr(KindInvalid, "malformed sigstore bundle: %v", err)
	}
	sc, err := b.SignatureContent()
	if err != nil {
		return verifiedStatement{}, newVerr(KindInvalid, "malformed sigstore bundle: %v", err)
	}
	digestBytes, err := hex.DecodeString(hexDigest)
	if err != nil {
		return verifiedStatement{}, newVerr(KindInvalid, "bad digest %s: %v", hexDigest, err)
	}
	artifact := verify.WithoutArtifactUnsafe()
	if sc.MessageSignatureContent() != nil {
		artifact = verify.WithArtifactDigest(algo, digestBytes)
	}
	var res *verify.VerificationResult
	var signer Signer
	if !a.Keyless() {
		vc, err := b.VerificationContent()
		if err != nil {
			return verifiedStatement{}, newVerr(KindInvalid, "malformed sigstore bundle: %v", err)
		}
		if vc.Certificate() != nil {
			return verifiedStatement{}, newVerr(KindWrongSigner, "signed with a certificate (keyless), but the policy expects a key")
		}
		var lastErr error
		for _, k := range keys {
			tm := root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) {
				return root.NewExpiringKey(k.verifier, timeZero, timeZero), nil
			})
			sv, err := verify.NewVerifier(tm, verify.WithNoObserverTimestamps())
			if err != nil {
				return verifiedStatement{}, newVerr(KindUsage, "configuring verifier: %v", err)
			}
			r, err := sv.Verify(b, verify.NewPolicy(artifact, verify.WithKey()))
			if err == nil {
				res, signer = r, Signer{Key: k.fingerprint}
				break
			}
			lastErr = err
		}
		if res == nil {
			if isDigestMismatch(lastErr) {
				return verifiedStatement{}, newVerr(KindInvalid, "digest mismatch: the signature does not cover %s:%s", algo, hexDigest)
			}
			return verifiedStatement{}, newVerr(KindWrongSigner, "the bundle's signature does not verify with the given key(s) (signed by another key, or tampered): %v", lastErr)
		}
	} else {
		tr, err := v.trustedRoot(a)
		if err != nil {
			return verifiedStatement{}, newVerr(KindUsage, "%v", err)
		}
		id, err := identityOf(a)
		if err != nil {
			return verifiedStatement{}, newVerr(KindUsage, "certificate identity: %v", err)
		}
		sv, err := keylessVerifier(tr, len(b.GetVerificationMaterial().GetTlogEntries()) > 0)
		if err != nil {
			return verifiedStatement{}, newVerr(KindUsage, "configuring verifier: %v", err)
		}
		res, err = sv.Verify(b, verify.NewPolicy(artifact, verify.WithCertificateIdentity(id)))
		if err != nil {
			if isDigestMismatch(err) {
				return verifiedStatement{}, newVerr(KindInvalid, "digest mismatch: the signature does not cover %s:%s", algo, hexDigest)
			}
			return verifiedStatement{}, classifySigstoreErr(err)
		}
		signer = signerFromResult(res)
	}
	if sc.EnvelopeContent() == nil {
		// A message signature over the manifest: sigstore-go checked the digest.
		return verifiedStatement{signer: signer}, nil
	}
	if e := statementCovers(res.Statement, algo, hexDigest); e != nil {
		return verifiedStatement{}, e
	}
	return verifiedStatement{signer: signer, predicateType: res.Statement.GetPredicateType()}, nil
}

func isDigestMismatch(err error) bool {
	return err != nil && strings.Contains(err.Error(), "artifact digest")
}

// simpleSigning is cosign's simple-signing payload.
type simpleSigning struct {
	Critical struct {
		Identity struct {
			DockerReference string `json:"docker-reference"`
		} `json:"identity"`
		Image struct {
			DockerManifestDigest string `json:"docker-manifest-digest"`
		} `json:"image"`
		Type string `json:"type"`
	} `json:"critical"`
}

func checkSimpleSigning(payload []byte, algo, hexDigest string) *verr {
	var ss simpleSigning
	if err := json.Unmarshal(payload, &ss); err != nil {
		return newVerr(KindInvalid, "malformed simple-signing payload: %v", err)
	}
	if !strings.EqualFold(ss.Critical.Type, "cosign container image signature") {
		return newVerr(KindInvalid, "simple-signing payload has type %q, not a cosign container image signature", ss.Critical.Type)
	}
	want := algo + ":" + hexDigest
	if !strings.EqualFold(ss.Critical.Image.DockerManifestDigest, want) {
		return newVerr(KindInvalid, "digest mismatch: the signature covers %s, not %s (signature copied from another image?)",
			ss.Critical.Image.DockerManifestDigest, want)
	}
	return nil
}

// legacyEntity adapts a cosign legacy signature (payload, signature and
// annotations) to sigstore-go's SignedEntity, so that certificate chain,
// SCT, Rekor signed entry timestamp, RFC 3161 timestamps and identity are
// verified exactly as for bundles.
type legacyEntity struct {
	verify.BaseSignedEntity
	cert       *x509.Certificate
	chain      []*x509.Certificate
	sigContent verify.SignatureContent
	tlog       []*tlog.Entry
	timestamps [][]byte
}

func (e *legacyEntity) VerificationContent() (verify.VerificationContent, error) {
	return &legacyCert{c: bundle.NewCertificate(e.cert), chain: e.chain}, nil
}
func (e *legacyEntity) SignatureContent() (verify.SignatureContent, error) { return e.sigContent, nil }
func (e *legacyEntity) TlogEntries() ([]*tlog.Entry, error)                { return e.tlog, nil }
func (e *legacyEntity) Timestamps() ([][]byte, error)                      { return e.timestamps, nil }
func (e *legacyEntity) HasInclusionPromise() bool                          { return len(e.tlog) > 0 }
func (e *legacyEntity) Version() (string, error)                           { return "v0.1", nil }

// legacyCert is the signing certificate plus the intermediates cosign put in
// the chain annotation.
type legacyCert struct {
	c     *bundle.Certificate
	chain []*x509.Certificate
}

func (l *legacyCert) CompareKey(k any, tm root.TrustedMaterial) bool { return l.c.CompareKey(k, tm) }
func (l *legacyCert) ValidAtTime(t time.Time, tm root.TrustedMaterial) bool {
	return l.c.ValidAtTime(t, tm)
}
func (l *legacyCert) Certificate() *x509.Certificate      { return l.c.Certificate() }
func (l *legacyCert) Intermediates() []*x509.Certificate  { return l.chain }
func (l *legacyCert) PublicKey() verify.PublicKeyProvider { return nil }

// rekorBundle is cosign's dev.sigstore.cosign/bundle annotation.
type rekorBundle struct {
	SignedEntryTimestamp []byte `json:"SignedEntryTimestamp"`
	Payload              struct {
		Body           string `json:"body"`
		IntegratedTime int64  `json:"integratedTime"`
		LogIndex       int64  `json:"logIndex"`
		LogID          string `json:"logID"`
	} `json:"Payload"`
}

type rfc3161Annotation struct {
	SignedRFC3161Timestamp []byte `json:"SignedRFC3161Timestamp"`
}

// newLegacyEntity builds the entity from a layer's annotations.
func newLegacyEntity(ann map[string]string, sc verify.SignatureContent) (*legacyEntity, *verr) {
	certs, err := cryptoutils.UnmarshalCertificatesFromPEM([]byte(ann[certAnnotation]))
	if err != nil || len(certs) == 0 {
		return nil, newVerr(KindInvalid, "malformed signing certificate annotation: %v", err)
	}
	e := &legacyEntity{cert: certs[0], sigContent: sc}
	if c := ann[chainAnnotation]; c != "" {
		chain, err := cryptoutils.UnmarshalCertificatesFromPEM([]byte(c))
		if err != nil {
			return nil, newVerr(KindInvalid, "malformed certificate chain annotation: %v", err)
		}
		// The chain annotation ends with the root; the trusted root supplies roots.
		for _, cert := range chain {
			if !bytes.Equal(cert.RawIssuer, cert.RawSubject) {
				e.chain = append(e.chain, cert)
			}
		}
	}
	if rb := ann[rekorAnnotation]; rb != "" {
		var b rekorBundle
		if err := json.Unmarshal([]byte(rb), &b); err != nil {
			return nil, newVerr(KindInvalid, "malformed Rekor bundle annotation: %v", err)
		}
		body, err := base64.StdEncoding.DecodeString(b.Payload.Body)
		if err != nil {
			return nil, newVerr(KindInvalid, "malformed Rekor bundle body: %v", err)
		}
		logID, err := hex.DecodeString(b.Payload.LogID)
		if err != nil {
			return nil, newVerr(KindInvalid, "malformed Rekor log ID: %v", err)
		}
		entry, err := tlog.NewEntry(body, b.Payload.IntegratedTime, b.Payload.LogIndex, logID, b.SignedEntryTimestamp, nil) //nolint:staticcheck // Rekor v1 entries are what cosign's annotation holds
		if err != nil {
			return nil, newVerr(KindInvalid, "malformed Rekor entry: %v", err)
		}
		e.tlog = []*tlog.Entry{entry}
	}
	if ts := ann[timestampAnnotation]; ts != "" {
		var t rfc3161Annotation
		if err := json.Unmarshal([]byte(ts), &t); err != nil {
			return nil, newVerr(KindInvalid, "malformed RFC 3161 timestamp annotation: %v", err)
		}
		e.timestamps = [][]byte{t.SignedRFC3161Timestamp}
	}
	return e, nil
}

// verifyLegacySig verifies one layer of a sha256-<hex>.sig image.
func (v *Verifier) verifyLegacySig(l sigLayer, a Authority, keys []keyEntry, algo, hexDigest string) (verifiedStatement, *verr) {
	sig, err := base64.StdEncoding.DecodeString(l.annotations[sigAnnotation])
	if err != nil || len(sig) == 0 {
		return verifiedStatement{}, newVerr(KindInvalid, "malformed or missing signature annotation")
	}
	var signer Signer
	if !a.Keyless() {
		ok := false
		for _, k := range keys {
			if k.verifier.VerifySignature(bytes.NewReader(sig), bytes.NewReader(l.content)) == nil {
				ok, signer = true, Signer{Key: k.fingerprint}
				break
			}
		}
		if !ok {
			return verifiedStatement{}, newVerr(KindWrongSigner, "the signature does not verify with the given key(s) (signed by another key, or tampered)")
		}
	} else {
		if l.annotations[certAnnotation] == "" {
			return verifiedStatement{}, newVerr(KindWrongSigner, "signed with a key, but the policy expects a keyless identity")
		}
		sum := sha256.Sum256(l.content)
		ent, e := newLegacyEntity(l.annotations, bundle.NewMessageSignature(sum[:], "SHA2_256", sig))
		if e != nil {
			return verifiedStatement{}, e
		}
		res, e := v.verifyKeylessEntity(ent, a, verify.WithArtifact(bytes.NewReader(l.content)))
		if e != nil {
			return verifiedStatement{}, e
		}
		signer = signerFromResult(res)
	}
	if e := checkSimpleSigning(l.content, algo, hexDigest); e != nil {
		return verifiedStatement{}, e
	}
	return verifiedStatement{signer: signer}, nil
}

func (v *Verifier) verifyKeylessEntity(ent *legacyEntity, a Authority, artifact verify.ArtifactPolicyOption) (*verify.VerificationResult, *verr) {
	tr, err := v.trustedRoot(a)
	if err != nil {
		return nil, newVerr(KindUsage, "%v", err)
	}
	id, err := identityOf(a)
	if err != nil {
		return nil, newVerr(KindUsage, "certificate identity: %v", err)
	}
	sv, err := keylessVerifier(tr, len(ent.tlog) > 0)
	if err != nil {
		return nil, newVerr(KindUsage, "configuring verifier: %v", err)
	}
	res, err := sv.Verify(ent, verify.NewPolicy(artifact, verify.WithCertificateIdentity(id)))
	if err != nil {
		return nil, classifySigstoreErr(err)
	}
	return res, nil
}

// pae is DSSE's pre-authentication encoding.
func pae(payloadType string, payload []byte) []byte {
	return []byte(fmt.Sprintf("DSSEv1 %d %s %d %s", len(payloadType), payloadType, len(payload), payload))
}

// verifyLegacyAttestation verifies one layer of a sha256-<hex>.att image (a
// DSSE envelope).
func (v *Verifier) verifyLegacyAttestation(l sigLayer, a Authority, keys []keyEntry, algo, hexDigest string) (verifiedStatement, *verr) {
	var env dsse.Envelope
	if err := json.Unmarshal(l.content, &env); err != nil {
		return verifiedStatement{}, newVerr(KindInvalid, "malformed DSSE envelope: %v", err)
	}
	payload, err := base64.StdEncoding.DecodeString(env.Payload)
	if err != nil {
		return verifiedStatement{}, newVerr(KindInvalid, "malformed DSSE payload: %v", err)
	}
	var signer Signer
	if !a.Keyless() {
		msg := pae(env.PayloadType, payload)
		ok := false
	outer:
		for _, s := range env.Signatures {
			sig, err := base64.StdEncoding.DecodeString(s.Sig)
			if err != nil {
				continue
			}
			for _, k := range keys {
				if k.verifier.VerifySignature(bytes.NewReader(sig), bytes.NewReader(msg)) == nil {
					ok, signer = true, Signer{Key: k.fingerprint}
					break outer
				}
			}
		}
		if !ok {
			return verifiedStatement{}, newVerr(KindWrongSigner, "the attestation's signature does not verify with the given key(s)")
		}
	} else {
		if l.annotations[certAnnotation] == "" {
			return verifiedStatement{}, newVerr(KindWrongSigner, "attestation signed with a key, but the policy expects a keyless identity")
		}
		ent, e := newLegacyEntity(l.annotations, &bundle.Envelope{Envelope: &env})
		if e != nil {
			return verifiedStatement{}, e
		}
		res, e := v.verifyKeylessEntity(ent, a, verify.WithoutArtifactUnsafe())
		if e != nil {
			return verifiedStatement{}, e
		}
		signer = signerFromResult(res)
	}
	if env.PayloadType != "application/vnd.in-toto+json" {
		return verifiedStatement{}, newVerr(KindInvalid, "attestation payload type is %q, not in-toto", env.PayloadType)
	}
	var st in_toto.Statement
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(payload, &st); err != nil {
		return verifiedStatement{}, newVerr(KindInvalid, "malformed in-toto statement: %v", err)
	}
	if e := statementCovers(&st, algo, hexDigest); e != nil {
		return verifiedStatement{}, e
	}
	return verifiedStatement{signer: signer, predicateType: st.GetPredicateType()}, nil
}
