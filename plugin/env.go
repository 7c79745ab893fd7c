package plugin

// Environment variables the CLI reads, all in one place.
const (
	// EnvNoColor disables colour when set and non-empty (no-color.org).
	EnvNoColor = "NO_COLOR"
	// EnvForceColor forces colour even when stdout is not a terminal.
	EnvForceColor = "FORCE_COLOR"
	// EnvConfig names a config file, like --config.
	EnvConfig = "KUBECTL_SECURE_CONFIG"
	// EnvGoMemLimit and EnvGoGC are the Go runtime's own settings: when
	// either is set, lint leaves memory management to it (see memlimit.go).
	EnvGoMemLimit = "GOMEMLIMIT"
	EnvGoGC       = "GOGC"
)
