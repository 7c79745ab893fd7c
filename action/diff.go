package action

import (
	"fmt"
	"strconv"
	"strings"
)

// FileDiff is what a pull request changes in one file, on the head side.
type FileDiff struct {
	Path string
	// Added are the lines the pull request adds.
	Added map[int]bool
	// Right are the lines of the head shown in the diff (added and
	// context): where GitHub accepts a review comment with side RIGHT.
	Right map[int]bool
}

// Diff is the pull request's changed files, by path.
type Diff map[string]*FileDiff

// ParsePatch reads the hunks of a unified diff (the `patch` of a pull
// request file: hunks only, no file headers).
func ParsePatch(path, patch string) (*FileDiff, error) {
	fd := &FileDiff{Path: path, Added: map[int]bool{}, Right: map[int]bool{}}
	right, left := 0, 0 // lines still expected in the current hunk
	line := 0
	for n, l := range strings.Split(patch, "\n") {
		if strings.HasPrefix(l, "@@") && right == 0 && left == 0 {
			start, oldLen, newLen, err := parseHunkHeader(l)
			if err != nil {
				return fd, fmt.Errorf("%s: patch line %d: %w", path, n+1, err)
			}
			line, left, right = start, oldLen, newLen
			continue
		}
		if l == "" && right == 0 && left == 0 {
			continue
		}
		if strings.HasPrefix(l, `\`) { // "\ No newline at end of file"
			continue
		}
		switch {
		case strings.HasPrefix(l, "+") && right > 0:
			fd.Added[line], fd.Right[line] = true, true
			line++
			right--
		case strings.HasPrefix(l, "-") && left > 0:
			left--
		case (strings.HasPrefix(l, " ") || l == "") && right > 0 && left > 0:
			fd.Right[line] = true
			line++
			right--
			left--
		default:
			return fd, fmt.Errorf("%s: patch line %d: %q outside a hunk", path, n+1, l)
		}
	}
	return fd, nil
}

// parseHunkHeader reads "@@ -a[,b] +c[,d] @@ …".
func parseHunkHeader(h string) (newStart, oldLen, newLen int, err error) {
	f := strings.Fields(h)
	if len(f) < 4 || f[0] != "@@" || !strings.HasPrefix(f[1], "-") || !strings.HasPrefix(f[2], "+") || f[3] != "@@" {
		return 0, 0, 0, fmt.Errorf("bad hunk header %q", h)
	}
	_, oldLen, err = parseRange(f[1][1:])
	if err != nil {
		return 0, 0, 0, fmt.Errorf("bad hunk header %q: %w", h, err)
	}
	newStart, newLen, err = parseRange(f[2][1:])
	if err != nil {
		return 0, 0, 0, fmt.Errorf("bad hunk header %q: %w", h, err)
	}
	return newStart, oldLen, newLen, nil
}

func parseRange(s string) (start, length int, err error) {
	a, b, ok := strings.Cut(s, ",")
	if start, err = strconv.Atoi(a); err != nil {
		return 0, 0, err
	}
	length = 1
	if ok {
		if length, err = strconv.Atoi(b); err != nil {
			return 0, 0, err
		}
	}
	return start, length, nil
}

// Keep reports whether a finding at path:line is kept under mode.
func (d Diff) Keep(mode FilterMode, path string, line int) bool {
	if mode == FilterNone {
		return true
	}
	fd, ok := d[path]
	if !ok {
		return false
	}
	switch mode {
	case FilterAdded:
		return fd.Added[line]
	case FilterDiffContext:
		return fd.Right[line]
	default: // FilterFile
		return true
	}
}

// Commentable reports whether GitHub takes a review comment at path:line
// on the RIGHT side: the line must lie in a hunk.
func (d Diff) Commentable(path string, line int) bool {
	fd, ok := d[path]
	return ok && fd.Right[line]
}
