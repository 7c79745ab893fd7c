package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/kubectl-secure/kubectl-secure/internal/finding"
)

const (
	sarifSchemaFile  = "sarif-schema-2.1.0.json"
	reportSchemaFile = "kubectl-secure-report.schema.json"
)

// compileSchema compiles testdata/schemas/name with format assertions on.
// The schema is added as a resource so that no network access is attempted.
func compileSchema(t *testing.T, name string) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "testdata", "schemas", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	url := "file:///schemas/" + name
	if err := c.AddResource(url, doc); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		t.Fatalf("compile %s: %v", name, err)
	}
	return sch
}

func validate(t *testing.T, sch *jsonschema.Schema, out []byte) error {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	return sch.Validate(inst)
}

// edgeCases are results that stress the printers: no file, no line, odd
// paths, absolute paths, an unknown rule, empty messages.
func edgeCases() map[string]*finding.Result {
	obj := finding.ObjectRef{APIVersion: "v1", Kind: "Pod", Namespace: "default", Name: "p"}
	return map[string]*finding.Result{
		"fixture": fixture(),
		"clean":   clean(),
		"empty":   {},
		"odd locations": {
			ToolVersion: "(devel)",
			Findings: []finding.Finding{
				{RuleID: "X1", Severity: finding.High, Message: "no file", Object: obj},
				{RuleID: "X1", Severity: finding.High, Message: "no line", Location: finding.Location{File: "a.yaml"}, Object: obj},
				{RuleID: "X2", Severity: finding.Low, Message: "", Location: finding.Location{File: "dir with space/ü:x#1?.yaml", Line: 3}},
				{RuleID: "X2", Severity: finding.Low, Message: "abs", Location: finding.Location{File: "/abs/path/p.yaml", Line: 1, Column: 1}},
				{RuleID: "X2", Severity: finding.Low, Message: "win", Location: finding.Location{File: "C:/src/p.yaml", Line: 1, Column: 1}},
				{RuleID: "X3", Severity: finding.Medium, Message: "end before start", Location: finding.Location{File: "b.yaml", Line: 5, Column: 9, EndLine: 4, EndColumn: 2}},
				{RuleID: "X3", Severity: finding.Medium, Message: "multi-line, no end col", Location: finding.Location{File: "b.yaml", Line: 5, Column: 9, EndLine: 8}},
			},
			Summary: finding.Summary{Errors: []finding.InputError{{File: "", Message: "stdin: unreadable"}, {File: "c.yaml", Message: ""}}},
		},
	}
}

func TestSARIFValidatesAgainstOfficialSchema(t *testing.T) {
	sch := compileSchema(t, sarifSchemaFile)
	for name, res := range edgeCases() {
		for _, opts := range []Options{{}, {SrcRoot: "/home/runner/work/app"}, {SrcRoot: "file:///C:/src"}} {
			out := render(t, "sarif", res, opts)
			if err := validate(t, sch, out); err != nil {
				t.Errorf("%s (SrcRoot %q): SARIF does not validate:\n%v", name, opts.SrcRoot, err)
			}
		}
	}
}

// The validator must be able to fail: a SARIF log with a broken region and a
// bad level is rejected.
func TestSARIFSchemaRejectsInvalid(t *testing.T) {
	sch := compileSchema(t, sarifSchemaFile)
	out := render(t, "sarif", fixture(), Options{})
	for _, tc := range []struct{ from, to string }{
		{`"startLine": 24`, `"startLine": 0`},
		{`"level": "error"`, `"level": "critical"`},
		{`"version": "2.1.0"`, `"version": "2.0.0"`},
	} {
		bad := bytes.Replace(out, []byte(tc.from), []byte(tc.to), 1)
		if bytes.Equal(bad, out) {
			t.Fatalf("%s not found in output", tc.from)
		}
		if err := validate(t, sch, bad); err == nil {
			t.Errorf("schema accepted SARIF with %s", tc.to)
		}
	}
}

func TestJSONValidatesAgainstSchema(t *testing.T) {
	sch := compileSchema(t, reportSchemaFile)
	for name, res := range edgeCases() {
		out := render(t, "json", res, Options{})
		if err := validate(t, sch, out); err != nil {
			t.Errorf("%s: JSON report does not validate:\n%v\n%s", name, err, out)
		}
	}
}

func TestJSONSchemaRejectsInvalid(t *testing.T) {
	sch := compileSchema(t, reportSchemaFile)
	out := render(t, "json", fixture(), Options{})
	for _, tc := range []struct{ from, to string }{
		{`"schemaVersion": "1"`, `"schemaVersion": "2"`},
		{`"severity": "low"`, `"severity": "unknown"`},
		{`"failOn": "high"`, `"failOn": "none"`},
		{`"ruleId": "KS004"`, `"rule": "KS004"`},
		{`"elapsedSeconds": 0.21`, `"elapsedSeconds": -1`},
	} {
		bad := bytes.Replace(out, []byte(tc.from), []byte(tc.to), 1)
		if bytes.Equal(bad, out) {
			t.Fatalf("%s not found in output", tc.from)
		}
		if err := validate(t, sch, bad); err == nil {
			t.Errorf("schema accepted report with %s", tc.to)
		}
	}
}

// The shipped SARIF schema must be the official one, unmodified.
func TestSARIFSchemaIsOfficialCopy(t *testing.T) {
	ours, err := os.ReadFile(filepath.Join("..", "..", "testdata", "schemas", sarifSchemaFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(ours), `"id": "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"`) {
		t.Fatal("testdata/schemas/sarif-schema-2.1.0.json is not the OASIS SARIF 2.1.0 errata01 schema")
	}
	shared := filepath.Join("..", "..", "..", "shared", "schemas", sarifSchemaFile)
	if theirs, err := os.ReadFile(shared); err == nil && !bytes.Equal(ours, theirs) {
		t.Errorf("testdata copy differs from %s", shared)
	}
}

// docs/json-schema.md must document every property the schema defines.
func TestJSONSchemaDocumented(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "schemas", reportSchemaFile))
	if err != nil {
		t.Fatal(err)
	}
	var schema map[string]any
	if err := json.Unmarshal(raw, &schema); err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "json-schema.md"))
	if err != nil {
		t.Fatal(err)
	}
	var walk func(v any)
	seen := 0
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if props, ok := v["properties"].(map[string]any); ok {
				for name := range props {
					seen++
					if !bytes.Contains(doc, []byte("`"+name+"`")) && !bytes.Contains(doc, []byte("."+name+"`")) {
						t.Errorf("docs/json-schema.md does not document %q", name)
					}
				}
			}
			for _, child := range v {
				walk(child)
			}
		case []any:
			for _, child := range v {
				walk(child)
			}
		}
	}
	walk(schema)
	if seen < 30 {
		t.Fatalf("found only %d properties in the schema", seen)
	}
}
