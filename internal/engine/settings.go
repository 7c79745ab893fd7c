package engine

import (
	"fmt"
	"strconv"
	"strings"
)

// Settings are the typed parameters rules read (from the config file and
// flags). The zero value is valid: every field has a documented default.
type Settings struct {
	// KubernetesVersion is the target version ("1.34", "v1.34" or
	// "1.34.2"); "" means the newest the rules know. It selects the Pod
	// Security Standards version and which removed APIs are reported.
	KubernetesVersion string
	// AllowedRegistries lists image registry prefixes that are allowed
	// (e.g. "ghcr.io/acme/"); empty disables the allow-list rule.
	AllowedRegistries []string
	// SensitiveHostPaths replaces the built-in list of host paths whose
	// mounting compromises the node (container runtime sockets, /, /etc,
	// /proc, /sys, /dev, /usr, /var/lib/kubelet, ...). Paths are cleaned
	// first (/etc/../etc, trailing slashes). An entry matches the path
	// itself and any ancestor of it (mounting /var exposes
	// /var/lib/kubelet); an entry ending in "/**" also matches everything
	// below it; an entry "**/NAME" matches a file of that name anywhere
	// (**/docker.sock). Nil means the built-in list.
	SensitiveHostPaths []string
	// DangerousCapabilities replaces the built-in list of Linux
	// capabilities reported at high severity when added (SYS_ADMIN,
	// NET_ADMIN, SYS_PTRACE, ...). Names are upper case, with or without
	// the CAP_ prefix. Nil means the built-in list.
	DangerousCapabilities []string
}

// Validate checks the settings that have a syntax.
func (s *Settings) Validate() error {
	if s.KubernetesVersion != "" {
		if _, _, ok := ParseKubernetesVersion(s.KubernetesVersion); !ok {
			return fmt.Errorf("kubernetes version %q: want MAJOR.MINOR, e.g. 1.34", s.KubernetesVersion)
		}
	}
	return nil
}

// ParseKubernetesVersion parses "1.34", "v1.34" or "1.34.2" (a patch or
// pre-release suffix is ignored) into major and minor.
func ParseKubernetesVersion(v string) (major, minor int, ok bool) {
	v = strings.TrimPrefix(strings.TrimSpace(v), "v")
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return 0, 0, false
	}
	if len(parts) == 3 {
		p := parts[2]
		if i := strings.IndexAny(p, "-+"); i >= 0 {
			p = p[:i]
		}
		if _, err := strconv.Atoi(p); err != nil {
			return 0, 0, false
		}
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil || major < 1 || minor < 0 || parts[1] != strconv.Itoa(minor) {
		return 0, 0, false
	}
	return major, minor, true
}
