package plugin

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/spf13/pflag"

	"github.com/kubectl-secure/kubectl-secure/internal/engine"
	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/imagesig"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

// ImageSignatureRuleID is the rule under which --verify-images reports.
const ImageSignatureRuleID = "image-signature"

// imageSignatureRule documents --verify-images findings. It has no check of
// its own: the findings come from the registry, at the edge, not from the
// pure engine.
var imageSignatureInfo = finding.RuleInfo{
	ID:       ImageSignatureRuleID,
	Title:    "Image signature not verified",
	Severity: finding.High,
	Category: "supply-chain",
	Tags:     []string{"images", "supply-chain", "sigstore"},
	Rationale: "An image that is unsigned, signed by an unexpected identity, or whose signature does not cover its digest " +
		"may not be what your CI built: a compromised registry or a moved tag runs someone else's code.",
	Remediation: "Sign the image in CI (cosign sign) with the key or keyless identity that the imageVerification policy in " +
		".kubectl-secure.yaml names, and deploy it by the digest that was signed.",
	Example:    "imageVerification:\n  images:\n    - glob: \"ghcr.io/acme/**\"\n      authorities:\n        - keyless:\n            identity: https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main\n            issuer: https://token.actions.githubusercontent.com\n            trustedRoot: sigstore/trusted_root.json\n",
	References: []string{"https://docs.sigstore.dev/cosign/verifying/verify/", "docs/verify.md"},
}

// VerifyImagesFlags turn on signature verification during lint.
type VerifyImagesFlags struct {
	Enabled     bool
	Timeout     time.Duration
	Concurrency int
	// TUF overrides imageVerification.tuf; TUFCache moves the cache.
	TUFMirror string
	TUFRoot   string
	TUFCache  string
}

// AddFlags registers the flags.
func (f *VerifyImagesFlags) AddFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&f.Enabled, "verify-images", false, "verify the signatures of every image against the imageVerification policy of the config file (contacts the registries)")
	fs.DurationVar(&f.Timeout, "verify-timeout", 30*time.Second, "timeout of each registry request with --verify-images")
	fs.IntVar(&f.Concurrency, "verify-concurrency", 16, "images verified at once with --verify-images")
	AddTUFFlags(fs, &f.TUFMirror, &f.TUFRoot, &f.TUFCache)
}

// withTUF returns the policy with --tuf-mirror and --tuf-root replacing the
// corresponding fields of its tuf section.
func (f *VerifyImagesFlags) withTUF(c imagesig.PolicyConfig) (imagesig.PolicyConfig, error) {
	if f.TUFMirror == "" && f.TUFRoot == "" {
		return c, nil
	}
	t := imagesig.TUFConfig{}
	if c.TUF != nil {
		t = *c.TUF
	}
	if f.TUFMirror != "" {
		t.Mirror = f.TUFMirror
	}
	if f.TUFRoot != "" {
		root, err := filepath.Abs(f.TUFRoot)
		if err != nil {
			return c, fmt.Errorf("--tuf-root: %w", err)
		}
		t.Root = root
	}
	c.TUF = &t
	return c, nil
}

// imageUse is one image: line of a container.
type imageUse struct {
	obj       *manifest.Object
	ref       string
	path      manifest.Path
	loc       finding.Location
	container string
}

// imageCollector records image uses while objects stream through the
// engine (before their trees are slimmed).
type imageCollector struct {
	mu   sync.Mutex
	uses []imageUse
	seen map[*manifest.Object]bool
}

func (ic *imageCollector) visit(o *manifest.Object) {
	w, err := engine.DecodeWorkload(o)
	var uses []imageUse
	if err == nil && w != nil {
		for _, c := range w.Containers {
			if c.Container.Image == "" {
				continue
			}
			p := c.Path.Key("image")
			uses = append(uses, imageUse{obj: o, ref: c.Container.Image, path: p, loc: o.Locate(p), container: c.Container.Name})
		}
	}
	ic.mu.Lock()
	ic.uses = append(ic.uses, uses...)
	ic.seen[o] = true
	ic.mu.Unlock()
}

// verifyImages verifies every distinct image and turns failures into
// findings on the image: lines.
func (o *LintOptions) verifyImages(uses []imageUse) ([]engine.Raw, error) {
	iv, err := o.Verify.withTUF(*o.cfg.ImageVerification)
	if err != nil {
		return nil, err
	}
	pol, err := iv.Compile(filepath.Dir(o.cfg.Path))
	if err != nil {
		return nil, fmt.Errorf("%s: imageVerification: %w", o.cfg.Path, err)
	}
	v := imagesig.New(imagesig.WithTimeout(o.Verify.Timeout), imagesig.WithConcurrency(o.Verify.Concurrency), imagesig.WithPlainHTTPLoopback(true), imagesig.WithTUFCache(o.Verify.TUFCache))
	refs := make([]string, 0, len(uses))
	for _, u := range uses {
		refs = append(refs, u.ref)
	}
	results := v.VerifyAll(context.Background(), refs, pol.PolicyFor)
	var raws []engine.Raw
	for _, u := range uses {
		r, ok := results[u.ref]
		if !ok || r.Verified {
			continue
		}
		sev := finding.High
		if pol.SeverityFor(r) == imagesig.SeverityWarning {
			sev = finding.Low
		}
		raw := engine.NewRaw(&imageSignatureInfo, u.obj, u.path, u.loc, u.container,
			fmt.Sprintf("container %q image %s is not verified (%s): %s", u.container, u.ref, r.Kind, r.Reason))
		raw.Severity = sev
		raws = append(raws, raw)
	}
	return raws, nil
}
