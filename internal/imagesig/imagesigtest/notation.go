package imagesigtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/notaryproject/notation-go"
	notationreg "github.com/notaryproject/notation-go/registry"
	"github.com/notaryproject/notation-go/signer"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
)

// Envelope media types of Notary Project signatures.
const (
	NotationJWS  = "application/jose+json"
	NotationCOSE = "application/cose"
)

// NotationCA is a test certificate authority issuing code-signing leaf
// certificates for Notary Project signatures.
type NotationCA struct {
	Cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// NotationLeaf is a signing key and its chain (leaf first, root last).
type NotationLeaf struct {
	Key   *ecdsa.PrivateKey
	Chain []*x509.Certificate
}

var serial atomic.Int64

// nextSerial returns a serial number unique within the test binary.
func nextSerial() *big.Int { return big.NewInt(time.Now().UnixNano() + serial.Add(1)) }

// NewNotationCA creates a self-signed root CA named cn.
func NewNotationCA(tb testing.TB, cn string) *NotationCA {
	tb.Helper()
	c, k := issue(tb, &x509.Certificate{
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"kubectl-secure tests"}, Country: []string{"US"}, Province: []string{"WA"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            1,
	}, nil, nil)
	return &NotationCA{Cert: c, key: k}
}

// Leaf issues a code-signing certificate for subject (O=org, CN=cn) valid
// from notBefore to notAfter.
func (ca *NotationCA) Leaf(tb testing.TB, org, cn string, notBefore, notAfter time.Time) NotationLeaf {
	tb.Helper()
	c, k := issue(tb, &x509.Certificate{
		Subject:     pkix.Name{CommonName: cn, Organization: []string{org}, Country: []string{"US"}, Province: []string{"WA"}},
		NotBefore:   notBefore,
		NotAfter:    notAfter,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
	}, ca.Cert, ca.key)
	return NotationLeaf{Key: k, Chain: []*x509.Certificate{c, ca.Cert}}
}

// issue makes a P-256 key and a certificate for it from tmpl, signed by
// parent (self-signed when parent is nil).
func issue(tb testing.TB, tmpl, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey) {
	tb.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl.SerialNumber = nextSerial()
	if parent == nil {
		parent, parentKey = tmpl, k
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, k.Public(), parentKey)
	if err != nil {
		tb.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	return c, k
}

// WritePEM writes the CA certificate as PEM into dir/name and returns the path.
func (ca *NotationCA) WritePEM(tb testing.TB, dir, name string) string {
	tb.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert.Raw}), 0o600); err != nil {
		tb.Fatal(err)
	}
	return p
}

// WriteCRL writes a PEM CRL signed by the CA, valid for a day, revoking
// the given certificates, into dir/name and returns the path.
func (ca *NotationCA) WriteCRL(tb testing.TB, dir, name string, revoked ...*x509.Certificate) string {
	tb.Helper()
	tmpl := &x509.RevocationList{Number: nextSerial(), ThisUpdate: time.Now().Add(-time.Minute), NextUpdate: time.Now().Add(24 * time.Hour)}
	for _, c := range revoked {
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries, x509.RevocationListEntry{SerialNumber: c.SerialNumber, RevocationTime: time.Now().Add(-time.Minute)})
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, ca.Cert, ca.key)
	if err != nil {
		tb.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}), 0o600); err != nil {
		tb.Fatal(err)
	}
	return p
}

// WriteNotationTrustStore writes a trust store in notation's layout
// (<dir>/x509/ca/<store>/*.pem) holding the CAs, and returns dir.
func WriteNotationTrustStore(tb testing.TB, dir, store string, cas ...*NotationCA) string {
	tb.Helper()
	for i, ca := range cas {
		ca.WritePEM(tb, filepath.Join(dir, "x509", "ca", store), "ca"+string(rune('0'+i))+".pem")
	}
	return dir
}

// NotationPolicy is one trust policy statement.
type NotationPolicy struct {
	Name              string
	Scopes            []string
	Level             string // strict, permissive, audit or skip
	TrustStores       []string
	TrustedIdentities []string
}

// WriteNotationTrustPolicy writes a trust policy document (version 1.0) into
// dir and returns its path.
func WriteNotationTrustPolicy(tb testing.TB, dir string, policies ...NotationPolicy) string {
	tb.Helper()
	type sv struct {
		Level string `json:"level"`
	}
	type st struct {
		Name                  string   `json:"name"`
		RegistryScopes        []string `json:"registryScopes"`
		SignatureVerification sv       `json:"signatureVerification"`
		TrustStores           []string `json:"trustStores"`
		TrustedIdentities     []string `json:"trustedIdentities"`
	}
	doc := struct {
		Version       string `json:"version"`
		TrustPolicies []st   `json:"trustPolicies"`
	}{Version: "1.0"}
	for _, p := range policies {
		doc.TrustPolicies = append(doc.TrustPolicies, st{p.Name, p.Scopes, sv{p.Level}, p.TrustStores, p.TrustedIdentities})
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		tb.Fatal(err)
	}
	p := filepath.Join(dir, "trustpolicy.json")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		tb.Fatal(err)
	}
	return p
}

// notationRepo returns notation's registry client for target's repository,
// over plain HTTP (the test registry is on loopback).
func (r *Registry) notationRepo(tb testing.TB, target name.Digest) notationreg.Repository {
	tb.Helper()
	repo, err := remote.NewRepository(target.Context().Name())
	if err != nil {
		tb.Fatal(err)
	}
	repo.PlainHTTP = true
	if r.user != "" {
		repo.Client = &auth.Client{Credential: auth.StaticCredential(r.Host, auth.Credential{Username: r.user, Password: r.pass})}
	}
	return notationreg.NewRepository(repo)
}

// SignNotation signs target with leaf through notation-go's signer API and
// pushes the signature as an OCI referrer, as `notation sign` does.
// envelope is NotationJWS or NotationCOSE.
func (r *Registry) SignNotation(tb testing.TB, target name.Digest, leaf NotationLeaf, envelope string) {
	tb.Helper()
	s, err := signer.NewGenericSigner(leaf.Key, leaf.Chain)
	if err != nil {
		tb.Fatal(err)
	}
	_, err = notation.Sign(context.Background(), s, r.notationRepo(tb, target), notation.SignOptions{
		SignerSignOptions: notation.SignerSignOptions{SignatureMediaType: envelope},
		ArtifactReference: target.String(),
	})
	if err != nil {
		tb.Fatalf("notation sign %s: %v", target, err)
	}
}

// NotationEnvelope signs target with leaf and returns the envelope, without
// pushing it.
func NotationEnvelope(tb testing.TB, target ocispec.Descriptor, leaf NotationLeaf, envelope string) []byte {
	tb.Helper()
	s, err := signer.NewGenericSigner(leaf.Key, leaf.Chain)
	if err != nil {
		tb.Fatal(err)
	}
	sig, _, err := s.Sign(context.Background(), target, notation.SignerSignOptions{SignatureMediaType: envelope})
	if err != nil {
		tb.Fatal(err)
	}
	return sig
}

// PushNotationSignature pushes envelope as a Notary Project signature
// referring to subject (whatever the envelope signs).
func (r *Registry) PushNotationSignature(tb testing.TB, subject name.Digest, envelope []byte, mediaType string) {
	tb.Helper()
	repo := r.notationRepo(tb, subject)
	desc, err := repo.Resolve(context.Background(), subject.DigestStr())
	if err != nil {
		tb.Fatal(err)
	}
	if _, _, err := repo.PushSignature(context.Background(), mediaType, envelope, desc, nil); err != nil {
		tb.Fatal(err)
	}
}

// Descriptor returns the OCI descriptor (media type, digest, size) of ref.
func (r *Registry) Descriptor(tb testing.TB, ref name.Digest) ocispec.Descriptor {
	tb.Helper()
	desc, err := r.notationRepo(tb, ref).Resolve(context.Background(), ref.DigestStr())
	if err != nil {
		tb.Fatal(err)
	}
	return desc
}
