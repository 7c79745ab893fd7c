package rules

import (
	"strings"

	"github.com/kubectl-secure/kubectl-secure/internal/engine"
	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

func latestTag() *engine.Rule {
	return &engine.Rule{
		RuleInfo: finding.RuleInfo{
			ID:          "image-latest-tag",
			Title:       "Image without a tag or with :latest",
			Severity:    finding.Medium,
			Category:    "images",
			Tags:        []string{"images", "supply-chain"},
			Rationale:   "An image without a tag, or tagged latest, changes under you: two nodes can run different code for the same pod spec, rollbacks do not roll back, and what was reviewed is not what runs.",
			Remediation: "Pin the image to a specific version tag, and better to a digest (image@sha256:…).",
			Example:     "image: ghcr.io/acme/app:1.4.2@sha256:3f1c…\n",
			References:  []string{"https://kubernetes.io/docs/concepts/containers/images/#image-names"},
		},
		Check: func(c *engine.Context, o *manifest.Object) {
			w := c.Workload()
			if w == nil {
				return
			}
			for _, ct := range w.Containers {
				img := ct.Container.Image
				if img == "" {
					continue
				}
				_, tag, digest := SplitImage(img)
				switch {
				case digest != "":
				case tag == "":
					c.Reportf(ct.Path.Key("image"), "%s uses image %q without a tag (implicitly :latest)", ct.Describe(), img)
				case tag == "latest":
					c.Reportf(ct.Path.Key("image"), "%s uses image %q with the mutable :latest tag", ct.Describe(), img)
				}
			}
		},
	}
}

// SplitImage splits an image reference into repository, tag and digest.
func SplitImage(ref string) (repo, tag, digest string) {
	if i := strings.IndexByte(ref, '@'); i >= 0 {
		ref, digest = ref[:i], ref[i+1:]
	}
	slash := strings.LastIndexByte(ref, '/')
	if i := strings.LastIndexByte(ref, ':'); i > slash {
		return ref[:i], ref[i+1:], digest
	}
	return ref, "", digest
}
