package plugin

import (
	"time"

	"github.com/spf13/pflag"

	"github.com/kubectl-secure/kubectl-secure/internal/pipeline"
)

// ImageSignatureRuleID is the rule under which --verify-images reports.
const ImageSignatureRuleID = pipeline.ImageSignatureRuleID

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

// Options returns the pipeline's verification options, nil when off.
func (f *VerifyImagesFlags) Options() *pipeline.VerifyOptions {
	if !f.Enabled {
		return nil
	}
	return &pipeline.VerifyOptions{Timeout: f.Timeout, Concurrency: f.Concurrency, TUFMirror: f.TUFMirror, TUFRoot: f.TUFRoot, TUFCache: f.TUFCache}
}

// Validate checks the flags against the policy.
func (f *VerifyImagesFlags) Validate(p *pipeline.Policy) error {
	if f.Enabled {
		if err := p.CheckVerify(); err != nil {
			return runError(err)
		}
	}
	if f.Concurrency < 1 || f.Timeout <= 0 {
		return usageError("--verify-concurrency and --verify-timeout must be positive")
	}
	return nil
}
