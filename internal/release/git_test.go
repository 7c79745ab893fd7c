package release

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// gitRepo is a throwaway repository whose commits have fixed times.
type gitRepo struct {
	t   *testing.T
	dir string
}

func newGitRepo(t *testing.T) *gitRepo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	r := &gitRepo{t: t, dir: t.TempDir()}
	r.git("init", "-q")
	return r
}

func (r *gitRepo) git(args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = r.dir
	cmd.Env = append(os.Environ(),
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com",
		"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// commit commits a change to file f at the given committer date.
func (r *gitRepo) commit(f, date string) string {
	r.t.Helper()
	if err := os.WriteFile(filepath.Join(r.dir, f), []byte(date), 0o644); err != nil {
		r.t.Fatal(err)
	}
	r.git("add", f)
	r.t.Setenv("GIT_COMMITTER_DATE", date)
	r.git("commit", "-q", "-m", "c")
	return r.git("rev-parse", "HEAD")
}

func (r *gitRepo) stamp() Stamp {
	r.t.Helper()
	s, err := FromGit(context.Background(), r.dir)
	if err != nil {
		r.t.Fatal(err)
	}
	if !IsSemver(s.Version) {
		r.t.Errorf("version %q is not what krew accepts", s.Version)
	}
	return s
}

func TestFromGit(t *testing.T) {
	r := newGitRepo(t)
	// Committed in UTC+2: the stamp is in UTC.
	c1 := r.commit("a", "2026-03-04T07:08:09+02:00")
	got := r.stamp()
	want := Stamp{Version: "v0.0.0-20260304050809-" + c1[:12], Commit: c1, Date: "2026-03-04T05:08:09Z"}
	if got != want {
		t.Errorf("untagged: got %+v\nwant %+v", got, want)
	}

	r.git("tag", "v1.2.3")
	if got := r.stamp(); got.Version != "v1.2.3" || got.Commit != c1 {
		t.Errorf("on a tag: got %+v", got)
	}

	c2 := r.commit("a", "2026-03-05T00:00:00Z")
	if got := r.stamp(); got.Version != "v1.2.3-1-g"+c2[:12] || got.Date != "2026-03-05T00:00:00Z" {
		t.Errorf("past a tag: got %+v", got)
	}

	if err := os.WriteFile(filepath.Join(r.dir, "a"), []byte("changed"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := r.stamp(); got.Version != "v1.2.3-1-g"+c2[:12]+"-dirty" {
		t.Errorf("uncommitted change: got %+v", got)
	}

	// Tags that are not versions are not release versions.
	r2 := newGitRepo(t)
	c := r2.commit("a", "2026-03-04T00:00:00Z")
	r2.git("tag", "nightly")
	if got := r2.stamp(); got.Version != "v0.0.0-20260304000000-"+c[:12] {
		t.Errorf("non-version tag: got %+v", got)
	}
	if err := os.WriteFile(filepath.Join(r2.dir, "a"), []byte("changed"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := r2.stamp(); got.Version != "v0.0.0-20260304000000-"+c[:12]+"-dirty" {
		t.Errorf("untagged with uncommitted change: got %+v", got)
	}
}
