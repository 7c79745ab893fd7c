package imagesig

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"gopkg.in/yaml.v3"
)

// Policy says who must have signed an image and which attestations it needs.
// The image is accepted when any one Authority verifies its signature and,
// from that same Authority, every AttestationTypes entry.
type Policy struct {
	Authorities      []Authority
	AttestationTypes []string
}

// Authority is one acceptable signer: either Keys (PEM public keys, any of
// which may match) or keyless (Identity/IdentityRegexp, Issuer/IssuerRegexp
// and the trusted root: TrustedRoot, the path of a sigstore
// trusted_root.json, or else the one the TUF repository serves).
type Authority struct {
	Keys           [][]byte
	Identity       string
	IdentityRegexp string
	Issuer         string
	IssuerRegexp   string
	TrustedRoot    string
	// TUF is used when TrustedRoot is empty (zero: sigstore's public good).
	TUF TUF
	// Notation, when set, makes this a Notary Project authority (and the
	// fields above must be empty).
	Notation *Notation `json:",omitempty"`
}

// Keyless reports whether the authority is a keyless (certificate) cosign one.
func (a Authority) Keyless() bool { return len(a.Keys) == 0 && a.Notation == nil }

// Validate checks that the authority is usable, without touching the network.
func (a Authority) Validate() error {
	if a.Notation != nil {
		if len(a.Keys) > 0 || a.Identity != "" || a.IdentityRegexp != "" || a.Issuer != "" || a.IssuerRegexp != "" || a.TrustedRoot != "" {
			return errors.New("a notation authority has no cosign key or keyless identity")
		}
		return a.Notation.validate()
	}
	if len(a.Keys) > 0 {
		if a.Identity != "" || a.IdentityRegexp != "" || a.Issuer != "" || a.IssuerRegexp != "" {
			return errors.New("an authority has either keys or a keyless identity, not both")
		}
		for i, k := range a.Keys {
			if _, err := loadPublicKey(k); err != nil {
				return fmt.Errorf("key %d: %w", i+1, err)
			}
		}
		return nil
	}
	if a.Identity == "" && a.IdentityRegexp == "" {
		return errors.New("keyless verification needs a certificate identity or identity regexp (or give a key)")
	}
	if a.Issuer == "" && a.IssuerRegexp == "" {
		return errors.New("keyless verification needs a certificate OIDC issuer or issuer regexp")
	}
	for _, re := range []string{a.IdentityRegexp, a.IssuerRegexp} {
		if re == "" {
			continue
		}
		if _, err := regexp.Compile(re); err != nil {
			return fmt.Errorf("invalid regexp %q: %w", re, err)
		}
	}
	if a.TrustedRoot == "" {
		return a.TUF.validate()
	}
	if _, err := os.Stat(a.TrustedRoot); err != nil {
		return fmt.Errorf("trusted root: %w", err)
	}
	return nil
}

// Validate checks every authority and attestation type of the policy.
func (p Policy) Validate() error {
	if len(p.Authorities) == 0 {
		return errors.New("policy has no authorities: give a key or a keyless identity")
	}
	for i, a := range p.Authorities {
		if err := a.Validate(); err != nil {
			return fmt.Errorf("authority %d: %w", i+1, err)
		}
	}
	for _, t := range p.AttestationTypes {
		if _, err := PredicateTypes(t); err != nil {
			return err
		}
	}
	return nil
}

// fingerprint identifies a policy for deduplication.
func (p Policy) fingerprint() string {
	b, _ := json.Marshal(p)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// predicateAliases maps cosign's --type short names to in-toto predicate types.
var predicateAliases = map[string][]string{
	"slsaprovenance":   {"https://slsa.dev/provenance/v0.2", "https://slsa.dev/provenance/v1", "https://slsa.dev/provenance/v0.1"},
	"slsaprovenance02": {"https://slsa.dev/provenance/v0.2"},
	"slsaprovenance1":  {"https://slsa.dev/provenance/v1"},
	"spdx":             {"https://spdx.dev/Document"},
	"spdxjson":         {"https://spdx.dev/Document"},
	"cyclonedx":        {"https://cyclonedx.org/bom"},
	"vuln":             {"https://cosign.sigstore.dev/attestation/vuln/v1"},
	"openvex":          {"https://openvex.dev/ns"},
	"custom":           {"https://cosign.sigstore.dev/attestation/v1"},
	"link":             {"https://in-toto.io/Link/v1"},
}

// PredicateTypes returns the in-toto predicate types an attestation type
// accepts: cosign's short names (slsaprovenance accepts SLSA v0.1, v0.2 and
// v1) or a URI, taken as is.
func PredicateTypes(attestationType string) ([]string, error) {
	if ts, ok := predicateAliases[strings.ToLower(attestationType)]; ok {
		return ts, nil
	}
	if strings.Contains(attestationType, "://") {
		return []string{attestationType}, nil
	}
	return nil, fmt.Errorf("unknown attestation type %q: use slsaprovenance, slsaprovenance02, slsaprovenance1, spdx, cyclonedx, vuln, openvex, custom, link or a predicate type URI", attestationType)
}

// MatchPolicy returns the index of the first pattern that matches ref, in
// the style of sigstore's ClusterImagePolicy globs: `*` matches within one
// path segment, `**` across segments, `?` one character. A pattern is matched
// against the reference as written without its tag or digest, and against
// its normalized repository (index.docker.io/library/nginx, also spelled
// docker.io/library/nginx, for nginx), so "nginx", "docker.io/library/*" and
// "index.docker.io/library/*" all match "nginx:1.27". A pattern that
// itself has a tag or digest is matched against the whole reference.
func MatchPolicy(patterns []string, ref string) (int, bool) {
	cands := refCandidates(ref)
	for i, p := range patterns {
		re, err := globRegexp(p)
		if err != nil {
			continue
		}
		for _, c := range cands {
			if re.MatchString(c) {
				return i, true
			}
		}
	}
	return -1, false
}

func refCandidates(ref string) []string {
	out := []string{ref}
	bare := ref
	if i := strings.Index(bare, "@"); i >= 0 {
		bare = bare[:i]
	}
	if i := strings.LastIndex(bare, ":"); i > strings.LastIndex(bare, "/") {
		bare = bare[:i]
	}
	out = append(out, bare)
	if r, err := name.ParseReference(ref); err == nil {
		out = append(out, r.Context().Name(), r.Name())
		if r.Context().RegistryStr() == name.DefaultRegistry {
			out = append(out, "docker.io/"+r.Context().RepositoryStr())
		}
	}
	return out
}

func globRegexp(glob string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(glob); i++ {
		switch c := glob[i]; c {
		case '*':
			if i+1 < len(glob) && glob[i+1] == '*' {
				b.WriteString(".*")
				i++
			} else {
				b.WriteString("[^/]*")
			}
		case '?':
			b.WriteString("[^/]")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

// PolicyConfig is the image-verification section of .kubectl-secure.yaml:
//
//	onUnreachable: fail            # or warn
//	tuf:                           # where keyless authorities without trustedRoot get it
//	  mirror: https://tuf.example.com   # default: sigstore's public-good repository
//	  root: sigstore/root.json          # its initial root (default: embedded public-good root)
//	images:
//	  - glob: "registry.example.com/team/**"
//	    authorities:
//	      - key: keys/cosign.pub     # a file (relative to the config) or inline PEM
//	      - keyless:
//	          identity: https://github.com/org/repo/.github/workflows/release.yml@refs/heads/main
//	          issuer: https://token.actions.githubusercontent.com
//	          trustedRoot: sigstore/trusted_root.json   # optional: else from TUF
//	      - notation:                # a Notary Project signature
//	          trustStore: notation/truststore          # notation's layout, or PEM file(s)
//	          trustPolicy: notation/trustpolicy.json
//	          crl: notation/acme.crl                   # optional, offline revocation
//	    attestations: [slsaprovenance]
//
// Entries are tried in order; the first whose glob matches an image applies.
type PolicyConfig struct {
	OnUnreachable string        `yaml:"onUnreachable,omitempty" json:"onUnreachable,omitempty"`
	TUF           *TUFConfig    `yaml:"tuf,omitempty" json:"tuf,omitempty"`
	Images        []ImagePolicy `yaml:"images" json:"images"`
}

// TUFConfig is the YAML form of TUF: the repository keyless authorities
// without a trustedRoot get the sigstore trusted root from.
type TUFConfig struct {
	Mirror string `yaml:"mirror,omitempty" json:"mirror,omitempty"`
	Root   string `yaml:"root,omitempty" json:"root,omitempty"`
}

// ImagePolicy is one entry of PolicyConfig.Images.
type ImagePolicy struct {
	Glob         string            `yaml:"glob" json:"glob"`
	Authorities  []AuthorityConfig `yaml:"authorities" json:"authorities"`
	Attestations []string          `yaml:"attestations,omitempty" json:"attestations,omitempty"`
}

// AuthorityConfig is one authority in the YAML form: exactly one of Key,
// Keyless or Notation.
type AuthorityConfig struct {
	Key      string          `yaml:"key,omitempty" json:"key,omitempty"`
	Keyless  *KeylessConfig  `yaml:"keyless,omitempty" json:"keyless,omitempty"`
	Notation *NotationConfig `yaml:"notation,omitempty" json:"notation,omitempty"`
}

// NotationConfig is a Notary Project authority in the YAML form: a trust
// store (a directory in notation's layout, or PEM files: one path or a
// list) and a trust policy document, paths relative to the config.
type NotationConfig struct {
	TrustStore  PathList `yaml:"trustStore" json:"trustStore"`
	TrustPolicy string   `yaml:"trustPolicy" json:"trustPolicy"`
	// CRL: optional certificate revocation lists checked offline.
	CRL PathList `yaml:"crl,omitempty" json:"crl,omitempty"`
}

// PathList is one path or a list of paths.
type PathList []string

// UnmarshalYAML accepts a scalar or a sequence of scalars.
func (l *PathList) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*l = PathList{n.Value}
		return nil
	}
	var s []string
	if err := n.Decode(&s); err != nil {
		return err
	}
	*l = s
	return nil
}

// KeylessConfig is a keyless authority in the YAML form.
type KeylessConfig struct {
	Identity       string `yaml:"identity,omitempty" json:"identity,omitempty"`
	IdentityRegexp string `yaml:"identityRegexp,omitempty" json:"identityRegexp,omitempty"`
	Issuer         string `yaml:"issuer,omitempty" json:"issuer,omitempty"`
	IssuerRegexp   string `yaml:"issuerRegexp,omitempty" json:"issuerRegexp,omitempty"`
	TrustedRoot    string `yaml:"trustedRoot,omitempty" json:"trustedRoot,omitempty"`
}

// OnUnreachable values.
const (
	OnUnreachableFail = "fail"
	OnUnreachableWarn = "warn"
)

// ParsePolicyConfig decodes the YAML form strictly (unknown fields are errors)
// and validates its shape.
func ParsePolicyConfig(data []byte) (*PolicyConfig, error) {
	var c PolicyConfig
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("image verification policy: %w", err)
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// Validate checks the shape of the configuration (not the files it names;
// Compile does that).
func (c *PolicyConfig) Validate() error {
	switch c.OnUnreachable {
	case "", OnUnreachableFail, OnUnreachableWarn:
	default:
		return fmt.Errorf("image verification policy: onUnreachable must be %q or %q, not %q", OnUnreachableFail, OnUnreachableWarn, c.OnUnreachable)
	}
	if len(c.Images) == 0 {
		return errors.New("image verification policy: images is empty")
	}
	if c.TUF != nil {
		if err := (TUF{Mirror: c.TUF.Mirror}).validate(); err != nil {
			return fmt.Errorf("image verification policy: tuf: %w", err)
		}
	}
	for i, im := range c.Images {
		where := fmt.Sprintf("image verification policy: images[%d]", i)
		if im.Glob == "" {
			return fmt.Errorf("%s: glob is empty", where)
		}
		if _, err := globRegexp(im.Glob); err != nil {
			return fmt.Errorf("%s: glob %q: %w", where, im.Glob, err)
		}
		if len(im.Authorities) == 0 {
			return fmt.Errorf("%s (%s): no authorities", where, im.Glob)
		}
		for j, a := range im.Authorities {
			n := 0
			for _, set := range []bool{a.Key != "", a.Keyless != nil, a.Notation != nil} {
				if set {
					n++
				}
			}
			if n != 1 {
				return fmt.Errorf("%s (%s): authorities[%d]: give exactly one of key, keyless or notation", where, im.Glob, j)
			}
			if nc := a.Notation; nc != nil && (len(nc.TrustStore) == 0 || nc.TrustPolicy == "") {
				return fmt.Errorf("%s (%s): authorities[%d]: notation needs trustStore and trustPolicy", where, im.Glob, j)
			}
			if k := a.Keyless; k != nil {
				if k.Identity == "" && k.IdentityRegexp == "" {
					return fmt.Errorf("%s (%s): authorities[%d]: keyless needs identity or identityRegexp", where, im.Glob, j)
				}
				if k.Issuer == "" && k.IssuerRegexp == "" {
					return fmt.Errorf("%s (%s): authorities[%d]: keyless needs issuer or issuerRegexp", where, im.Glob, j)
				}
			}
		}
		for _, t := range im.Attestations {
			if _, err := PredicateTypes(t); err != nil {
				return fmt.Errorf("%s (%s): %w", where, im.Glob, err)
			}
		}
	}
	return nil
}

// CompiledPolicy is a PolicyConfig with its key files read and its trusted
// roots checked, ready for Verifier.VerifyAll.
type CompiledPolicy struct {
	OnUnreachable string
	globs         []string
	policies      []Policy
}

// Compile resolves relative key and trusted-root paths against baseDir (the
// directory of the configuration file), reads the keys and validates every
// policy.
func (c *PolicyConfig) Compile(baseDir string) (*CompiledPolicy, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	abs := func(p string) string {
		if filepath.IsAbs(p) || baseDir == "" {
			return p
		}
		return filepath.Join(baseDir, p)
	}
	absOrEmpty := func(p string) string {
		if p == "" {
			return ""
		}
		return abs(p)
	}
	cp := &CompiledPolicy{OnUnreachable: c.OnUnreachable}
	var tufSrc TUF
	if c.TUF != nil {
		tufSrc = TUF{Mirror: c.TUF.Mirror}
		if c.TUF.Root != "" {
			tufSrc.Root = abs(c.TUF.Root)
		}
	}
	if cp.OnUnreachable == "" {
		cp.OnUnreachable = OnUnreachableFail
	}
	for i, im := range c.Images {
		p := Policy{AttestationTypes: im.Attestations}
		for _, a := range im.Authorities {
			if a.Key != "" {
				pem := []byte(a.Key)
				if !strings.Contains(a.Key, "-----BEGIN") {
					b, err := os.ReadFile(abs(a.Key))
					if err != nil {
						return nil, fmt.Errorf("image verification policy: images[%d] (%s): %w", i, im.Glob, err)
					}
					pem = b
				}
				p.Authorities = append(p.Authorities, Authority{Keys: [][]byte{pem}})
				continue
			}
			if nc := a.Notation; nc != nil {
				n := &Notation{TrustPolicy: abs(nc.TrustPolicy)}
				for _, ts := range nc.TrustStore {
					n.TrustStore = append(n.TrustStore, abs(ts))
				}
				for _, c := range nc.CRL {
					n.CRL = append(n.CRL, abs(c))
				}
				p.Authorities = append(p.Authorities, Authority{Notation: n})
				continue
			}
			k := a.Keyless
			p.Authorities = append(p.Authorities, Authority{
				Identity: k.Identity, IdentityRegexp: k.IdentityRegexp,
				Issuer: k.Issuer, IssuerRegexp: k.IssuerRegexp,
				TrustedRoot: absOrEmpty(k.TrustedRoot),
				TUF:         tufSrc,
			})
		}
		if err := p.Validate(); err != nil {
			return nil, fmt.Errorf("image verification policy: images[%d] (%s): %w", i, im.Glob, err)
		}
		cp.globs = append(cp.globs, im.Glob)
		cp.policies = append(cp.policies, p)
	}
	return cp, nil
}

// PolicyFor returns the policy of the first glob matching ref. Its signature
// fits Verifier.VerifyAll.
func (cp *CompiledPolicy) PolicyFor(ref string) (Policy, bool) {
	i, ok := MatchPolicy(cp.globs, ref)
	if !ok {
		return Policy{}, false
	}
	return cp.policies[i], true
}

// Severity levels returned by SeverityFor.
const (
	SeverityError   = "error"
	SeverityWarning = "warning"
)

// SeverityFor returns the severity of a failed result: unreachable images
// follow onUnreachable (fail: error, warn: warning); anything else is an error.
func (cp *CompiledPolicy) SeverityFor(r Result) string {
	if r.Kind == KindUnreachable && cp.OnUnreachable == OnUnreachableWarn {
		return SeverityWarning
	}
	return SeverityError
}
