package rules

import (
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-secure/kubectl-secure/internal/engine"
	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

const imagesRef = "https://kubernetes.io/docs/concepts/containers/images/"

// templated reports whether an image reference is filled in later (by
// kustomize, Helm, envsubst or the kubelet's $(VAR) expansion), or by a
// mutating webhook: "auto" is the value Istio's sidecar injection
// replaces (gateway deployments), not an image named auto:latest.
func templated(img string) bool {
	return strings.Contains(img, "$") || strings.Contains(img, "{{") || img == "auto"
}

// imageRule runs check on every container image.
func imageRule(ri finding.RuleInfo, check func(c *engine.Context, ct *engine.ContainerRef, img string)) *engine.Rule {
	return &engine.Rule{
		RuleInfo: ri,
		Check: func(c *engine.Context, o *manifest.Object) {
			w := c.Workload()
			if w == nil {
				return
			}
			for i := range w.Containers {
				ct := &w.Containers[i]
				img := strings.TrimSpace(ct.Container.Image)
				if img == "" || templated(img) {
					continue
				}
				check(c, ct, img)
			}
		},
	}
}

// mutableTag reports whether the reference floats: no digest and no tag or
// the latest tag.
func mutableTag(img string) (tag string, floats bool) {
	_, tag, digest := SplitImage(img)
	return tag, digest == "" && (tag == "" || tag == "latest")
}

func latestTag() *engine.Rule {
	return imageRule(finding.RuleInfo{
		ID: "image-latest-tag", Title: "Image without a tag or with :latest", Severity: finding.Medium, Category: "images",
		Tags:        []string{"supply-chain"},
		Rationale:   "An image without a tag, or tagged latest, changes under you: two nodes can run different code for the same pod spec, rollbacks do not roll back, and what was reviewed is not what runs.",
		Remediation: "Pin the image to a specific version tag, and better to a digest (image@sha256:…).",
		Example:     "image: ghcr.io/acme/app:1.4.2@sha256:3f1c…\n",
		References:  []string{imagesRef + "#image-names"},
	}, func(c *engine.Context, ct *engine.ContainerRef, img string) {
		tag, floats := mutableTag(img)
		switch {
		case !floats:
		case tag == "":
			c.Report(ct.Path.Key("image"), describe(ct)+" uses image "+strconv.Quote(img)+" without a tag (implicitly :latest)")
		default:
			c.Report(ct.Path.Key("image"), describe(ct)+" uses image "+strconv.Quote(img)+" with the mutable :latest tag")
		}
	})
}

func imageDigest() *engine.Rule {
	return imageRule(finding.RuleInfo{
		ID: "image-digest-missing", Title: "Image not pinned by digest", Severity: finding.Low, Category: "images",
		Tags:        []string{"supply-chain"},
		Rationale:   "Tags are mutable: whoever can push to the repository (or compromise it) can change what a tag points to, and the cluster silently runs the new image on the next pull. A digest names exactly the image that was built, scanned and signed.",
		Remediation: "Reference the image by digest, keeping the tag for readers: repo:tag@sha256:<digest>. Tools such as crane digest, Renovate or kustomize's images field keep digests current.",
		Example:     "image: ghcr.io/acme/app:1.4.2@sha256:3f1c4a…\n",
		References:  []string{imagesRef + "#image-names", "https://slsa.dev/spec/v1.0/threats"},
	}, func(c *engine.Context, ct *engine.ContainerRef, img string) {
		if _, floats := mutableTag(img); floats {
			return // image-latest-tag reports it
		}
		if _, _, digest := SplitImage(img); digest == "" {
			c.Report(ct.Path.Key("image"), describe(ct)+" uses image "+strconv.Quote(img)+", which is not pinned by digest")
		}
	})
}

func imagePullPolicy() *engine.Rule {
	return imageRule(finding.RuleInfo{
		ID: "image-pull-policy", Title: "Pull policy does not match the image tag", Severity: finding.Low, Category: "images",
		Tags:        []string{"supply-chain"},
		Rationale:   "With a floating tag (none or latest), IfNotPresent or Never runs whatever copy a node cached, so nodes drift apart; and any pod on a node can start a private image another tenant pulled there without presenting credentials. Never also bypasses registry authorization for pinned images.",
		Remediation: "Pin the image (version tag and digest) and leave imagePullPolicy unset or IfNotPresent; if the tag must float, use imagePullPolicy: Always.",
		Example:     "image: ghcr.io/acme/app:1.4.2@sha256:3f1c…\nimagePullPolicy: IfNotPresent\n",
		References:  []string{imagesRef + "#image-pull-policy"},
	}, func(c *engine.Context, ct *engine.ContainerRef, img string) {
		pol := ct.Container.ImagePullPolicy
		switch {
		case pol == corev1.PullNever:
			c.Reportf(ct.Path.Key("imagePullPolicy"), "%s uses imagePullPolicy: Never: the node's cached copy of %q runs without the registry checking access", describe(ct), img)
		case pol == corev1.PullIfNotPresent:
			if _, floats := mutableTag(img); floats {
				c.Reportf(ct.Path.Key("imagePullPolicy"), "%s pulls the floating image %q only if not present: nodes run whatever copy they cached", describe(ct), img)
			}
		}
	})
}

// normalizeImage returns the fully qualified form of an image reference
// ("nginx" → "docker.io/library/nginx").
func normalizeImage(img string) string {
	first, rest, ok := strings.Cut(img, "/")
	if !ok {
		return "docker.io/library/" + img
	}
	if strings.ContainsAny(first, ".:") || first == "localhost" {
		if first == "index.docker.io" {
			return "docker.io/" + rest
		}
		return img
	}
	return "docker.io/" + img
}

// registryAllowed reports whether img (raw or normalized) starts with one
// of the prefixes at a path boundary.
func registryAllowed(img string, prefixes []string) bool {
	norm := normalizeImage(img)
	for _, p := range prefixes {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		for _, cand := range []string{img, norm} {
			if !strings.HasPrefix(cand, p) {
				continue
			}
			if len(cand) == len(p) || strings.HasSuffix(p, "/") || strings.ContainsRune("/:@", rune(cand[len(p)])) {
				return true
			}
		}
	}
	return false
}

func imageRegistry() *engine.Rule {
	return imageRule(finding.RuleInfo{
		ID: "image-registry-not-allowed", Title: "Image from a registry outside the allow-list", Severity: finding.High, Category: "images",
		Tags:        []string{"supply-chain"},
		Rationale:   "Images from registries the organisation does not control or mirror escape its scanning, signing and retention policies, and a typo-squatted or hijacked public image runs with the workload's privileges. The rule runs only when images.allowedRegistries is configured.",
		Remediation: "Mirror the image into an allowed registry and reference it from there, or add the registry to images.allowedRegistries after review.",
		Example:     "image: ghcr.io/acme/app:1.4.2@sha256:3f1c…\n",
		References:  []string{imagesRef, "https://kubernetes.io/docs/concepts/security/security-checklist/#images"},
	}, func(c *engine.Context, ct *engine.ContainerRef, img string) {
		allowed := c.Settings().AllowedRegistries
		if len(allowed) == 0 || registryAllowed(img, allowed) {
			return
		}
		c.Reportf(ct.Path.Key("image"), "%s uses image %q, whose registry is not in the allow-list", describe(ct), img)
	})
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
