package manifest

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

const remotePod = `{"metadata":{"name":"web-1","namespace":"shop","labels":{"app":"web"},
 "managedFields":[{"manager":"kubectl","operation":"Update","fieldsV1":{"f:spec":{"f:containers":{}}}}],
 "annotations":{"note":"tab\there \u00e9 \"q\""}},
 "spec":{"hostNetwork":true,"containers":[{"name":"app","image":"nginx:1.27","ports":[{"containerPort":80}],
 "securityContext":{"privileged":true,"runAsUser":0},"resources":{"limits":{"cpu":0.5}}}]},
 "status":{"phase":"Running"}}`

// A tree built from server JSON decodes to what encoding/json decodes,
// minus managedFields, and carries no positions.
func TestFromJSONMatchesEncodingJSON(t *testing.T) {
	o, err := FromJSON([]byte(remotePod), RemoteOptions{APIVersion: "v1", Kind: "Pod"})
	if err != nil {
		t.Fatal(err)
	}
	if o.Kind != "Pod" || o.APIVersion != "v1" || o.Namespace != "shop" || o.Name != "web-1" || o.File != "" {
		t.Fatalf("identity: %+v", o)
	}
	if o.Annotations["note"] != "tab\there é \"q\"" {
		t.Errorf("escaped annotation: %q", o.Annotations["note"])
	}
	if o.Get(ParsePath("metadata.managedFields")) != nil {
		t.Errorf("managedFields was built")
	}
	var got, want map[string]any
	if err := DecodeInto(o.Node, &got); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(remotePod), &want); err != nil {
		t.Fatal(err)
	}
	delete(want["metadata"].(map[string]any), "managedFields")
	want["apiVersion"], want["kind"] = "v1", "Pod"
	if !reflect.DeepEqual(got, want) {
		t.Errorf("decoded\n%v\nwant\n%v", got, want)
	}
	if loc := o.Locate(ParsePath("spec.containers[0].securityContext.privileged")); loc.File != "" || loc.Line != 0 {
		t.Errorf("location %+v, want none", loc)
	}
}

func TestFromJSONListDropsAndPages(t *testing.T) {
	list := `{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"42","continue":"tok"},"items":[` +
		remotePod + `,` + strings.Replace(remotePod, "web-1", "web-2", 1) + `]}`
	l, err := FromJSONList([]byte(list), RemoteOptions{APIVersion: "v1", Kind: "Pod", Drop: []string{"status"}})
	if err != nil {
		t.Fatal(err)
	}
	if l.Continue != "tok" || l.ResourceVersion != "42" || len(l.Items) != 2 || l.Items[1].Name != "web-2" {
		t.Fatalf("list: %+v", l)
	}
	if l.Items[0].Get(ParsePath("status")) != nil || l.Items[0].Get(ParsePath("spec.hostNetwork")) == nil {
		t.Errorf("drop removed the wrong fields")
	}
}

func TestFromJSONRejectsBrokenInput(t *testing.T) {
	for _, in := range []string{``, `{`, `{"a":}`, `{"a":tru}`, `[1]`, `{"a":"\x01"}`, `{"metadata":{"managedFields":[}}`, strings.Repeat(`{"a":`, 200) + `1` + strings.Repeat(`}`, 200)} {
		if _, err := FromJSON([]byte(in), RemoteOptions{APIVersion: "v1", Kind: "Pod"}); err == nil {
			t.Errorf("%.40q: no error", in)
		}
	}
}
