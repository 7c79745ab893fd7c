package imagesigtest

import (
	"testing"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// SignBlobBundle signs artifact as identity/issuer and returns the sigstore
// bundle v0.3 that `cosign sign-blob --bundle` writes for a file
// (certificate, message signature over its sha256, hashedrekord Rekor
// entry with inclusion proof and signed entry timestamp, RFC 3161
// timestamp).
func (s *Sigstore) SignBlobBundle(tb testing.TB, identity, issuer string, artifact []byte) []byte {
	tb.Helper()
	ent, err := s.VS.Sign(identity, issuer, artifact)
	if err != nil {
		tb.Fatal(err)
	}
	sc, _ := ent.SignatureContent()
	ms := sc.MessageSignatureContent()
	entries, _ := ent.TlogEntries()
	var tles []*protorekor.TransparencyLogEntry
	for _, e := range entries {
		// The virtual log signs blobs without an inclusion proof, which a
		// v0.3 bundle must carry: the entry is remade with one (index 0,
		// the proof's) and its timestamp signed again.
		raw := e.TransparencyLogEntry().GetCanonicalizedBody()
		proof, err := s.VS.GetInclusionProof(raw)
		if err != nil {
			tb.Fatal(err)
		}
		e, err = tlog.NewEntry(raw, e.IntegratedTime().Unix(), *proof.LogIndex, e.TransparencyLogEntry().GetLogId().GetKeyId(), nil, proof) //nolint:staticcheck // as sigstore-go's virtual log does
		if err != nil {
			tb.Fatal(err)
		}
		tles = append(tles, s.logEntry(tb, e, "hashedrekord"))
	}
	return bundleJSON(tb, ent, tles, func(b *protobundle.Bundle) {
		b.Content = &protobundle.Bundle_MessageSignature{MessageSignature: &protocommon.MessageSignature{
			MessageDigest: &protocommon.HashOutput{Algorithm: protocommon.HashAlgorithm_SHA2_256, Digest: ms.Digest()},
			Signature:     ms.Signature(),
		}}
	})
}

// logEntry is e as a bundle carries it: with its kind and a signed entry
// timestamp.
func (s *Sigstore) logEntry(tb testing.TB, e *tlog.Entry, kind string) *protorekor.TransparencyLogEntry {
	tb.Helper()
	tle := proto.Clone(e.TransparencyLogEntry()).(*protorekor.TransparencyLogEntry)
	tle.KindVersion = &protorekor.KindVersion{Kind: kind, Version: "0.0.1"}
	tle.InclusionPromise = &protorekor.InclusionPromise{SignedEntryTimestamp: s.set(tb, e)}
	return tle
}

// bundleJSON is the sigstore bundle v0.3 of ent: its certificate, the log
// entries, its RFC 3161 timestamps, and the content setContent puts in.
func bundleJSON(tb testing.TB, ent *ca.TestEntity, tles []*protorekor.TransparencyLogEntry, setContent func(*protobundle.Bundle)) []byte {
	tb.Helper()
	vc, _ := ent.VerificationContent()
	tss, _ := ent.Timestamps()
	var rfc []*protocommon.RFC3161SignedTimestamp
	for _, ts := range tss {
		rfc = append(rfc, &protocommon.RFC3161SignedTimestamp{SignedTimestamp: ts})
	}
	pb := &protobundle.Bundle{
		MediaType: "application/vnd.dev.sigstore.bundle.v0.3+json",
		VerificationMaterial: &protobundle.VerificationMaterial{
			Content:                   &protobundle.VerificationMaterial_Certificate{Certificate: &protocommon.X509Certificate{RawBytes: vc.Certificate().Raw}},
			TlogEntries:               tles,
			TimestampVerificationData: &protobundle.TimestampVerificationData{Rfc3161Timestamps: rfc},
		},
	}
	setContent(pb)
	b, err := protojson.Marshal(pb)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
