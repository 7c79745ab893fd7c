package imagesig

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/notaryproject/notation-core-go/signature/cose"
	"github.com/notaryproject/notation-core-go/signature/jws"
	corex509 "github.com/notaryproject/notation-core-go/x509"
	"github.com/notaryproject/notation-go"
	"github.com/notaryproject/notation-go/dir"
	notationverifier "github.com/notaryproject/notation-go/verifier"
	"github.com/notaryproject/notation-go/verifier/trustpolicy"
	"github.com/notaryproject/notation-go/verifier/truststore"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// notationArtifactType is the artifact type of Notary Project signatures.
const (
	notationArtifactType = "application/vnd.cncf.notary.signature"
	jwsMediaType         = jws.MediaTypeEnvelope
)

// Signature formats of Notary Project signatures, by envelope.
const (
	FormatNotationJWS  = "notation-jws"
	FormatNotationCOSE = "notation-cose"
)

// Notation is a Notary Project authority: a trust store of X.509 roots and a
// trust policy document in notation's format (trustpolicy.json: registry
// scopes, signatureVerification level, trustStores, trustedIdentities).
type Notation struct {
	// TrustStore is either one directory in notation's layout
	// (x509/<type>/<name>/*.pem, or a notation config directory holding
	// truststore/x509/…), or PEM files and directories of PEM files that
	// together serve every "ca" and "signingAuthority" store the policy names.
	TrustStore []string `json:"trustStore"`
	// TrustPolicy is the path of the trust policy document.
	TrustPolicy string `json:"trustPolicy"`
	// CRL lists certificate revocation lists (PEM or DER files) checked
	// offline, in addition to notation's own revocation check, for the
	// certificates of the signing chain whose issuer signed one of them.
	CRL []string `json:"crl,omitempty"`
}

func (n *Notation) validate() error {
	if n.TrustPolicy == "" {
		return errors.New("notation needs a trust policy (trustpolicy.json)")
	}
	if len(n.TrustStore) == 0 {
		return errors.New("notation needs a trust store (a directory or PEM files of X.509 roots)")
	}
	if _, err := loadTrustPolicy(n.TrustPolicy); err != nil {
		return err
	}
	for _, p := range n.TrustStore {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("notation trust store: %w", err)
		}
	}
	_, err := loadCRLs(n.CRL)
	return err
}

func loadCRLs(paths []string) ([]namedCRL, error) {
	var out []namedCRL
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("CRL: %w", err)
		}
		if blk, _ := pem.Decode(b); blk != nil {
			b = blk.Bytes
		}
		l, err := x509.ParseRevocationList(b)
		if err != nil {
			return nil, fmt.Errorf("CRL %s: %w", p, err)
		}
		out = append(out, namedCRL{path: p, l: l})
	}
	return out, nil
}

type namedCRL struct {
	path string
	l    *x509.RevocationList
}

// checkCRLs checks each certificate of chain (leaf first) against the CRLs
// its issuer signed. A CRL past its next update cannot vouch for anything.
func checkCRLs(crls []namedCRL, chain []*x509.Certificate) error {
	for i := 0; i+1 < len(chain); i++ {
		cert, issuer := chain[i], chain[i+1]
		for _, c := range crls {
			if !bytes.Equal(c.l.RawIssuer, issuer.RawSubject) || c.l.CheckSignatureFrom(issuer) != nil {
				continue
			}
			if !c.l.NextUpdate.IsZero() && time.Now().After(c.l.NextUpdate) {
				return fmt.Errorf("CRL %s of %q is out of date (next update was %s)", c.path, issuer.Subject, c.l.NextUpdate.UTC().Format(time.RFC3339))
			}
			for _, e := range c.l.RevokedCertificateEntries {
				if e.SerialNumber.Cmp(cert.SerialNumber) == 0 {
					return fmt.Errorf("certificate %q (serial %s) revoked on %s by CRL %s", cert.Subject, cert.SerialNumber, e.RevocationTime.UTC().Format(time.RFC3339), c.path)
				}
			}
		}
	}
	return nil
}

func loadTrustPolicy(path string) (*trustpolicy.Document, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("notation trust policy: %w", err)
	}
	var doc trustpolicy.Document
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("notation trust policy %s: %w", path, err)
	}
	if err := doc.Validate(); err != nil {
		return nil, fmt.Errorf("notation trust policy %s: %w", path, err)
	}
	return &doc, nil
}

// newTrustStore builds the X.509 trust store of n.
func newTrustStore(n *Notation) (truststore.X509TrustStore, error) {
	if len(n.TrustStore) == 1 {
		for _, root := range []string{n.TrustStore[0], filepath.Join(n.TrustStore[0], dir.TrustStoreDir)} {
			if st, err := os.Stat(filepath.Join(root, "x509")); err == nil && st.IsDir() {
				return truststore.NewX509TrustStore(layoutFS{FS: os.DirFS(root), root: root}), nil
			}
		}
	}
	var certs []*x509.Certificate
	for _, p := range n.TrustStore {
		files := []string{p}
		if st, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("notation trust store: %w", err)
		} else if st.IsDir() {
			entries, err := os.ReadDir(p)
			if err != nil {
				return nil, fmt.Errorf("notation trust store: %w", err)
			}
			files = files[:0]
			for _, e := range entries {
				if e.Type().IsRegular() {
					files = append(files, filepath.Join(p, e.Name()))
				}
			}
		}
		for _, f := range files {
			cs, err := corex509.ReadCertificateFile(f)
			if err != nil {
				return nil, fmt.Errorf("notation trust store %s: %w", f, err)
			}
			if err := truststore.ValidateCertificates(cs); err != nil {
				return nil, fmt.Errorf("notation trust store %s: %w", f, err)
			}
			certs = append(certs, cs...)
		}
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("notation trust store %s holds no certificate", strings.Join(n.TrustStore, ", "))
	}
	return fileStore(certs), nil
}

// layoutFS maps notation's truststore/x509/… paths into a trust store
// directory given by the user.
type layoutFS struct {
	fs.FS
	root string
}

func (l layoutFS) SysPath(items ...string) (string, error) {
	p := filepath.Join(items...)
	p = strings.TrimPrefix(p, dir.TrustStoreDir+string(filepath.Separator))
	return filepath.Join(l.root, p), nil
}

// fileStore serves the same certificates for every CA and signing-authority
// store a trust policy names.
type fileStore []*x509.Certificate

func (f fileStore) GetCertificates(_ context.Context, t truststore.Type, _ string) ([]*x509.Certificate, error) {
	if t == truststore.TypeTSA {
		return nil, truststore.TrustStoreError{Msg: "no tsa trust store: the trust store files serve ca and signingAuthority stores"}
	}
	return f, nil
}

// notationCache builds each notation verifier once per Verifier.
type notationCache struct {
	mu sync.Mutex
	m  map[string]*notationEntry
}

type notationEntry struct {
	once sync.Once
	v    notation.Verifier
	crls []namedCRL
	err  error
}

func (v *Verifier) notationVerifier(n *Notation) (*notationEntry, error) {
	key, _ := json.Marshal(n)
	c := v.notations
	c.mu.Lock()
	e, ok := c.m[string(key)]
	if !ok {
		e = &notationEntry{}
		c.m[string(key)] = e
	}
	c.mu.Unlock()
	e.once.Do(func() {
		doc, err := loadTrustPolicy(n.TrustPolicy)
		if err != nil {
			e.err = err
			return
		}
		ts, err := newTrustStore(n)
		if err != nil {
			e.err = err
			return
		}
		if e.crls, e.err = loadCRLs(n.CRL); e.err != nil {
			return
		}
		e.v, e.err = notationverifier.NewWithOptions(doc, ts, nil, notationverifier.VerifierOptions{})
		if e.err != nil {
			e.err = fmt.Errorf("notation verifier: %w", e.err)
		}
	})
	return e, e.err
}

// notationSig is a Notary Project signature found among the referrers.
type notationSig struct {
	manifestDigest string
	mediaType      string // envelope: application/jose+json or application/cose
	content        []byte
}

// notationSigs fetches the Notary Project signatures among the referrers
// descs of d.
func (v *Verifier) notationSigs(ctx context.Context, d name.Digest, descs []v1.Descriptor) ([]notationSig, error) {
	var picked []v1.Descriptor
	for _, desc := range descs {
		if desc.ArtifactType == notationArtifactType {
			picked = append(picked, desc)
		}
	}
	if len(picked) > maxReferrers {
		picked = picked[:maxReferrers]
	}
	out := make([]notationSig, len(picked))
	errs := make([]error, len(picked))
	var wg sync.WaitGroup
	for i, desc := range picked {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i].manifestDigest = desc.Digest.String()
			m, err := v.referrerManifest(ctx, d, desc)
			if err != nil {
				errs[i] = err
				return
			}
			for _, l := range m.Layers {
				if mt := string(l.MediaType); mt == jws.MediaTypeEnvelope || mt == cose.MediaTypeEnvelope {
					out[i].mediaType = mt
					out[i].content, errs[i] = v.blob(ctx, d.Context(), l.Digest)
					return
				}
			}
			errs[i] = fmt.Errorf("notation signature %s has no JWS or COSE envelope layer", desc.Digest)
		}()
	}
	wg.Wait()
	var kept []notationSig
	for i := range out {
		if errs[i] == nil {
			kept = append(kept, out[i])
		}
	}
	if err := errors.Join(errs...); len(kept) == 0 && err != nil {
		return nil, err
	}
	return kept, nil
}

// notationScope is the reference notation's trust policy scopes are
// matched against: registry/repository as users write it (docker.io, not
// index.docker.io).
func notationScope(repo name.Repository, d v1.Hash) string {
	reg := repo.RegistryStr()
	if reg == name.DefaultRegistry {
		reg = "docker.io"
	}
	return reg + "/" + repo.RepositoryStr() + "@" + d.String()
}

// verifyNotation verifies one Notary Project signature against authority n
// for the target manifest t.
func (v *Verifier) verifyNotation(ctx context.Context, s notationSig, n *Notation, repo name.Repository, t v1.Descriptor) (verifiedStatement, []string, *verr) {
	ne, err := v.notationVerifier(n)
	if err != nil {
		return verifiedStatement{}, nil, newVerr(KindUsage, "%v", err)
	}
	nv := ne.v
	desc := ocispec.Descriptor{MediaType: string(t.MediaType), Digest: digest.Digest(t.Digest.String()), Size: t.Size}
	outcome, err := nv.Verify(ctx, desc, s.content, notation.VerifierVerifyOptions{
		ArtifactReference:  notationScope(repo, t.Digest),
		SignatureMediaType: s.mediaType,
	})
	var noPolicy notation.ErrorNoApplicableTrustPolicy
	if errors.As(err, &noPolicy) {
		return verifiedStatement{}, nil, newVerr(KindUsage, "notation trust policy %s has no statement whose registryScopes cover %s", n.TrustPolicy, repo.Name())
	}
	if outcome == nil {
		if err == nil {
			err = errors.New("no verification outcome")
		}
		return verifiedStatement{}, nil, newVerr(KindInvalid, "notation signature %s: %v", s.manifestDigest, err)
	}
	if outcome.VerificationLevel != nil && outcome.VerificationLevel.Name == trustpolicy.LevelSkip.Name {
		return verifiedStatement{}, nil, newVerr(KindUsage, "notation trust policy %s sets signatureVerification level skip for %s: nothing would be verified", n.TrustPolicy, repo.Name())
	}
	signer := Signer{}
	if outcome.EnvelopeContent != nil && len(outcome.EnvelopeContent.SignerInfo.CertificateChain) > 0 {
		signer.Subject = outcome.EnvelopeContent.SignerInfo.CertificateChain[0].Subject.String()
	}
	if outcome.VerificationLevel != nil {
		signer.Level = outcome.VerificationLevel.Name
	}
	var warnings []string
	for _, r := range outcome.VerificationResults {
		if r.Error != nil && r.Action == trustpolicy.ActionLog {
			warnings = append(warnings, fmt.Sprintf("notation %s check failed, only logged at level %s: %s", r.Type, signer.Level, firstLine(r.Error.Error())))
		}
	}
	if err != nil {
		return verifiedStatement{}, nil, classifyNotation(err, outcome, signer, s, t.Digest)
	}
	if len(ne.crls) > 0 && outcome.EnvelopeContent != nil {
		if cerr := checkCRLs(ne.crls, outcome.EnvelopeContent.SignerInfo.CertificateChain); cerr != nil {
			switch outcome.VerificationLevel.Enforcement[trustpolicy.TypeRevocation] {
			case trustpolicy.ActionEnforce:
				return verifiedStatement{}, nil, newVerr(KindInvalid, "notation signature %s: revoked: %v", s.manifestDigest, cerr)
			case trustpolicy.ActionLog:
				warnings = append(warnings, fmt.Sprintf("notation revocation check failed, only logged at level %s: %v", signer.Level, cerr))
			}
		}
	}
	return verifiedStatement{signer: signer}, warnings, nil
}

// classifyNotation turns a failed notation outcome into a precise reason.
func classifyNotation(err error, outcome *notation.VerificationOutcome, signer Signer, s notationSig, want v1.Hash) *verr {
	sig := "notation signature " + s.manifestDigest
	for _, r := range outcome.VerificationResults {
		if r.Error == nil || r.Action != trustpolicy.ActionEnforce {
			continue
		}
		msg := firstLine(r.Error.Error())
		switch r.Type {
		case trustpolicy.TypeIntegrity:
			return newVerr(KindInvalid, "%s: envelope integrity check failed (tampered or malformed): %s", sig, msg)
		case trustpolicy.TypeAuthenticity:
			if strings.Contains(msg, "trusted identities") || strings.Contains(msg, "trusted identity") {
				return newVerr(KindWrongSigner, "%s: signer %q is not in the trust policy's trustedIdentities: %s", sig, signer.Subject, msg)
			}
			return newVerr(KindWrongSigner, "%s: untrusted root: the certificate chain of %q does not lead to a certificate in the trust store: %s", sig, signer.Subject, msg)
		case trustpolicy.TypeAuthenticTimestamp:
			return newVerr(KindInvalid, "%s: signing certificate of %q is expired or not yet valid and no trusted timestamp covers it (level %s): %s", sig, signer.Subject, signer.Level, msg)
		case trustpolicy.TypeExpiry:
			return newVerr(KindInvalid, "%s: the signature has expired: %s", sig, msg)
		case trustpolicy.TypeRevocation:
			return newVerr(KindInvalid, "%s: certificate of %q revoked or revocation unknown: %s", sig, signer.Subject, msg)
		}
	}
	if outcome.EnvelopeContent != nil {
		var p struct {
			TargetArtifact ocispec.Descriptor `json:"targetArtifact"`
		}
		if json.Unmarshal(outcome.EnvelopeContent.Payload.Content, &p) == nil && p.TargetArtifact.Digest.String() != want.String() {
			return newVerr(KindInvalid, "%s: digest mismatch: the signature covers %s, not %s (signature copied from another image?)", sig, p.TargetArtifact.Digest, want)
		}
		if strings.Contains(err.Error(), "content descriptor mismatch") {
			return newVerr(KindInvalid, "%s: descriptor mismatch: the signed media type or size of %s differ from the registry's", sig, want)
		}
	}
	return newVerr(KindInvalid, "%s: %s", sig, firstLine(err.Error()))
}
