// Package imagesig verifies container image signatures and attestations made
// with sigstore (cosign) or the Notary Project (notation), against an OCI
// registry.
//
// It is a library first: the `kubectl secure verify` command (plugin/verify.go)
// and the `--verify-images` option of `kubectl secure lint` are thin layers
// over it. All registry and sigstore code of kubectl-secure lives here.
//
// # What is verified
//
// A reference is first resolved to a digest (a tag is looked up once, then
// only the digest is used). The signature must cover that digest:
//
//   - cosign's legacy storage (cosign v2 default): an OCI image tagged
//     sha256-<hex>.sig in the image's repository, one simple-signing payload
//     per layer, whose critical.image.docker-manifest-digest must equal the
//     digest. Keyless signatures carry the certificate, chain, Rekor bundle
//     (signed entry timestamp) and RFC 3161 timestamps as annotations.
//   - sigstore bundles stored as OCI 1.1 referrers (cosign v3 default): the
//     in-toto statement's subject must contain the digest. Registries without
//     the referrers API are read through the sha256-<hex> referrers tag
//     fallback.
//   - Notary Project signatures: OCI referrers of artifact type
//     application/vnd.cncf.notary.signature with a JWS or COSE envelope,
//     verified with notation-go against a trust store and a trust policy.
//
// The referrers of a digest are listed once for both sigstore bundles and
// notation signatures.
//
// An Authority is a set of PEM public keys (any may match: the signature
// must verify over the payload with it), keyless: an identity and issuer
// (exact or regular expression) plus a sigstore trust root, or Notation: a
// trust store of X.509 roots and a trust policy document in notation's
// format (registry scopes, signatureVerification level, trustedIdentities),
// optionally CRL files checked offline.
//
// Keyless verification checks the certificate chain to the trusted root's
// Fulcio CA at the signing time, the embedded SCT when the trusted root lists
// CT logs, transparency-log evidence (inclusion proof or signed entry
// timestamp) when the signature has a log entry, or else a signed RFC 3161
// timestamp, and then the identity and issuer. Everything is checked offline
// from the trust root.
//
// The trust root is the authority's TrustedRoot file or else the
// trusted_root.json target of a TUF repository (Authority.TUF: sigstore's
// public good by default), fetched with sigstore-go's TUF client from the
// embedded or given initial root, and cached (WithTUFCache, default
// DefaultTUFCacheDir): with a cache younger than WithTUFMaxAge (24h) and
// unexpired, no request is made; an unreachable mirror falls back to an
// unexpired cache; expired, tampered or rolled-back metadata fails closed
// with an error naming the cause.
//
// For a multi-arch index, a signature on the index is accepted; otherwise a
// signature on the platform manifest for the verifier's platform (default
// linux/amd64) is accepted and reported in Result.SignedObject.
//
// Policy.AttestationTypes additionally require, for each listed type, a
// signed in-toto attestation of that type (cosign's short names such as
// slsaprovenance, spdx, cyclonedx, vuln, or a predicate type URI) about the
// same digest from the same authority that signed the image.
//
// # Using it (lint integration)
//
// PolicyConfig is the YAML shape of the policy (yaml tags included), meant to
// be embedded in the lint configuration as a field tagged
// yaml:"imageVerification":
//
//	cfg, err := imagesig.ParsePolicyConfig(yamlBytes) // or embed PolicyConfig and call cfg.Validate()
//	pol, err := cfg.Compile(configDir)                 // reads key files, checks trusted roots
//	v := imagesig.New()                                // default keychain, 16 at once, timeouts, retries
//	results := v.VerifyAll(ctx, imageRefs, pol.PolicyFor)
//	for ref, r := range results {
//		if r.Verified {
//			continue
//		}
//		sev := pol.SeverityFor(r) // SeverityError, or SeverityWarning for unreachable with onUnreachable: warn
//		// r.Kind: unsigned | wrong-signer | invalid | unreachable | usage
//		// r.Reason: one line, safe to print (never contains credentials)
//	}
//
// imageRefs are the image strings exactly as written in the manifests (the
// map is keyed by them), so each finding can be placed on its `image:` line.
//
// VerifyAll verifies each unique digest once per call however many
// references name it, with at most the configured number of verifications in
// flight; refs for which policyFor reports false are not looked up at all and
// get no entry in the map. Registry requests time out individually and are
// retried with exponential backoff on 408, 429 and 5xx answers.
//
// # Registry access
//
// Credentials come from the Docker config and credential helpers
// (authn.DefaultKeychain) unless WithKeychain is given. Plain HTTP is used
// only for loopback registries (127.0.0.0/8, ::1, localhost); any other
// plain-HTTP request is refused by the transport.
package imagesig
