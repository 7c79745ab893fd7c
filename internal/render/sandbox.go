package render

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// errReadOnly is returned by every write to the sandbox file system.
var errReadOnly = errors.New("rendering is read-only")

// sandbox confines reads to a directory tree. Paths are checked after
// resolving symbolic links, so a link cannot lead out of it.
type sandbox struct {
	root string // absolute, symlinks resolved
}

func newSandbox(root string) (*sandbox, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		abs = r
	}
	return &sandbox{root: abs}, nil
}

// check returns an error when p (or what it links to) is outside root.
func (s *sandbox) check(p string) error {
	if s == nil {
		return nil
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return err
	}
	real := abs
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		real = r
	} else {
		// A path that does not exist yet: resolve its deepest existing
		// parent so that a link there is still followed.
		dir, rest := filepath.Dir(abs), filepath.Base(abs)
		for dir != filepath.Dir(dir) {
			if r, err := filepath.EvalSymlinks(dir); err == nil {
				real = filepath.Join(r, rest)
				break
			}
			rest = filepath.Join(filepath.Base(dir), rest)
			dir = filepath.Dir(dir)
		}
	}
	if !within(s.root, real) {
		return fmt.Errorf("%s is outside %s: rendering may not read it (reads are confined to the git work tree, else to the working directory or the directory named on the command line that holds the kustomization)", p, s.root)
	}
	return nil
}

// within reports whether p is root or below it.
func within(root, p string) bool {
	if p == root {
		return true
	}
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// sandboxRoot picks the directory a kustomization may read from: the
// enclosing git work tree, else the widest of roots (the working
// directory and the paths named on the command line) that holds dir, else
// dir itself. A repository linted from outside it (`lint ../repo`, an
// extracted archive without .git) may then read its bases across the
// tree, and never above what the user named.
func sandboxRoot(dir string, roots []string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return dir
	}
	for d := abs; ; d = filepath.Dir(d) {
		if _, err := os.Lstat(filepath.Join(d, ".git")); err == nil {
			return d
		}
		if d == filepath.Dir(d) {
			break
		}
	}
	// Compared as the sandbox checks reads: with links resolved (a
	// linked repository is not inside the working directory that holds
	// the link).
	best := abs
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		best = r
	}
	real := best
	for _, r := range roots {
		if within(r, real) && len(r) < len(best) {
			best = r
		}
	}
	return best
}

// sandboxRoots are the directories the user put in scope: the working
// directory and each argument (a file's directory), links resolved.
func sandboxRoots(args []string) []string {
	var roots []string
	if wd, err := os.Getwd(); err == nil {
		roots = append(roots, wd)
	}
	for _, a := range args {
		if a == "-" {
			continue
		}
		abs, err := filepath.Abs(a)
		if err != nil {
			continue
		}
		if st, err := os.Stat(abs); err == nil && !st.IsDir() {
			abs = filepath.Dir(abs)
		}
		roots = append(roots, abs)
	}
	for i, r := range roots {
		if real, err := filepath.EvalSymlinks(r); err == nil {
			roots[i] = real
		}
	}
	return roots
}

// sandboxFS is the file system krusty sees: the disk, read-only, confined
// to a sandbox, bounded in bytes read, cancellable, and with origin
// annotations switched on in the root kustomization.
type sandboxFS struct {
	disk     filesys.FileSystem
	box      *sandbox // nil: unrestricted (--allow-remote needs clones in temp dirs)
	ctx      context.Context
	rootKust string
	limit    int64
	read     atomic.Int64
	// denied keeps the first refusal: kustomize often hides read errors
	// behind "file not found".
	deniedMu sync.Mutex
	denied   error
}

func (f *sandboxFS) deny(err error) error {
	f.deniedMu.Lock()
	if f.denied == nil {
		f.denied = err
	}
	f.deniedMu.Unlock()
	return err
}

// refusal returns the first read the sandbox refused, or nil.
func (f *sandboxFS) refusal() error {
	f.deniedMu.Lock()
	defer f.deniedMu.Unlock()
	return f.denied
}

func (f *sandboxFS) ok(p string) error {
	if err := f.ctx.Err(); err != nil {
		return f.deny(err)
	}
	if err := f.box.check(p); err != nil {
		return f.deny(err)
	}
	return nil
}

func (f *sandboxFS) Create(string) (filesys.File, error) { return nil, errReadOnly }
func (f *sandboxFS) Mkdir(string) error                  { return errReadOnly }
func (f *sandboxFS) MkdirAll(string) error               { return errReadOnly }
func (f *sandboxFS) RemoveAll(string) error              { return errReadOnly }
func (f *sandboxFS) WriteFile(string, []byte) error      { return errReadOnly }

func (f *sandboxFS) Open(p string) (filesys.File, error) {
	if err := f.ok(p); err != nil {
		return nil, err
	}
	return f.disk.Open(p)
}

// probe is ok without recording a refusal, for existence checks.
func (f *sandboxFS) probe(p string) bool { return f.ctx.Err() == nil && f.box.check(p) == nil }

func (f *sandboxFS) IsDir(p string) bool { return f.probe(p) && f.disk.IsDir(p) }

func (f *sandboxFS) ReadDir(p string) ([]string, error) {
	if err := f.ok(p); err != nil {
		return nil, err
	}
	return f.disk.ReadDir(p)
}

func (f *sandboxFS) CleanedAbs(p string) (filesys.ConfirmedDir, string, error) {
	if err := f.ok(p); err != nil {
		return "", "", err
	}
	return f.disk.CleanedAbs(p)
}

func (f *sandboxFS) Exists(p string) bool { return f.probe(p) && f.disk.Exists(p) }

func (f *sandboxFS) Glob(pattern string) ([]string, error) {
	if err := f.ok(filepath.Dir(pattern)); err != nil {
		return nil, err
	}
	m, err := f.disk.Glob(pattern)
	out := m[:0]
	for _, p := range m {
		if f.probe(p) {
			out = append(out, p)
		}
	}
	return out, err
}

func (f *sandboxFS) ReadFile(p string) ([]byte, error) {
	if err := f.ok(p); err != nil {
		return nil, err
	}
	if st, err := os.Stat(p); err == nil && st.Size() > f.limit {
		return nil, f.deny(fmt.Errorf("%s is %d bytes, over the %d-byte limit", p, st.Size(), f.limit))
	}
	data, err := f.disk.ReadFile(p)
	if err != nil {
		return nil, err
	}
	if f.read.Add(int64(len(data))) > f.limit {
		return nil, f.deny(fmt.Errorf("kustomization reads more than the %d-byte limit", f.limit))
	}
	if abs, err := filepath.Abs(p); err == nil && abs == f.rootKust {
		return withOriginAnnotations(data)
	}
	return data, nil
}

func (f *sandboxFS) Walk(p string, fn filepath.WalkFunc) error {
	if err := f.ok(p); err != nil {
		return err
	}
	return f.disk.Walk(p, func(path string, info os.FileInfo, err error) error {
		if !f.probe(path) {
			if info != nil && info.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		return fn(path, info, err)
	})
}
