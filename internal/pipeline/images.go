package pipeline

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/kubectl-secure/kubectl-secure/internal/engine"
	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/imagesig"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

// ImageSignatureRuleID is the rule under which --verify-images reports.
const ImageSignatureRuleID = "image-signature"

// ImageSignatureInfo documents --verify-images findings. The rule has no
// check in the engine: its findings come from the registries, at the edge,
// not from the pure engine.
var ImageSignatureInfo = finding.RuleInfo{
	ID:       ImageSignatureRuleID,
	Title:    "Image signature not verified",
	Severity: finding.High,
	Category: "supply-chain",
	Tags:     []string{"images", "supply-chain", "sigstore", "notation"},
	Rationale: "An image that is unsigned, signed by an unexpected identity, or whose signature does not cover its digest " +
		"may not be what your CI built: a compromised registry or a moved tag runs someone else's code.",
	Remediation: "Sign the image in CI (cosign sign, or notation sign) with the key, keyless identity or certificate that the " +
		"imageVerification policy in .kubectl-secure.yaml names, and deploy it by the digest that was signed.",
	Example: "imageVerification:\n  images:\n    - glob: \"ghcr.io/acme/**\"\n      authorities:\n        - keyless:\n" +
		"            identity: https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main\n" +
		"            issuer: https://token.actions.githubusercontent.com\n" +
		"        - notation:\n            trustStore: notation/truststore\n            trustPolicy: notation/trustpolicy.json\n",
	References: []string{"https://docs.sigstore.dev/cosign/verifying/verify/", "https://notaryproject.dev/docs/", "docs/verify.md"},
}

// VerifyOptions turn on image signature verification.
type VerifyOptions struct {
	// Timeout bounds each registry request.
	Timeout time.Duration
	// Concurrency is how many images are verified at once.
	Concurrency int
	// TUFMirror and TUFRoot replace the policy's tuf section (keyless
	// trust roots from a private or mirrored sigstore TUF repository);
	// TUFCache moves the TUF metadata cache.
	TUFMirror, TUFRoot, TUFCache string
}

// withTUF returns c with the options' TUF mirror and root replacing the
// corresponding fields of its tuf section.
func (opt *VerifyOptions) withTUF(c imagesig.PolicyConfig) (imagesig.PolicyConfig, error) {
	if opt.TUFMirror == "" && opt.TUFRoot == "" {
		return c, nil
	}
	t := imagesig.TUFConfig{}
	if c.TUF != nil {
		t = *c.TUF
	}
	if opt.TUFMirror != "" {
		t.Mirror = opt.TUFMirror
	}
	if opt.TUFRoot != "" {
		root, err := filepath.Abs(opt.TUFRoot)
		if err != nil {
			return c, fmt.Errorf("--tuf-root: %w", err)
		}
		t.Root = root
	}
	c.TUF = &t
	return c, nil
}

// CheckVerify tells whether the config has what image verification needs.
func (p *Policy) CheckVerify() error {
	if p.Config.ImageVerification == nil {
		return usagef("--verify-images needs an imageVerification policy in the config file (see docs/verify.md)")
	}
	return nil
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
	uses map[*manifest.Object][]imageUse
}

func (ic *imageCollector) visit(o *manifest.Object) {
	// A template with a bad field is decoded without it (the engine
	// reports the field): its images are verified all the same.
	w, _ := engine.DecodeWorkload(o)
	var uses []imageUse
	if w != nil {
		for _, c := range w.Containers {
			if c.Container.Image == "" {
				continue
			}
			p := c.Path.Key("image")
			uses = append(uses, imageUse{obj: o, ref: c.Container.Image, path: p, loc: o.Locate(p), container: c.Container.Name})
		}
	}
	ic.mu.Lock()
	ic.uses[o] = uses
	ic.mu.Unlock()
}

// of returns the image uses of objs, in their order. An object the source
// did not visit is read now; one it visited but did not return (a render
// abandoned on its time limit) is not in the run, and neither are its
// images.
func (ic *imageCollector) of(objs []*manifest.Object) []imageUse {
	var out []imageUse
	for _, o := range objs {
		if _, ok := ic.uses[o]; !ok {
			ic.visit(o)
		}
		out = append(out, ic.uses[o]...)
	}
	ic.uses = nil
	return out
}

// verifyImages verifies every distinct image and turns failures into
// findings on the image: lines.
func (p *Policy) verifyImages(ctx context.Context, opt *VerifyOptions, uses []imageUse) ([]engine.Raw, error) {
	iv, err := opt.withTUF(*p.Config.ImageVerification)
	if err != nil {
		return nil, err
	}
	pol, err := iv.Compile(p.configDir())
	if err != nil {
		return nil, fmt.Errorf("%s: imageVerification: %w", p.Config.Path, err)
	}
	v := imagesig.New(imagesig.WithTimeout(opt.Timeout), imagesig.WithConcurrency(opt.Concurrency), imagesig.WithPlainHTTPLoopback(true), imagesig.WithTUFCache(opt.TUFCache))
	refs := make([]string, 0, len(uses))
	for _, u := range uses {
		refs = append(refs, u.ref)
	}
	results := v.VerifyAll(ctx, refs, pol.PolicyFor)
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
		raw := engine.NewRaw(&ImageSignatureInfo, u.obj, u.path, u.loc, u.container,
			fmt.Sprintf("container %q image %s is not verified (%s): %s", u.container, u.ref, r.Kind, r.Reason))
		raw.Severity = sev
		raws = append(raws, raw)
	}
	return raws, nil
}
