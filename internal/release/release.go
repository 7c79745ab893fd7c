// Package release builds what a release publishes: one archive per
// platform holding the kubectl-secure binary, LICENSE, README.md and the
// kubectl completion script; checksums.txt over the archives; and the krew
// plugin manifest filled in with their URLs and sha256 sums.
//
// Archives are reproducible: the same commit gives byte-identical files on
// any machine, because entries come in a fixed order with fixed owners,
// modes and mtimes (the commit time), and gzip headers carry no name or
// time. It is written in Go rather than with tar/zip flags so that it does
// not depend on which tar the machine has.
package release

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// Module is the Go module path; the build stamps version data into its
// plugin package.
const Module = "github.com/kubectl-secure/kubectl-secure"

// Name is the binary's name and the prefix of every archive.
const Name = "kubectl-secure"

// Platform is one GOOS/GOARCH pair a release is built for.
type Platform struct{ OS, Arch string }

func (p Platform) String() string { return p.OS + "/" + p.Arch }

// Platforms are the platforms a release ships, in the order they are built.
var Platforms = []Platform{
	{"linux", "amd64"}, {"linux", "arm64"},
	{"darwin", "amd64"}, {"darwin", "arm64"},
	{"windows", "amd64"},
}

// ParsePlatform parses "os/arch".
func ParsePlatform(s string) (Platform, error) {
	osName, arch, ok := strings.Cut(s, "/")
	if !ok || osName == "" || arch == "" || strings.Contains(arch, "/") {
		return Platform{}, fmt.Errorf("platform %q: want os/arch, e.g. linux/amd64", s)
	}
	return Platform{osName, arch}, nil
}

// Host is the platform this program runs on.
func Host() Platform { return Platform{runtime.GOOS, runtime.GOARCH} }

// ArchiveName is the file name of the archive for p:
// kubectl-secure_<version>_<os>_<arch>.tar.gz, or .zip for Windows.
func ArchiveName(version string, p Platform) string {
	ext := ".tar.gz"
	if p.OS == "windows" {
		ext = ".zip"
	}
	return fmt.Sprintf("%s_%s_%s_%s%s", Name, version, p.OS, p.Arch, ext)
}

// Options says what to build and where.
type Options struct {
	// Root is the module root: sources, LICENSE, README.md, the completion
	// scripts under hack/completion and the krew template krew/secure.yaml.
	Root string
	// Out is the directory the archives, checksums.txt and secure.yaml go to.
	Out string
	// Version (a v-prefixed semantic version), Commit and Date (RFC 3339,
	// UTC) are stamped into the binary; Date is also every entry's mtime.
	Version, Commit, Date string
	// Platforms to build; nil means all of Platforms. When only some are
	// built, the manifest lists only those.
	Platforms []Platform
	// Go is the go command; "" means "go".
	Go string
	// Log receives one line per step; nil discards them.
	Log func(format string, args ...any)
}

// Artifact is one archive written to Out.
type Artifact struct {
	Platform Platform
	Name     string // file name inside Out
	SHA256   string // lowercase hex
}

// Files inside every archive, in this order. The binary comes first.
const (
	licenseFile    = "LICENSE"
	readmeFile     = "README.md"
	completionFile = "kubectl_complete-secure"
	checksumsFile  = "checksums.txt"
	manifestFile   = "secure.yaml"
)

// ChecksumsFile is the name of the checksum list in Out.
const ChecksumsFile = checksumsFile

// ManifestFile is the name of the filled krew manifest in Out.
const ManifestFile = manifestFile

// Dist cross-builds the binary for each platform, packs the archives,
// and writes checksums.txt and the krew manifest into o.Out.
func Dist(ctx context.Context, o Options) ([]Artifact, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	platforms := o.Platforms
	if platforms == nil {
		platforms = Platforms
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return nil, err
	}
	build, err := os.MkdirTemp(o.Out, ".build-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(build)

	var arts []Artifact
	for _, p := range platforms {
		bin := filepath.Join(build, p.OS+"_"+p.Arch, binaryName(p))
		o.logf("building %s", p)
		if err := o.build(ctx, p, bin); err != nil {
			return nil, err
		}
		a, err := o.Pack(p, bin)
		if err != nil {
			return nil, err
		}
		arts = append(arts, a)
	}
	if err := o.WriteIndex(arts); err != nil {
		return nil, err
	}
	return arts, nil
}

// Pack writes the archive of platform p into o.Out around the binary bin.
func (o *Options) Pack(p Platform, bin string) (Artifact, error) {
	if err := o.check(); err != nil {
		return Artifact{}, err
	}
	mtime, _ := time.Parse(time.RFC3339, o.Date) // checked by o.check
	entries, err := o.entries(p, bin)
	if err != nil {
		return Artifact{}, err
	}
	name := ArchiveName(o.Version, p)
	o.logf("packing %s", name)
	var buf bytes.Buffer
	if p.OS == "windows" {
		err = WriteZip(&buf, entries, mtime)
	} else {
		err = WriteTarGz(&buf, entries, mtime)
	}
	if err != nil {
		return Artifact{}, fmt.Errorf("packing %s: %w", name, err)
	}
	if err := os.WriteFile(filepath.Join(o.Out, name), buf.Bytes(), 0o644); err != nil {
		return Artifact{}, err
	}
	sum := sha256.Sum256(buf.Bytes())
	return Artifact{Platform: p, Name: name, SHA256: hex.EncodeToString(sum[:])}, nil
}

// WriteIndex writes checksums.txt over arts and the krew manifest for
// them into o.Out. When arts do not cover every release platform, the
// manifest lists only theirs.
func (o *Options) WriteIndex(arts []Artifact) error {
	if err := os.WriteFile(filepath.Join(o.Out, checksumsFile), Checksums(arts), 0o644); err != nil {
		return err
	}
	tmpl, err := os.ReadFile(filepath.Join(o.Root, "krew", manifestFile))
	if err != nil {
		return fmt.Errorf("reading the krew template: %w", err)
	}
	built := map[Platform]bool{}
	for _, a := range arts {
		built[a.Platform] = true
	}
	partial := false
	for _, p := range Platforms {
		partial = partial || !built[p]
	}
	manifest, err := RenderKrew(tmpl, o.Version, arts, partial)
	if err != nil {
		return fmt.Errorf("krew/%s: %w", manifestFile, err)
	}
	return os.WriteFile(filepath.Join(o.Out, manifestFile), manifest, 0o644)
}

func (o *Options) check() error {
	var errs []error
	if !IsSemver(o.Version) {
		errs = append(errs, fmt.Errorf("version %q is not a v-prefixed semantic version (krew requires one)", o.Version))
	}
	if o.Commit == "" {
		errs = append(errs, errors.New("commit is empty"))
	}
	if t, err := time.Parse(time.RFC3339, o.Date); err != nil || t.Location() != time.UTC {
		errs = append(errs, fmt.Errorf("date %q: want RFC 3339 in UTC, e.g. 2026-01-02T15:04:05Z", o.Date))
	}
	if o.Root == "" || o.Out == "" {
		errs = append(errs, errors.New("root and out directories are required"))
	}
	return errors.Join(errs...)
}

func (o *Options) logf(format string, args ...any) {
	if o.Log != nil {
		o.Log(format, args...)
	}
}

func binaryName(p Platform) string {
	if p.OS == "windows" {
		return Name + ".exe"
	}
	return Name
}

// LDFlags are the linker flags of a release build: stripped, with the
// version data the `version` command prints.
func LDFlags(version, commit, date string) string {
	return fmt.Sprintf("-s -w -X %[1]s/plugin.version=%[2]s -X %[1]s/plugin.commit=%[3]s -X %[1]s/plugin.date=%[4]s", Module, version, commit, date)
}

// build compiles ./cmd/kubectl-secure for p: static (no cgo), with
// -trimpath so the binary does not depend on where it was built, and
// without Go's VCS stamp, which would change with untracked files in the
// checkout (the version data comes through LDFlags instead).
func (o *Options) build(ctx context.Context, p Platform, out string) error {
	goCmd := o.Go
	if goCmd == "" {
		goCmd = "go"
	}
	cmd := exec.CommandContext(ctx, goCmd, "build", "-trimpath", "-buildvcs=false", "-ldflags", LDFlags(o.Version, o.Commit, o.Date), "-o", out, "./cmd/"+Name)
	cmd.Dir = o.Root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+p.OS, "GOARCH="+p.Arch, "GOTOOLCHAIN=local")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build for %s: %w\n%s", p, err, b)
	}
	return nil
}

// entries lists what goes into p's archive, in archive order.
func (o *Options) entries(p Platform, bin string) ([]Entry, error) {
	completion := completionFile
	if p.OS == "windows" {
		// kubectl on Windows finds kubectl_complete-secure through PATHEXT.
		completion += ".cmd"
	}
	files := []struct {
		name, path string
		mode       os.FileMode
	}{
		{binaryName(p), bin, 0o755},
		{licenseFile, filepath.Join(o.Root, licenseFile), 0o644},
		{readmeFile, filepath.Join(o.Root, readmeFile), 0o644},
		{completion, filepath.Join(o.Root, "hack", "completion", completion), 0o755},
	}
	entries := make([]Entry, 0, len(files))
	for _, f := range files {
		b, err := os.ReadFile(f.path)
		if err != nil {
			return nil, err
		}
		entries = append(entries, Entry{Name: f.name, Mode: f.mode, Data: b})
	}
	return entries, nil
}

// Checksums is checksums.txt: "<sha256>  <name>" per archive, sorted by
// name, the format `sha256sum -c` reads.
func Checksums(arts []Artifact) []byte {
	sorted := slices.Clone(arts)
	slices.SortFunc(sorted, func(a, b Artifact) int { return strings.Compare(a.Name, b.Name) })
	var b bytes.Buffer
	for _, a := range sorted {
		fmt.Fprintf(&b, "%s  %s\n", a.SHA256, a.Name)
	}
	return b.Bytes()
}
