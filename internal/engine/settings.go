package engine

// Settings are the typed parameters rules read (from the config file and
// flags). The zero value is valid.
type Settings struct {
	// KubernetesVersion is the target version ("1.34"); "" means the
	// newest the rules know.
	KubernetesVersion string
	// AllowedRegistries lists image registry prefixes that are allowed
	// (e.g. "ghcr.io/acme/"); empty disables the allow-list rule.
	AllowedRegistries []string
}
