package report

import (
	"os"
	"path/filepath"
	"strings"
)

// stdinName is how loading names standard input (manifest.StdinName).
const stdinName = "<stdin>"

// stdinArtifact is the artifact SARIF and annotations name for standard
// input: a plain relative name, never an escaped "<stdin>".
const stdinArtifact = "stdin"

// checkoutPath turns a finding's file into the path SARIF URIs and
// GitHub annotations use: relative to the working directory (the
// checkout, or %SRCROOT%), also for inputs outside it ("../x/a.yaml"),
// so results never carry a machine's absolute file:// path. Paths on
// another volume stay as they are. cwd is the working directory ("" when
// unknown).
func checkoutPath(file, cwd string) string {
	if file == stdinName {
		return stdinArtifact
	}
	if cwd == "" || !filepath.IsAbs(file) {
		return file
	}
	if rel, err := filepath.Rel(cwd, file); err == nil && !filepath.IsAbs(rel) {
		return filepath.ToSlash(rel)
	}
	return file
}

// workingDir is the directory report paths are made relative to.
func workingDir() string {
	wd, _ := os.Getwd()
	return strings.TrimSuffix(wd, string(filepath.Separator))
}
