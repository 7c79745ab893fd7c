package kubelet_test

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/kubectl-secure/kubectl-secure/internal/kubelet"
)

// The /configz shape and a bare configuration give the same document,
// named after the node.
func TestFromConfigzShapes(t *testing.T) {
	wrapped, err := os.ReadFile("../../testdata/kubelet/configz-hardened.json")
	if err != nil {
		t.Fatal(err)
	}
	var top struct {
		Kubeletconfig json.RawMessage `json:"kubeletconfig"`
	}
	if err := json.Unmarshal(wrapped, &top); err != nil {
		t.Fatal(err)
	}
	a, err := kubelet.FromConfigz("node-1", wrapped)
	if err != nil {
		t.Fatal(err)
	}
	b, err := kubelet.FromConfigz("node-1", top.Kubeletconfig)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Errorf("wrapped and bare differ:\n%s\n%s", a, b)
	}
	var doc struct {
		APIVersion, Kind string
		Metadata         struct{ Name string }
		Authentication   struct{ Anonymous struct{ Enabled *bool } }
	}
	if err := json.Unmarshal(a, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.APIVersion != kubelet.APIVersion || doc.Kind != kubelet.Kind || doc.Metadata.Name != "node-1" || doc.Authentication.Anonymous.Enabled == nil {
		t.Errorf("document %s", a)
	}
}

func TestFromConfigzErrorsNameTheNode(t *testing.T) {
	for _, body := range []string{`not json`, `{"kubeletconfig": 3}`, `{"kubeletconfig": null}`} {
		if _, err := kubelet.FromConfigz("node-7", []byte(body)); err == nil || !strings.Contains(err.Error(), `"node-7"`) {
			t.Errorf("%s: error %v", body, err)
		}
	}
}
