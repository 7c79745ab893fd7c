package render

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/format/gitignore"
)

// ExcludeRule is a gitignore-style pattern ("examples/", "**/profiles/*.yaml",
// "!keep.yaml") that keeps matching paths out of directory walks. Dir is
// the directory the pattern is relative to (the working directory for
// --exclude, the config file's directory for its exclude: list); "" means
// the working directory.
type ExcludeRule struct {
	Pattern string
	Dir     string
}

// walkFilter decides which paths a directory walk skips: the user's
// exclude rules, and (unless turned off) the .gitignore files of the
// repository, read the way git reads them — from the repository root down
// to each directory, deeper files taking precedence. Paths named
// explicitly on the command line are never filtered.
type walkFilter struct {
	// root is the directory .gitignore patterns are relative to: the git
	// work tree's top, else the walked directory.
	root    string
	ignores []gitignore.Pattern
	git     bool
	// user are the exclude rules, by base directory.
	user map[string][]gitignore.Pattern
}

// newWalkFilter prepares the filter for a walk of dir (absolute).
func newWalkFilter(dir string, rules []ExcludeRule, cwd string, useGitignore bool) *walkFilter {
	f := &walkFilter{root: dir, git: useGitignore, user: map[string][]gitignore.Pattern{}}
	for _, r := range rules {
		base := r.Dir
		if base == "" {
			base = cwd
		}
		p := strings.TrimSpace(r.Pattern)
		if p == "" || strings.HasPrefix(p, "#") {
			continue
		}
		f.user[base] = append(f.user[base], gitignore.ParsePattern(filepath.ToSlash(p), nil))
	}
	if !useGitignore {
		return f
	}
	if top := gitTop(dir); top != "" {
		f.root = top
		f.addFile(filepath.Join(top, ".git", "info", "exclude"), nil)
		// The .gitignore files above the walked directory apply too.
		rel, _ := filepath.Rel(top, dir)
		parts := splitPath(rel)
		for i := 0; i < len(parts); i++ {
			d := filepath.Join(append([]string{top}, parts[:i]...)...)
			f.addFile(filepath.Join(d, ".gitignore"), parts[:i])
		}
		// A directory named on the command line is linted even when it
		// is ignored itself (as ripgrep searches an ignored path it is
		// given): the patterns that ignore it would otherwise skip every
		// file below it. The .gitignore files inside it still apply.
		if len(parts) > 0 && match(f.ignores, parts, true) {
			f.ignores = nil
		}
	}
	return f
}

// enter reads the .gitignore of a directory the walk enters.
func (f *walkFilter) enter(dir string) {
	if !f.git {
		return
	}
	rel, err := filepath.Rel(f.root, dir)
	if err != nil || strings.HasPrefix(rel, "..") {
		return
	}
	f.addFile(filepath.Join(dir, ".gitignore"), splitPath(rel))
}

func (f *walkFilter) addFile(p string, domain []string) {
	data, err := os.ReadFile(p)
	if err != nil {
		return
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		f.ignores = append(f.ignores, gitignore.ParsePattern(line, domain))
	}
}

// skip reports whether the walk leaves out p (absolute).
func (f *walkFilter) skip(p string, isDir bool) bool {
	for base, ps := range f.user {
		rel, err := filepath.Rel(base, p)
		if err != nil {
			continue
		}
		if match(ps, splitPath(rel), isDir) {
			return true
		}
	}
	if f.git && len(f.ignores) > 0 {
		rel, err := filepath.Rel(f.root, p)
		if err == nil && !strings.HasPrefix(rel, "..") && match(f.ignores, splitPath(rel), isDir) {
			return true
		}
	}
	return false
}

// match applies patterns in increasing priority, like git: the last one
// that matches decides.
func match(ps []gitignore.Pattern, path []string, isDir bool) bool {
	for i := len(ps) - 1; i >= 0; i-- {
		if m := ps[i].Match(path, isDir); m != gitignore.NoMatch {
			return m == gitignore.Exclude
		}
	}
	return false
}

func splitPath(rel string) []string {
	rel = filepath.ToSlash(rel)
	if rel == "." || rel == "" {
		return nil
	}
	return strings.Split(rel, "/")
}

// gitTop returns the top of the git work tree holding dir, or "".
func gitTop(dir string) string {
	for d := dir; ; {
		if _, err := os.Lstat(filepath.Join(d, ".git")); err == nil {
			return d
		}
		parent := filepath.Dir(d)
		if parent == d {
			return ""
		}
		d = parent
	}
}
