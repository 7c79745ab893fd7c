package fix

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Apply applies edits to files on disk: grouped per file, one write per
// file (a temporary file renamed over the original, mode kept). root is
// the directory relative paths are resolved against ("" for the working
// directory). An edit whose Old no longer matches its line is refused
// with an error naming it, the file's other edits still applied. Several
// findings often share one edit (overlays of one base, host-pid and
// host-pid-ptrace on one hostPID line): it is applied and returned once.
// applied lists what changed, in file and line order.
func Apply(edits []Edit, root string) (applied []Edit, err error) {
	byFile := map[string][]Edit{}
	var files []string
	for _, e := range edits {
		if _, ok := byFile[e.File]; !ok {
			files = append(files, e.File)
		}
		byFile[e.File] = append(byFile[e.File], e)
	}
	sort.Strings(files)
	var errs []error
	for _, file := range files {
		done, err := applyFile(file, root, byFile[file])
		applied = append(applied, done...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return applied, errors.Join(errs...)
}

func applyFile(file, root string, edits []Edit) ([]Edit, error) {
	path := file
	if root != "" && !filepath.IsAbs(path) {
		path = filepath.Join(root, filepath.FromSlash(file))
	}
	if !onDisk(file) {
		return nil, fmt.Errorf("%s: not a file on disk", file)
	}
	// Write through symlinks, not over them, and only into the tree
	// being fixed: a link in a checkout must not steer a write elsewhere.
	if p, err := filepath.EvalSymlinks(path); err == nil && p != filepath.Clean(path) {
		if !inside(root, p) {
			return nil, fmt.Errorf("%s: a symlink to %s, outside the directory being fixed; not writing there", file, p)
		}
		path = p
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("fixing %s: %w", file, err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("fixing %s: %w", file, err)
	}
	sort.SliceStable(edits, func(i, j int) bool { return edits[i].Line < edits[j].Line })
	lines := splitLines(src)
	var done []Edit
	var errs []error
	for len(edits) > 0 {
		n := 1
		for n < len(edits) && edits[n].Line == edits[0].Line {
			n++
		}
		same, ln := edits[:n], edits[0].Line
		edits = edits[n:]
		if ln < 1 || ln > len(lines) {
			errs = append(errs, fmt.Errorf("%s:%d: no such line", file, ln))
			continue
		}
		var fresh []Edit
		for _, e := range same {
			if e.Old != lines[ln-1].text {
				errs = append(errs, fmt.Errorf("%s:%d: line changed since it was linted, not fixing %s", file, ln, e.RuleID))
				continue
			}
			fresh = append(fresh, e)
		}
		if len(fresh) == 0 {
			continue
		}
		text, kept, err := Merge(fresh)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s:%d: %w", file, ln, err))
			continue
		}
		lines[ln-1].text = text
		done = append(done, kept...)
	}
	if len(done) > 0 {
		if err := writeFile(path, joinLines(lines), st.Mode().Perm()); err != nil {
			return nil, fmt.Errorf("fixing %s: %w", file, err)
		}
	}
	return done, errors.Join(errs...)
}

// Merge combines edits of one line (all with the same Old) into the line
// that makes every change: two findings in one flow mapping
// ({privileged: true, allowPrivilegeEscalation: true}) are fixed together.
// Identical edits count once; kept lists the distinct ones. Changes that
// overlap are an error.
func Merge(edits []Edit) (line string, kept []Edit, err error) {
	if len(edits) == 0 {
		return "", nil, nil
	}
	old := edits[0].Old
	type change struct {
		lo, hi int // the span of old replaced
		with   string
	}
	var changes []change
	seen := map[string]bool{}
	for _, e := range edits {
		if e.Old != old {
			return "", nil, fmt.Errorf("edits of %s and %s start from different lines", edits[0].RuleID, e.RuleID)
		}
		if seen[e.New] {
			continue
		}
		seen[e.New] = true
		kept = append(kept, e)
		p := 0
		for p < len(old) && p < len(e.New) && old[p] == e.New[p] {
			p++
		}
		s := 0
		for s < len(old)-p && s < len(e.New)-p && old[len(old)-1-s] == e.New[len(e.New)-1-s] {
			s++
		}
		changes = append(changes, change{p, len(old) - s, e.New[p : len(e.New)-s]})
	}
	sort.Slice(changes, func(i, j int) bool { return changes[i].lo > changes[j].lo })
	line = old
	for i, c := range changes {
		if i > 0 && c.hi > changes[i-1].lo {
			return "", nil, fmt.Errorf("the fixes of %s overlap", kept[0].RuleID)
		}
		line = line[:c.lo] + c.with + line[c.hi:]
	}
	return line, kept, nil
}

// writeFile replaces path with data through a temporary file in the same
// directory, so a failed write never leaves a half-written manifest.
func writeFile(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".fix-*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr, os.Chmod(name, perm)); err != nil {
		os.Remove(name)
		return err
	}
	if err := os.Rename(name, path); err != nil {
		os.Remove(name)
		return err
	}
	return nil
}

// inside reports whether path lies in dir ("" for the working directory),
// symlinks in dir resolved.
func inside(dir, path string) bool {
	if dir == "" {
		dir = "."
	}
	d, err := filepath.Abs(dir)
	if err != nil {
		return false
	}
	if r, err := filepath.EvalSymlinks(d); err == nil {
		d = r
	}
	rel, err := filepath.Rel(d, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}
