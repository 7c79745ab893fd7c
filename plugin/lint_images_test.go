package plugin

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	ist "github.com/kubectl-secure/kubectl-secure/internal/imagesig/imagesigtest"
)

// lint --verify-images against a real in-process registry: findings land
// on the image: lines, each distinct image is verified once however many
// workloads use it, and a policy that matches nothing checks nothing.
func TestLintVerifyImages(t *testing.T) {
	reg := ist.NewRegistry(t)
	k := ist.NewKeyPair(t)
	signed := reg.PushImage(t, "team/app:v1")
	reg.SignLegacy(t, signed, k)
	reg.PushImage(t, "team/unsigned:v1")
	other := ist.NewKeyPair(t)
	wrong := reg.PushImage(t, "team/wrong:v1")
	reg.SignLegacy(t, wrong, other)

	pod := func(name, image string) string {
		return fmt.Sprintf("apiVersion: v1\nkind: Pod\nmetadata:\n  name: %s\nspec:\n  containers:\n    - name: c\n      image: %s\n", name, image)
	}
	docs := []string{
		pod("a", reg.Ref("team/app:v1")),
		pod("b", reg.Ref("team/unsigned:v1")),
		pod("c", reg.Ref("team/wrong:v1")),
		pod("d", reg.Ref("team/unsigned:v1")),
		pod("e", "docker.io/library/nginx:1.27"),
	}
	dir := writeFiles(t, map[string]string{
		"pods.yaml":  strings.Join(docs, "---\n"),
		"cosign.pub": string(k.PubPEM),
		".kubectl-secure.yaml": fmt.Sprintf(`imageVerification:
  images:
    - glob: "%s/team/**"
      authorities:
        - key: cosign.pub
`, reg.Host),
	})
	reg.ResetRequests()
	out, errOut, code := run(t, dir, "", nil, "lint", "--verify-images", "--enable", "privileged-container,image-signature", "-o", "json", "pods.yaml")
	if code != 1 {
		t.Fatalf("code %d, stderr %s\n%s", code, errOut, out)
	}
	var rep struct {
		Findings []struct {
			RuleID   string                     `json:"ruleId"`
			Message  string                     `json:"message"`
			Location struct{ Line, Column int } `json:"location"`
			Object   struct{ Name string }      `json:"object"`
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range rep.Findings {
		if f.RuleID != ImageSignatureRuleID {
			continue
		}
		got[f.Object.Name] = fmt.Sprintf("%d:%d %s", f.Location.Line, f.Location.Column, f.Message)
	}
	if len(got) != 3 {
		t.Fatalf("want findings for b, c, d; got %v", got)
	}
	for name, want := range map[string]string{"b": "(unsigned)", "c": "(wrong-signer)", "d": "(unsigned)"} {
		if !strings.Contains(got[name], want) {
			t.Errorf("%s: %q lacks %q", name, got[name], want)
		}
	}
	// Pod b starts at line 10 of the stream; its image: key is at line 17, column 7.
	if !strings.HasPrefix(got["b"], "17:7 ") {
		t.Errorf("b at %q, want 17:7", got["b"])
	}
	manifests := 0
	for _, r := range reg.Requests() {
		if strings.Contains(r, "/team/unsigned/manifests/v1") {
			manifests++
		}
	}
	if manifests != 1 {
		t.Errorf("the unsigned image was resolved %d times, want once:\n%s", manifests, strings.Join(reg.Requests(), "\n"))
	}

	// The rule can be disabled like any other.
	if out, _, code := run(t, dir, "", nil, "lint", "--verify-images", "--disable", "image-signature", "--enable", "privileged-container,image-signature", "pods.yaml"); code != 0 || strings.Contains(out, "image-signature") {
		t.Errorf("disabled image-signature: code %d\n%s", code, out)
	}

	// Without a policy, --verify-images is a usage error.
	bare := writeFiles(t, map[string]string{"pods.yaml": docs[0]})
	if _, errOut, code := run(t, bare, "", nil, "lint", "--no-config", "--verify-images", "pods.yaml"); code != 2 || !strings.Contains(errOut, "imageVerification") {
		t.Errorf("no policy: code %d %s", code, errOut)
	}
}
