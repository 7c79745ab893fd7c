package release

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// Stamp is the version data of a build, all taken from git so that
// building the same commit again gives the same bytes.
type Stamp struct {
	Version string // tag, `git describe` past a tag, or a v0.0.0 pseudo-version
	Commit  string // full commit hash
	Date    string // commit time, RFC 3339 in UTC
}

// FromGit reads the stamp of the checkout at root. The version is the
// v-prefixed tag on HEAD (v1.2.3); past a tag, `git describe`'s
// v1.2.3-4-gabcdef012345; without a tag, a Go-style pseudo-version
// v0.0.0-<commit time>-<hash>. Uncommitted changes add "-dirty". The
// date is the commit time, never the clock.
func FromGit(ctx context.Context, root string) (Stamp, error) {
	git := func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, "git", args...)
		cmd.Dir = root
		out, err := cmd.Output()
		if err != nil {
			if ee, ok := err.(*exec.ExitError); ok {
				return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(ee.Stderr)))
			}
			return "", fmt.Errorf("git %s: %w", strings.Join(args, " "), err)
		}
		return strings.TrimSpace(string(out)), nil
	}
	commit, err := git("rev-parse", "HEAD")
	if err != nil {
		return Stamp{}, err
	}
	epoch, err := git("log", "-1", "--format=%ct", "HEAD")
	if err != nil {
		return Stamp{}, err
	}
	var secs int64
	if _, err := fmt.Sscan(epoch, &secs); err != nil {
		return Stamp{}, fmt.Errorf("commit time %q: %w", epoch, err)
	}
	t := time.Unix(secs, 0).UTC()
	s := Stamp{Commit: commit, Date: t.Format(time.RFC3339)}
	if v, err := git("describe", "--tags", "--match", "v[0-9]*", "--abbrev=12", "--dirty"); err == nil && IsSemver(v) {
		s.Version = v
		return s, nil
	}
	s.Version = "v0.0.0-" + t.Format("20060102150405") + "-" + commit[:12]
	if status, err := git("status", "--porcelain", "--untracked-files=no"); err != nil {
		return Stamp{}, err
	} else if status != "" {
		s.Version += "-dirty"
	}
	return s, nil
}
