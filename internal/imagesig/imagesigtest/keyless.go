package imagesigtest

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
)

// Sigstore is a virtual sigstore (Fulcio CA, Rekor log, CT log, TSA) from
// sigstore-go's pkg/testing/ca, producing keyless signatures in both of
// cosign's storage formats and the matching trusted_root.json.
type Sigstore struct {
	VS *ca.VirtualSigstore
}

// NewSigstore creates a virtual sigstore.
func NewSigstore(tb testing.TB) *Sigstore {
	tb.Helper()
	vs, err := ca.NewVirtualSigstore()
	if err != nil {
		tb.Fatal(err)
	}
	return &Sigstore{VS: vs}
}

// rawIDLogs re-keys the virtual logs by their raw key IDs, as a serialized
// trusted root carries them.
func rawIDLogs(tb testing.TB, in map[string]*root.TransparencyLog) map[string]*root.TransparencyLog {
	out := map[string]*root.TransparencyLog{}
	for k, l := range in {
		raw, err := hex.DecodeString(k)
		if err != nil {
			tb.Fatal(err)
		}
		c := *l
		c.ID = raw
		out[k] = &c
	}
	return out
}

// WriteTrustedRoot writes the virtual sigstore's trusted_root.json into dir
// and returns its path. withCTLogs includes the CT log (which makes verifiers
// require an SCT; the virtual Fulcio issues certificates without one).
func (s *Sigstore) WriteTrustedRoot(tb testing.TB, dir string, withCTLogs bool) string {
	tb.Helper()
	ct := map[string]*root.TransparencyLog{}
	if withCTLogs {
		ct = rawIDLogs(tb, s.VS.CTLogs())
	}
	tr, err := root.NewTrustedRoot(root.TrustedRootMediaType01, s.VS.FulcioCertificateAuthorities(), ct,
		s.VS.TimestampingAuthorities(), rawIDLogs(tb, s.VS.RekorLogs()))
	if err != nil {
		tb.Fatal(err)
	}
	b, err := tr.MarshalJSON()
	if err != nil {
		tb.Fatal(err)
	}
	p := filepath.Join(dir, fmt.Sprintf("trusted_root-%d.json", time.Now().UnixNano()))
	if err := os.WriteFile(p, b, 0o600); err != nil {
		tb.Fatal(err)
	}
	return p
}

// Statement returns an in-toto v1 statement about target.
func Statement(target name.Digest, predicateType, predicateJSON string) []byte {
	if predicateJSON == "" {
		predicateJSON = "{}"
	}
	d := target.DigestStr()
	return []byte(fmt.Sprintf(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":%q,"digest":{"sha256":%q}}],"predicateType":%q,"predicate":%s}`,
		target.Context().Name(), d[len("sha256:"):], predicateType, predicateJSON))
}

// set re-signs the entry's Rekor payload: the signed entry timestamp.
func (s *Sigstore) set(tb testing.TB, e *tlog.Entry) []byte {
	tb.Helper()
	logID, err := s.VS.RekorLogID()
	if err != nil {
		tb.Fatal(err)
	}
	set, err := s.VS.RekorSignPayload(tlog.RekorPayload{
		Body: e.Body(), IntegratedTime: e.IntegratedTime().Unix(), LogIndex: e.LogIndex(), LogID: logID,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return set
}

// AttestBundle signs an in-toto statement as identity/issuer and returns a
// sigstore bundle v0.3 (certificate, DSSE envelope, Rekor entry with
// inclusion proof and signed entry timestamp, RFC 3161 timestamp), as
// cosign v3 attaches to images.
func (s *Sigstore) AttestBundle(tb testing.TB, identity, issuer string, statement []byte) []byte {
	tb.Helper()
	ent, err := s.VS.AttestAtTime(identity, issuer, statement, time.Now().Add(5*time.Minute), true)
	if err != nil {
		tb.Fatal(err)
	}
	sc, _ := ent.SignatureContent()
	env := sc.EnvelopeContent().RawEnvelope()
	payload, err := base64.StdEncoding.DecodeString(env.Payload)
	if err != nil {
		tb.Fatal(err)
	}
	var sigs []*protodsse.Signature
	for _, sg := range env.Signatures {
		raw, err := base64.StdEncoding.DecodeString(sg.Sig)
		if err != nil {
			tb.Fatal(err)
		}
		sigs = append(sigs, &protodsse.Signature{Sig: raw, Keyid: sg.KeyID})
	}
	entries, _ := ent.TlogEntries()
	var tles []*protorekor.TransparencyLogEntry
	for _, e := range entries {
		tles = append(tles, s.logEntry(tb, e, "dsse"))
	}
	return bundleJSON(tb, ent, tles, func(b *protobundle.Bundle) {
		b.Content = &protobundle.Bundle_DsseEnvelope{DsseEnvelope: &protodsse.Envelope{
			Payload: payload, PayloadType: env.PayloadType, Signatures: sigs,
		}}
	})
}

// SignLegacy signs target as identity/issuer and pushes cosign's legacy
// sha256-<hex>.sig image with the certificate, chain, Rekor bundle (signed
// entry timestamp) and RFC 3161 timestamp annotations, as cosign v2 does.
// mutate may alter the annotations before the push.
func (s *Sigstore) SignLegacy(tb testing.TB, reg *Registry, target name.Digest, identity, issuer string, mutate func(map[string]string)) {
	tb.Helper()
	payload := SimpleSigningPayload(target)
	ent, err := s.VS.Sign(identity, issuer, payload)
	if err != nil {
		tb.Fatal(err)
	}
	vc, _ := ent.VerificationContent()
	sc, _ := ent.SignatureContent()
	entries, _ := ent.TlogEntries()
	e := entries[0]
	logID, _ := s.VS.RekorLogID()
	rb, err := json.Marshal(map[string]any{
		"SignedEntryTimestamp": s.set(tb, e),
		"Payload": map[string]any{
			"body": e.Body(), "integratedTime": e.IntegratedTime().Unix(), "logIndex": e.LogIndex(), "logID": logID,
		},
	})
	if err != nil {
		tb.Fatal(err)
	}
	certPEM, err := cryptoutils.MarshalCertificateToPEM(vc.Certificate())
	if err != nil {
		tb.Fatal(err)
	}
	ca := s.VS.FulcioCertificateAuthorities()[0].(*root.FulcioCertificateAuthority)
	var chain []byte
	for _, c := range append(ca.Intermediates, ca.Root) {
		p, err := cryptoutils.MarshalCertificateToPEM(c)
		if err != nil {
			tb.Fatal(err)
		}
		chain = append(chain, p...)
	}
	tss, _ := ent.Timestamps()
	ts, _ := json.Marshal(map[string][]byte{"SignedRFC3161Timestamp": tss[0]})
	ann := map[string]string{
		"dev.cosignproject.cosign/signature":   base64.StdEncoding.EncodeToString(sc.Signature()),
		"dev.sigstore.cosign/certificate":      string(certPEM),
		"dev.sigstore.cosign/chain":            string(chain),
		"dev.sigstore.cosign/bundle":           string(rb),
		"dev.sigstore.cosign/rfc3161timestamp": string(ts),
	}
	if mutate != nil {
		mutate(ann)
	}
	reg.PushLegacySignature(tb, target, payload, ann)
}

// AttestLegacy signs an in-toto statement as identity/issuer and pushes it
// as cosign's legacy sha256-<hex>.att image: a DSSE envelope layer with the
// certificate, chain and Rekor bundle annotations.
func (s *Sigstore) AttestLegacy(tb testing.TB, reg *Registry, target name.Digest, identity, issuer string, statement []byte) {
	tb.Helper()
	ent, err := s.VS.AttestAtTime(identity, issuer, statement, time.Now().Add(5*time.Minute), false)
	if err != nil {
		tb.Fatal(err)
	}
	vc, _ := ent.VerificationContent()
	sc, _ := ent.SignatureContent()
	envJSON, err := json.Marshal(sc.EnvelopeContent().RawEnvelope())
	if err != nil {
		tb.Fatal(err)
	}
	entries, _ := ent.TlogEntries()
	e := entries[0]
	logID, _ := s.VS.RekorLogID()
	rb, _ := json.Marshal(map[string]any{
		"SignedEntryTimestamp": s.set(tb, e),
		"Payload":              map[string]any{"body": e.Body(), "integratedTime": e.IntegratedTime().Unix(), "logIndex": e.LogIndex(), "logID": logID},
	})
	certPEM, _ := cryptoutils.MarshalCertificateToPEM(vc.Certificate())
	var pt struct {
		PredicateType string `json:"predicateType"`
	}
	_ = json.Unmarshal(statement, &pt)
	layer := static.NewLayer(envJSON, "application/vnd.dsse.envelope.v1+json")
	img, err := mutate.Append(mutate.MediaType(empty.Image, types.OCIManifestSchema1), mutate.Addendum{Layer: layer, Annotations: map[string]string{
		"predicateType":                   pt.PredicateType,
		"dev.sigstore.cosign/certificate": string(certPEM),
		"dev.sigstore.cosign/bundle":      string(rb),
	}})
	if err != nil {
		tb.Fatal(err)
	}
	tag := target.Context().Tag(strings.Replace(target.DigestStr(), ":", "-", 1) + ".att")
	if err := remote.Write(tag, mutate.ConfigMediaType(img, types.OCIConfigJSON), reg.writeOpts()...); err != nil {
		tb.Fatalf("pushing attestation: %v", err)
	}
}
