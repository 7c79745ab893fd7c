package report

import (
	"bytes"
	"encoding/json"
	"math/rand"
	"testing"

	"github.com/kubectl-secure/kubectl-secure/internal/finding"
)

// appendFinding must write exactly what encoding/json writes, for every
// combination of empty fields and for strings that need escaping.
func TestAppendFinding(t *testing.T) {
	strs := []string{"", "plain", `quo"te`, `back\slash`, "new\nline", "tab\t", "ünïcode ✓", "<b>&amp;</b>", "\u2028sep", "bad\xffutf8", "\x1bESC"}
	r := rand.New(rand.NewSource(1))
	pick := func() string { return strs[r.Intn(len(strs))] }
	for i := 0; i < 2000; i++ {
		f := finding.Finding{
			RuleID: pick(), Severity: finding.Severity(r.Intn(5)), Message: pick(),
			Location:  finding.Location{File: pick(), Line: r.Intn(3), Column: r.Intn(3), EndLine: r.Intn(3), EndColumn: r.Intn(3)},
			Object:    finding.ObjectRef{APIVersion: pick(), Kind: pick(), Namespace: pick(), Name: pick()},
			Container: pick(), Path: pick(), Remediation: pick(), Fingerprint: pick(), Origin: pick(),
		}
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		enc.SetIndent("    ", "  ")
		if err := enc.Encode(&f); err != nil {
			t.Fatal(err)
		}
		got := appendFinding(nil, &f, "    ")
		if w := bytes.TrimRight(want.Bytes(), "\n"); !bytes.Equal(got, w) {
			t.Fatalf("finding %+v:\ngot\n%s\nwant\n%s", f, got, w)
		}
	}
}

// FuzzJSONString: the hand-written escaper writes what encoding/json
// writes (HTML escaping off) for any string.
func FuzzJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", `a"b\c`, "\b\f\n\r\t\x00\x1f", "\u2028\u2029", "bad\xff\xfe", "é✓😀", "<&>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		if got, w := appendJSONString(nil, s), bytes.TrimRight(want.Bytes(), "\n"); !bytes.Equal(got, w) {
			t.Fatalf("%q: got %s, want %s", s, got, w)
		}
	})
}
