package plugin

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ist "github.com/kubectl-secure/kubectl-secure/internal/imagesig/imagesigtest"
)

// verify-images in the Action: the config's policy, and the runner's
// Docker credentials (~/.docker/config.json, as docker/login-action
// writes them) for a private registry. The signed image verifies only
// if the credentials were used; the unsigned one is reported in the
// summary's image verification section and reviewed on its image: line.
func TestActionVerifyImagesWithDockerCredentials(t *testing.T) {
	reg := ist.NewRegistry(t, ist.WithBasicAuth("ci", "s3cret"))
	k := ist.NewKeyPair(t)
	signed := reg.PushImage(t, "team/app:v1")
	reg.SignLegacy(t, signed, k)
	reg.PushImage(t, "team/unsigned:v1")

	docker := t.TempDir()
	auth := base64.StdEncoding.EncodeToString([]byte("ci:s3cret"))
	os.WriteFile(filepath.Join(docker, "config.json"), []byte(fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, reg.Host, auth)), 0o600)
	t.Setenv("DOCKER_CONFIG", docker)

	dir := t.TempDir()
	git(t, dir, "init", "-q", "-b", "main")
	files := map[string]string{
		"cosign.pub":           string(k.PubPEM),
		".kubectl-secure.yaml": fmt.Sprintf("imageVerification:\n  images:\n    - glob: \"%s/team/**\"\n      authorities:\n        - key: cosign.pub\n", reg.Host),
	}
	for name, body := range files {
		os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644)
	}
	git(t, dir, "add", "-A")
	git(t, dir, "commit", "-q", "-m", "base")
	r := &prRepo{dir: dir, base: git(t, dir, "rev-parse", "HEAD")}
	pods := fmt.Sprintf("apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\nspec:\n  containers:\n    - name: c\n      image: %s\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: b\nspec:\n  containers:\n    - name: c\n      image: %s\n",
		reg.Ref("team/app:v1"), reg.Ref("team/unsigned:v1"))
	os.WriteFile(filepath.Join(dir, "pods.yaml"), []byte(pods), 0o644)
	r.commit(t, "pods")

	srv := newFake(t, r, "")
	run := runActionIn(t, r, workflowEnv(t, r, srv, map[string]string{"verify-images": "true", "fail-on": "none"}))
	if run.err != nil {
		t.Fatalf("%v\n%s", run.err, run.stderr.String())
	}
	noViolations(t, srv)
	i := strings.Index(run.summary, "### Image verification")
	if i < 0 {
		t.Fatalf("no image verification section:\n%s", run.summary)
	}
	section := run.summary[i:]
	if !strings.Contains(section, "team/unsigned:v1") || strings.Contains(section, "team/app:v1") {
		t.Errorf("image verification section (the signed image must verify with the Docker credentials):\n%s", section)
	}
	comments, _, _, _ := srv.Snapshot()
	line := strings.Count(pods[:strings.Index(pods, "team/unsigned:v1")], "\n") + 1
	var onImage bool
	for _, c := range commentSet(comments) {
		if c == fmt.Sprintf("pods.yaml:%d image-signature", line) {
			onImage = true
		}
	}
	if !onImage {
		t.Errorf("no image-signature comment on the unsigned image's line: %q", commentSet(comments))
	}
}
