package imagesig

import "fmt"

// Kind classifies why an image did not verify.
type Kind string

// Failure kinds. A verified Result has Kind "".
const (
	// KindUnsigned: no signature (or no required attestation) was found for the digest.
	KindUnsigned Kind = "unsigned"
	// KindWrongSigner: signatures exist, but none verifies with the policy's
	// keys, or the certificate identity or issuer differs.
	KindWrongSigner Kind = "wrong-signer"
	// KindInvalid: a signature by an accepted authority exists but is not
	// valid: it covers another digest, the certificate chain, SCT,
	// transparency-log entry or timestamp does not verify, or it is malformed.
	KindInvalid Kind = "invalid"
	// KindUnreachable: the registry could not be asked (down, timeout,
	// 401/403, image not found): the image is not verifiable.
	KindUnreachable Kind = "unreachable"
	// KindUsage: the reference or the policy is unusable.
	KindUsage Kind = "usage"
)

// Signature storage formats reported in Result.Format.
const (
	FormatLegacySig = "cosign-legacy-sig"
	FormatBundle    = "sigstore-bundle-referrer"
)

// Signer says who made a verified signature.
type Signer struct {
	// Key is the SHA-256 fingerprint of the matching public key
	// (sha256:<hex of the DER SubjectPublicKeyInfo>), for key authorities.
	Key string `json:"key,omitempty"`
	// Identity and Issuer are the certificate's subject alternative name and
	// OIDC issuer, for keyless authorities.
	Identity string `json:"identity,omitempty"`
	Issuer   string `json:"issuer,omitempty"`
	// Subject is the signing certificate's subject, for Notary Project
	// (notation) signatures, and Level the trust policy's
	// signatureVerification level they were verified at.
	Subject string `json:"subject,omitempty"`
	Level   string `json:"level,omitempty"`
}

func (s Signer) String() string {
	if s.Key != "" {
		return "key " + s.Key
	}
	if s.Subject != "" {
		return fmt.Sprintf("%s (notation, level %s)", s.Subject, s.Level)
	}
	return fmt.Sprintf("%s (issuer %s)", s.Identity, s.Issuer)
}

// Attestation is a verified attestation.
type Attestation struct {
	Type          string `json:"type"`
	PredicateType string `json:"predicateType"`
	Format        string `json:"format"`
}

// Result is the outcome for one image reference.
type Result struct {
	Ref    string `json:"ref"`
	Digest string `json:"digest,omitempty"`
	// Verified is true when the signature (and every required attestation) verified.
	Verified bool    `json:"verified"`
	Format   string  `json:"format,omitempty"`
	Signer   *Signer `json:"signer,omitempty"`
	// Signature names the signature that verified: the legacy signature tag
	// or the referrer manifest's digest.
	Signature string `json:"signature,omitempty"`
	// SignedObject is "manifest", "index" or "platform manifest OS/ARCH".
	SignedObject string        `json:"signedObject,omitempty"`
	SignedDigest string        `json:"signedDigest,omitempty"`
	Attestations []Attestation `json:"attestations,omitempty"`
	Kind         Kind          `json:"kind,omitempty"`
	// Reason is a one-line explanation of the failure.
	Reason string `json:"reason,omitempty"`
	// Warnings are checks a notation trust policy only logs (permissive or
	// audit level) that failed on the verified signature.
	Warnings []string `json:"warnings,omitempty"`
}

func failed(ref, digest string, k Kind, format string, args ...any) Result {
	return Result{Ref: ref, Digest: digest, Kind: k, Reason: fmt.Sprintf(format, args...)}
}
