package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-secure/kubectl-secure/internal/imagesig"
)

// VerifyOptions holds the flags and state of `kubectl secure verify`.
type VerifyOptions struct {
	genericiooptions.IOStreams

	// Flags, named as cosign's so users already know them.
	Keys                []string
	CertIdentity        string
	CertIdentityRegexp  string
	CertOIDCIssuer      string
	CertOIDCIssuerRegex string
	TrustedRoot         string
	TUFMirror           string
	TUFRoot             string
	TUFCache            string
	NotationTrustPolicy string
	NotationTrustStore  []string
	NotationCRL         []string
	AttestationTypes    []string
	Output              string
	Timeout             time.Duration
	Concurrency         int
	Platform            string

	// Completed state.
	Images   []string
	policy   imagesig.Policy
	platform v1.Platform
	// VerifierOptions are appended to the verifier's options (tests).
	VerifierOptions []imagesig.Option
}

// NewVerifyOptions returns options with defaults.
func NewVerifyOptions(streams genericiooptions.IOStreams) *VerifyOptions {
	return &VerifyOptions{IOStreams: streams, Output: "text", Timeout: 30 * time.Second, Concurrency: 16, Platform: "linux/amd64"}
}

// NewCmdVerify builds `kubectl secure verify IMAGE…`.
func NewCmdVerify(streams genericiooptions.IOStreams) *cobra.Command {
	o := NewVerifyOptions(streams)
	cmd := &cobra.Command{
		Use:   "verify IMAGE...",
		Short: "Verify container image signatures and attestations (sigstore/cosign, Notary Project/notation)",
		Long: `Verify that container images are signed. Only the registry is contacted
(and, for keyless verification without --trusted-root, sigstore's TUF mirror
when its cache is cold or a day old).

Each image is resolved to its digest; the signature must cover that digest.
Both storage formats cosign writes are read: the legacy sha256-<hex>.sig tag
(cosign v2) and sigstore bundles attached as OCI referrers (cosign v3), with
the referrers tag fallback for registries without the referrers API.

Give public keys with --key (any of them may match), or a keyless identity:
--certificate-identity[-regexp], --certificate-oidc-issuer[-regexp] and a
trust root against which the certificate chain, SCT, transparency-log
evidence or signed timestamp are checked offline. The trust root is a
sigstore trusted_root.json given with --trusted-root or, by default, the one
sigstore's TUF repository serves, verified from the root embedded in the
binary and cached (--tuf-mirror and --tuf-root for a private deployment or
an air-gapped mirror; --tuf-cache or $KUBECTL_SECURE_TUF_CACHE to move the
cache). With a warm cache no request is made to the mirror.

Notary Project signatures (notation; JWS and COSE envelopes, stored as OCI
referrers) are verified with --notation-trust-policy, a trust policy document
in notation's format (registry scopes, signatureVerification level,
trustStores, trustedIdentities), and --notation-trust-store, a directory in
notation's layout or PEM root certificates. Authorities of both kinds may be
given together: any one of them verifying the image is enough.

Exit status: 0 when every image verified, 1 when any did not (unsigned, wrong
signer, invalid, unreachable), 2 for usage errors and for a trust root that
could not be obtained (TUF metadata expired, tampered or rolled back, or the
mirror unreachable with no valid cache).`,
		Example: `  # Key-based
  kubectl secure verify --key cosign.pub ghcr.io/org/app:1.2.3

  # Keyless, trust root from sigstore's TUF repository (cached)
  kubectl secure verify \
    --certificate-identity https://github.com/org/app/.github/workflows/release.yml@refs/heads/main \
    --certificate-oidc-issuer https://token.actions.githubusercontent.com ghcr.io/org/app:1.2.3

  # Notary Project (notation) signatures
  kubectl secure verify --notation-trust-policy trustpolicy.json \
    --notation-trust-store ~/.config/notation/truststore registry.example.com/app:1.2.3

  # Keyless, offline, requiring SLSA provenance
  kubectl secure verify --trusted-root trusted_root.json \
    --certificate-identity-regexp '^https://github.com/org/app/' \
    --certificate-oidc-issuer https://token.actions.githubusercontent.com \
    --attestation-type slsaprovenance -o json ghcr.io/org/app@sha256:...`,
		Args:          cobra.ArbitraryArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Complete(args); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	o.AddFlags(cmd.Flags())
	return cmd
}

// AddFlags registers the verify flags.
func (o *VerifyOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringArrayVar(&o.Keys, "key", o.Keys, "PEM public key file; repeatable, any may match")
	fs.StringVar(&o.CertIdentity, "certificate-identity", o.CertIdentity, "keyless: expected identity (SAN) of the signing certificate")
	fs.StringVar(&o.CertIdentityRegexp, "certificate-identity-regexp", o.CertIdentityRegexp, "keyless: regular expression the certificate identity must match")
	fs.StringVar(&o.CertOIDCIssuer, "certificate-oidc-issuer", o.CertOIDCIssuer, "keyless: expected OIDC issuer of the signing certificate")
	fs.StringVar(&o.CertOIDCIssuerRegex, "certificate-oidc-issuer-regexp", o.CertOIDCIssuerRegex, "keyless: regular expression the OIDC issuer must match")
	fs.StringVar(&o.TrustedRoot, "trusted-root", o.TrustedRoot, "keyless: sigstore trusted_root.json (offline / air-gapped verification); default: from sigstore's TUF repository")
	AddTUFFlags(fs, &o.TUFMirror, &o.TUFRoot, &o.TUFCache)
	fs.StringVar(&o.NotationTrustPolicy, "notation-trust-policy", o.NotationTrustPolicy, "Notary Project: trust policy document (notation's trustpolicy.json); with --notation-trust-store")
	fs.StringArrayVar(&o.NotationTrustStore, "notation-trust-store", o.NotationTrustStore, "Notary Project: trust store directory (notation's layout: x509/ca/NAME/*.pem) or PEM root certificate files; repeatable")
	fs.StringArrayVar(&o.NotationCRL, "notation-crl", o.NotationCRL, "Notary Project: certificate revocation list (PEM or DER) checked offline against the signing chain; repeatable")
	fs.StringArrayVar(&o.AttestationTypes, "attestation-type", o.AttestationTypes, "require a signed in-toto attestation of this type from the same signer: slsaprovenance, spdx, cyclonedx, vuln, … or a predicate type URI; repeatable")
	fs.StringVarP(&o.Output, "output", "o", o.Output, "output format: text or json")
	fs.DurationVar(&o.Timeout, "timeout", o.Timeout, "timeout of each registry request")
	fs.IntVar(&o.Concurrency, "concurrency", o.Concurrency, "images verified at once")
	fs.StringVar(&o.Platform, "platform", o.Platform, "platform whose manifest may carry the signature when a multi-arch index is unsigned")
}

// AddTUFFlags registers --tuf-mirror, --tuf-root and --tuf-cache (named as
// in cosign's initialize) for verify and lint.
func AddTUFFlags(fs *pflag.FlagSet, mirror, root, cache *string) {
	fs.StringVar(mirror, "tuf-mirror", *mirror, "keyless: TUF repository serving the sigstore trusted root (default: sigstore's public-good repository)")
	fs.StringVar(root, "tuf-root", *root, "keyless: initial root.json of the TUF repository (default: the public-good root embedded in the binary)")
	fs.StringVar(cache, "tuf-cache", *cache, "directory of the verified TUF metadata cache (default $"+imagesig.TUFCacheEnv+", else $XDG_CACHE_HOME/kubectl-secure/tuf)")
}

// Complete reads the keys and builds the policy.
func (o *VerifyOptions) Complete(args []string) error {
	o.Images = args
	var pems [][]byte
	for _, k := range o.Keys {
		b, err := os.ReadFile(k)
		if err != nil {
			return usageError("--key: %v", err)
		}
		pems = append(pems, b)
	}
	o.policy = imagesig.Policy{AttestationTypes: o.AttestationTypes}
	if len(pems) > 0 {
		o.policy.Authorities = append(o.policy.Authorities, imagesig.Authority{Keys: pems})
	}
	if o.CertIdentity != "" || o.CertIdentityRegexp != "" || o.CertOIDCIssuer != "" || o.CertOIDCIssuerRegex != "" || (len(pems) == 0 && o.TrustedRoot != "") {
		o.policy.Authorities = append(o.policy.Authorities, imagesig.Authority{
			Identity: o.CertIdentity, IdentityRegexp: o.CertIdentityRegexp,
			Issuer: o.CertOIDCIssuer, IssuerRegexp: o.CertOIDCIssuerRegex,
			TrustedRoot: o.TrustedRoot,
			TUF:         imagesig.TUF{Mirror: o.TUFMirror, Root: o.TUFRoot},
		})
	}
	if o.NotationTrustPolicy != "" || len(o.NotationTrustStore) > 0 || len(o.NotationCRL) > 0 {
		o.policy.Authorities = append(o.policy.Authorities, imagesig.Authority{Notation: &imagesig.Notation{
			TrustStore: o.NotationTrustStore, TrustPolicy: o.NotationTrustPolicy, CRL: o.NotationCRL,
		}})
	}
	parts := strings.Split(o.Platform, "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return usageError("--platform %q: want OS/ARCH[/VARIANT]", o.Platform)
	}
	o.platform = v1.Platform{OS: parts[0], Architecture: parts[1]}
	if len(parts) == 3 {
		o.platform.Variant = parts[2]
	}
	return nil
}

// Validate checks flags and arguments.
func (o *VerifyOptions) Validate() error {
	if len(o.Images) == 0 {
		return usageError("verify needs at least one IMAGE")
	}
	if o.Output != "text" && o.Output != "json" {
		return usageError("--output %q: want text or json", o.Output)
	}
	if o.TrustedRoot != "" && (o.TUFMirror != "" || o.TUFRoot != "") {
		return usageError("--trusted-root and --tuf-mirror/--tuf-root exclude each other: the trusted root comes from a file or from TUF")
	}
	if len(o.policy.Authorities) == 0 {
		return usageError("give --key, a keyless identity (--certificate-identity[-regexp], --certificate-oidc-issuer[-regexp]), or a Notary Project trust policy and store (--notation-trust-policy, --notation-trust-store)")
	}
	if err := o.policy.Validate(); err != nil {
		return usageError("%v", err)
	}
	if o.Timeout <= 0 {
		return usageError("--timeout must be positive")
	}
	if o.Concurrency < 1 {
		return usageError("--concurrency must be at least 1")
	}
	return nil
}

// verifyReport is the JSON output.
type verifyReport struct {
	Verified bool              `json:"verified"`
	Images   []imagesig.Result `json:"images"`
}

// Run verifies the images and writes the report.
func (o *VerifyOptions) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	opts := append([]imagesig.Option{
		imagesig.WithTimeout(o.Timeout),
		imagesig.WithConcurrency(o.Concurrency),
		imagesig.WithPlatform(o.platform),
		imagesig.WithUserAgent("kubectl-secure/" + version),
	}, o.VerifierOptions...)
	if o.TUFCache != "" {
		opts = append(opts, imagesig.WithTUFCache(o.TUFCache))
	}
	v := imagesig.New(opts...)
	results := v.VerifyAll(ctx, o.Images, func(string) (imagesig.Policy, bool) { return o.policy, true })

	rep := verifyReport{Verified: true}
	seen := map[string]bool{}
	usage := false
	for _, img := range o.Images {
		if seen[img] {
			continue
		}
		seen[img] = true
		r := results[img]
		rep.Images = append(rep.Images, r)
		if !r.Verified {
			rep.Verified = false
			usage = usage || r.Kind == imagesig.KindUsage
		}
	}
	var err error
	if o.Output == "json" {
		enc := json.NewEncoder(o.Out)
		enc.SetIndent("", "  ")
		err = enc.Encode(rep)
	} else {
		err = writeVerifyText(o.Out, rep)
	}
	if err != nil {
		return &ExitError{Code: ExitCodeError, Err: fmt.Errorf("writing report: %w", err)}
	}
	if rep.Verified {
		return nil
	}
	failedN := 0
	for _, r := range rep.Images {
		if !r.Verified {
			failedN++
		}
	}
	if usage {
		return &ExitError{Code: ExitCodeError, Err: errors.New("verification could not run: invalid image reference, policy or trust root (see above)")}
	}
	return &ExitError{Code: ExitCodeFindings, Err: fmt.Errorf("%d of %d images not verified", failedN, len(rep.Images))}
}

func writeVerifyText(w io.Writer, rep verifyReport) error {
	var b strings.Builder
	for i, r := range rep.Images {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "%s\n", r.Ref)
		if r.Digest != "" {
			fmt.Fprintf(&b, "  digest:    %s\n", r.Digest)
		}
		if r.Verified {
			fmt.Fprintf(&b, "  result:    verified\n")
			fmt.Fprintf(&b, "  format:    %s\n", r.Format)
			fmt.Fprintf(&b, "  signed:    %s %s\n", r.SignedObject, r.SignedDigest)
			if r.Signer != nil {
				fmt.Fprintf(&b, "  signer:    %s\n", r.Signer)
			}
			if r.Signature != "" {
				fmt.Fprintf(&b, "  signature: %s\n", r.Signature)
			}
			for _, w := range r.Warnings {
				fmt.Fprintf(&b, "  warning:   %s\n", w)
			}
			for _, a := range r.Attestations {
				fmt.Fprintf(&b, "  attested:  %s (%s, %s)\n", a.Type, a.PredicateType, a.Format)
			}
			continue
		}
		fmt.Fprintf(&b, "  result:    NOT VERIFIED (%s)\n", r.Kind)
		fmt.Fprintf(&b, "  reason:    %s\n", r.Reason)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
