package report

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-secure/kubectl-secure/internal/finding"
)

func TestWorkflowCommandEscaping(t *testing.T) {
	cases := []struct {
		name  string
		props []prop
		msg   string
		want  string
	}{
		{"plain", []prop{{"file", "a.yaml"}, {"line", "3"}}, "hello", "::error file=a.yaml,line=3::hello"},
		{"data escapes", nil, "100% sure\r\nnext: a,b", "::error::100%25 sure%0D%0Anext: a,b"},
		{"property escapes", []prop{{"file", "dir:x/a,b%.yaml"}, {"title", "KS1: a\nb"}}, "m",
			"::error file=dir%3Ax/a%2Cb%25.yaml,title=KS1%3A a%0Ab::m"},
		{"percent first", nil, "%0A is literal", "::error::%250A is literal"},
		{"unicode untouched", []prop{{"title", "ünï 🚀"}}, "✓ ü", "::error title=ünï 🚀::✓ ü"},
		{"double colon in message", nil, "a::b", "::error::a::b"},
	}
	for _, c := range cases {
		if got := workflowCommand("error", c.props, c.msg); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

// Every line of the github format is either a workflow command with no raw
// line break inside, or the final summary line.
func TestGitHubOneCommandPerLine(t *testing.T) {
	res := fixture()
	res.Findings = append(res.Findings, finding.Finding{
		RuleID: "KS001", Severity: finding.Critical, Message: "line1\nline2\r\nline3 %0A",
		Location: finding.Location{File: "x,y:z.yaml", Line: 1, Column: 2}, Remediation: "a\nb",
	})
	out := string(render(t, "github", res, Options{}))
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	cmdRE := regexp.MustCompile(`^::(error|warning|notice)( [a-zA-Z]+=[^:,\r\n]*(,[a-zA-Z]+=[^:,\r\n]*)*)?::[^\r\n]*$`)
	for _, l := range lines[:len(lines)-1] {
		if !cmdRE.MatchString(l) {
			t.Errorf("not a well-formed workflow command: %q", l)
		}
	}
	if !strings.HasPrefix(lines[len(lines)-1], "kubectl-secure: 7 findings") {
		t.Errorf("last line = %q, want the summary", lines[len(lines)-1])
	}
	if !strings.Contains(out, "::error file=x%2Cy%3Az.yaml,line=1,col=2,title=KS001 Privileged container (critical)::line1%0Aline2%0D%0Aline3 %250A") {
		t.Errorf("escaped finding not found in:\n%s", out)
	}
	for sev, level := range map[finding.Severity]string{finding.Critical: "error", finding.High: "error", finding.Medium: "warning", finding.Low: "notice"} {
		if got := AnnotationLevel(sev); got != level {
			t.Errorf("AnnotationLevel(%s) = %s, want %s", sev, got, level)
		}
	}
}

func TestMarkdownEscaping(t *testing.T) {
	if got, want := escapeCell("a | b\nc\r\nd <script>&amp; *x* _y_ `z`"), `a \| b<br>c<br>d \<script\>\&amp; \*x\* \_y\_ \`+"`z\\`"; got != want {
		t.Errorf("escapeCell = %q, want %q", got, want)
	}
	for in, want := range map[string]string{
		"a.yaml:3":  "`a.yaml:3`",
		"a|b.yaml":  "`a\\|b.yaml`",
		"a`b":       "``a`b``",
		"`a":        "`` `a ``",
		"x\ny":      "`x y`",
		"ünï 🚀.yml": "`ünï 🚀.yml`",
	} {
		if got := codeCell(in); got != want {
			t.Errorf("codeCell(%q) = %q, want %q", in, got, want)
		}
	}
	if got := fencedBlock("a: |\n  ```\n  x", "yaml"); !strings.HasPrefix(got, "````yaml\n") || !strings.HasSuffix(got, "\n````") {
		t.Errorf("fencedBlock did not lengthen the fence: %q", got)
	}
}

// Each table row of the markdown report must keep exactly the table's
// number of cells whatever the message contains.
func TestMarkdownTableRowsIntact(t *testing.T) {
	res := fixture()
	res.Findings = append(res.Findings, finding.Finding{
		RuleID: "KS|9", Severity: finding.Low, Message: "a|b|c\n| d |\r\ne",
		Location: finding.Location{File: "p|q.yaml", Line: 1}, Container: "c|d",
		Object: finding.ObjectRef{Kind: "Pod", Name: "x|y"},
	})
	out := string(render(t, "markdown", res, Options{MarkdownMaxRows: -1}))
	unescapedPipe := regexp.MustCompile(`(^|[^\\])\|`)
	rows := 0
	for _, l := range strings.Split(out, "\n") {
		if !strings.HasPrefix(l, "| ") || strings.HasPrefix(l, "| Severity | Rule") {
			continue
		}
		if n := len(unescapedPipe.FindAllString(l, -1)); n != 6 && n != 3 {
			t.Errorf("row has %d cell separators: %q", n, l)
		}
		if strings.Contains(l, "| 🔵 low | `KS\\|9`") {
			rows++
		}
	}
	if rows != 1 {
		t.Errorf("escaped row not found exactly once in:\n%s", out)
	}
}

func TestMarkdownCap(t *testing.T) {
	res := fixture()
	for i := 0; i < 60; i++ {
		res.Findings = append(res.Findings, finding.Finding{RuleID: "KS004", Severity: finding.Low, Message: "m",
			Location: finding.Location{File: "many.yaml", Line: i + 1, Column: 1}})
	}
	out := string(render(t, "markdown", res, Options{}))
	if got := strings.Count(out, "| 🔵 low |"); got != DefaultMarkdownMaxRows-5 {
		t.Errorf("low rows = %d, want %d (most severe first, capped at %d)", got, DefaultMarkdownMaxRows-5, DefaultMarkdownMaxRows)
	}
	if !strings.Contains(out, "\n…and 16 more.\n") {
		t.Errorf("missing or wrong overflow line in:\n%s", out)
	}
	if !strings.Contains(out, "| 🔵 Low | 61 |") {
		t.Error("summary table must count every finding, not only those shown")
	}
	if out := string(render(t, "markdown", res, Options{MarkdownMaxRows: -1})); strings.Contains(out, "more.") {
		t.Error("a negative MarkdownMaxRows must not cap the table")
	}
}

func TestMarkdownNoFindings(t *testing.T) {
	out := string(render(t, "markdown", clean(), Options{}))
	if !strings.Contains(out, "✅ **No findings**") || strings.Contains(out, "| Severity |") {
		t.Errorf("clean markdown report should say so and have no tables:\n%s", out)
	}
	res := clean()
	res.Summary.Errors = []finding.InputError{{File: "a.yaml", Message: "bad"}}
	out = string(render(t, "markdown", res, Options{}))
	if !strings.Contains(out, "### Input errors") || !strings.Contains(out, "| `a.yaml` | bad |") {
		t.Errorf("input errors missing from clean report:\n%s", out)
	}
}

func TestTextLinesStartWithPosition(t *testing.T) {
	out := string(render(t, "text", fixture(), Options{}))
	posRE := regexp.MustCompile(`^[^ ].*:\d+(:\d+)?: `)
	for _, l := range strings.Split(out, "\n") {
		if l == "" || strings.HasPrefix(l, "    ") || strings.HasPrefix(l, "6 findings") {
			continue
		}
		if !posRE.MatchString(l) {
			t.Errorf("line does not start with file:line[:col]: %q", l)
		}
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("colour codes without Options.Color")
	}
	colored := string(render(t, "text", fixture(), Options{Color: true}))
	if !strings.Contains(colored, "\x1b[1;") && !strings.Contains(colored, "\x1b[1m") {
		t.Error("no colour codes with Options.Color")
	}
	if stripped := regexp.MustCompile("\x1b\\[[0-9;]*m").ReplaceAllString(colored, ""); stripped != out {
		t.Errorf("coloured output differs from plain output beyond escape codes:\n%s\nvs\n%s", stripped, out)
	}
}

func TestTextSummaryLine(t *testing.T) {
	cases := []struct {
		res  *finding.Result
		want string
	}{
		{fixture(), "6 findings (1 critical, 2 high, 2 medium, 1 low) in 34 objects from 7 files, 2 skipped, 3 suppressed, 1 error — 0.21s"},
		{clean(), "no findings in 1 object from 1 file — 0.00s"},
		{&finding.Result{
			Findings: []finding.Finding{{RuleID: "A", Severity: finding.High, Location: finding.Location{File: "a", Line: 1, Column: 1}}},
			Summary:  finding.Summary{Files: 1, Objects: 2, Errors: make([]finding.InputError, 2), Elapsed: 3 * time.Second},
		}, "1 finding (1 high) in 2 objects from 1 file, 2 errors — 3.00s"},
	}
	for _, c := range cases {
		out := strings.TrimSuffix(string(render(t, "text", c.res, Options{})), "\n")
		lines := strings.Split(out, "\n")
		if got := lines[len(lines)-1]; got != c.want {
			t.Errorf("summary = %q, want %q", got, c.want)
		}
	}
}

func TestTextPositionFallbacks(t *testing.T) {
	res := &finding.Result{Findings: []finding.Finding{
		{RuleID: "A", Severity: finding.Low, Message: "cluster", Object: finding.ObjectRef{Kind: "Pod", Namespace: "ns", Name: "p"}},
		{RuleID: "B", Severity: finding.Low, Message: "file only", Location: finding.Location{File: "f.yaml"}},
		{RuleID: "C", Severity: finding.Low, Message: "no col", Location: finding.Location{File: "f.yaml", Line: 4}},
	}}
	out := string(render(t, "text", res, Options{}))
	for _, want := range []string{"Pod/ns/p: low      A cluster", "f.yaml: low      B file only", "f.yaml:4: low      C no col"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
}

// sarifDoc is just enough of SARIF to check what GitHub code scanning uses.
type sarifDoc struct {
	Runs []struct {
		Tool struct {
			Driver struct {
				Rules []struct {
					ID                   string
					Name                 string
					Help                 struct{ Text, Markdown string }
					HelpURI              string `json:"helpUri"`
					DefaultConfiguration struct{ Level string }
					Properties           struct {
						Tags             []string
						Precision        string
						SecuritySeverity string `json:"security-severity"`
					}
				}
			}
		}
		Invocations []struct {
			ExecutionSuccessful        bool
			ToolExecutionNotifications []struct{ Level string }
		}
		Results []struct {
			RuleID    string
			RuleIndex int
			Level     string
			Locations []struct {
				PhysicalLocation struct {
					ArtifactLocation struct {
						URI       string
						URIBaseID string `json:"uriBaseId"`
					}
					Region struct{ StartLine, StartColumn, EndLine, EndColumn int }
				}
				LogicalLocations []struct{ Name, FullyQualifiedName, Kind string }
			}
			PartialFingerprints map[string]string
			Properties          struct{ Severity, Object, Origin string }
		}
	}
}

func decodeSARIF(t *testing.T, res *finding.Result, opts Options) sarifDoc {
	t.Helper()
	var doc sarifDoc
	if err := json.Unmarshal(render(t, "sarif", res, opts), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Runs) != 1 {
		t.Fatalf("runs = %d, want 1", len(doc.Runs))
	}
	return doc
}

func TestSARIFContent(t *testing.T) {
	res := fixture()
	run := decodeSARIF(t, res, Options{SrcRoot: "/src"}).Runs[0]
	rules := run.Tool.Driver.Rules
	if len(rules) != len(res.Rules)+1 { // KS100 has no documentation
		t.Fatalf("rules = %d, want %d", len(rules), len(res.Rules)+1)
	}
	if rules[5].ID != "KS999" {
		t.Errorf("a documented rule without results must be listed, got %s", rules[5].ID)
	}
	r0 := rules[0]
	if r0.Name != "PrivilegedContainer" || r0.DefaultConfiguration.Level != "error" || r0.Properties.Precision != "high" ||
		r0.Properties.SecuritySeverity != "9.5" || r0.Properties.Tags[0] != "security" ||
		r0.HelpURI != "https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline" {
		t.Errorf("rule 0 = %+v", r0)
	}
	if !strings.Contains(r0.Help.Markdown, "```yaml\nsecurityContext:\n  privileged: false\n```") ||
		!strings.Contains(r0.Help.Markdown, "\n- <https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline>\n") || !strings.Contains(r0.Help.Text, "Remediation: ") {
		t.Errorf("rule 0 help = %+v", r0.Help)
	}
	if len(run.Results) != len(res.Findings) {
		t.Fatalf("results = %d, want %d", len(run.Results), len(res.Findings))
	}
	for _, r := range run.Results {
		if rules[r.RuleIndex].ID != r.RuleID {
			t.Errorf("result %s has ruleIndex %d pointing at %s", r.RuleID, r.RuleIndex, rules[r.RuleIndex].ID)
		}
		pl := r.Locations[0].PhysicalLocation
		if pl.ArtifactLocation.URIBaseID != "%SRCROOT%" {
			t.Errorf("%s: uriBaseId = %q", r.RuleID, pl.ArtifactLocation.URIBaseID)
		}
		reg := pl.Region
		if reg.StartLine < 1 || reg.StartColumn < 1 || reg.EndLine < reg.StartLine ||
			(reg.EndLine == reg.StartLine && reg.EndColumn <= reg.StartColumn) {
			t.Errorf("%s: empty or inverted region %+v", r.RuleID, reg)
		}
		if r.Properties.Severity == "" || r.Properties.Object == "" || len(r.Locations[0].LogicalLocations) == 0 {
			t.Errorf("%s: properties/logical locations missing: %+v", r.RuleID, r)
		}
	}
	first := run.Results[0] // KS004 at deploy/web.yaml:20:11, no end
	if first.Level != "note" || first.Locations[0].PhysicalLocation.Region != (struct{ StartLine, StartColumn, EndLine, EndColumn int }{20, 11, 20, 12}) {
		t.Errorf("first result = %+v", first)
	}
	// The finding's own fingerprint with the file as the result names it.
	if fp := first.PartialFingerprints[FingerprintKey]; fp != sarifFingerprint(res.Findings[0].Fingerprint, "deploy/web.yaml") {
		t.Errorf("partialFingerprints = %v", first.PartialFingerprints)
	}
	if ll := first.Locations[0].LogicalLocations; len(ll) != 2 || ll[0].FullyQualifiedName != "Deployment/prod/web" || ll[1].Name != "app" {
		t.Errorf("logical locations = %+v", ll)
	}
	if u := run.Results[4].Locations[0].PhysicalLocation.ArtifactLocation.URI; u != "rbac/admin,%20role.yaml" {
		t.Errorf("uri = %q, want percent-encoded relative path", u)
	}
	inv := run.Invocations[0]
	if inv.ExecutionSuccessful || len(inv.ToolExecutionNotifications) != 1 || inv.ToolExecutionNotifications[0].Level != "error" {
		t.Errorf("invocation = %+v", inv)
	}
	if inv := decodeSARIF(t, clean(), Options{}).Runs[0].Invocations[0]; !inv.ExecutionSuccessful {
		t.Error("clean run must be executionSuccessful")
	}
}

func TestSARIFHelpers(t *testing.T) {
	for in, want := range map[string]string{
		"Privileged container":     "PrivilegedContainer",
		"hostPath volume":          "HostPathVolume",
		"run-as non_root (UID 0)!": "RunAsNonRootUID0",
		"":                         "",
	} {
		if got := pascalCase(in); got != want {
			t.Errorf("pascalCase(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"v1.2.3": "1.2.3", "1.0.0-rc.1+g123": "1.0.0-rc.1+g123", "dev": "", "(devel)": "", "v1.2": ""} {
		if got := semanticVersion(in); got != want {
			t.Errorf("semanticVersion(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]sarifArtifactLoc{
		"a/b.yaml":           {URI: "a/b.yaml", URIBaseID: "B"},
		"./a b/ü.yaml":       {URI: "a%20b/%C3%BC.yaml", URIBaseID: "B"},
		"x:y.yaml":           {URI: "x%3Ay.yaml", URIBaseID: "B"},
		"a#1?.yaml":          {URI: "a%231%3F.yaml", URIBaseID: "B"},
		"/abs/p 1.yaml":      {URI: "file:///abs/p%201.yaml"},
		"C:/src/a.yaml":      {URI: "file:///C:/src/a.yaml"},
		`dir\win\file.yaml`:  {URI: "dir/win/file.yaml", URIBaseID: "B"},
		"100%/pct.yaml":      {URI: "100%25/pct.yaml", URIBaseID: "B"},
		"k8s/[prod]/a.yaml":  {URI: "k8s/%5Bprod%5D/a.yaml", URIBaseID: "B"},
		"charts/a+b(c).yaml": {URI: "charts/a+b(c).yaml", URIBaseID: "B"},
	} {
		if got := artifactLocation(in, "B"); got != want {
			t.Errorf("artifactLocation(%q) = %+v, want %+v", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"/home/runner/work/app":  "file:///home/runner/work/app/",
		"/home/runner/work/app/": "file:///home/runner/work/app/",
		"C:/a b":                 "file:///C:/a%20b/",
		"file:///C:/src":         "file:///C:/src/",
	} {
		if got, err := srcRootURI(in); err != nil || got != want {
			t.Errorf("srcRootURI(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, c := range []struct {
		in   finding.Location
		want *sarifRegion
	}{
		{finding.Location{File: "f"}, nil},
		{finding.Location{Line: 3}, &sarifRegion{3, 1, 3, 2}},
		{finding.Location{Line: 3, Column: 5}, &sarifRegion{3, 5, 3, 6}},
		{finding.Location{Line: 3, Column: 5, EndColumn: 9}, &sarifRegion{3, 5, 3, 9}},
		{finding.Location{Line: 3, Column: 5, EndLine: 3, EndColumn: 5}, &sarifRegion{3, 5, 3, 6}},
		{finding.Location{Line: 3, Column: 5, EndLine: 2, EndColumn: 1}, &sarifRegion{3, 5, 3, 6}},
		{finding.Location{Line: 3, Column: 5, EndLine: 6}, &sarifRegion{3, 5, 6, 0}},
		{finding.Location{Line: 3, Column: 5, EndLine: 6, EndColumn: 2}, &sarifRegion{3, 5, 6, 2}},
	} {
		got := regionFor(c.in)
		if (got == nil) != (c.want == nil) || (got != nil && *got != *c.want) {
			t.Errorf("regionFor(%+v) = %+v, want %+v", c.in, got, c.want)
		}
	}
}

func TestJSONRoundTrip(t *testing.T) {
	res := fixture()
	var doc struct {
		SchemaVersion string
		Summary       struct {
			BySeverity     map[string]int
			FailOn         *finding.Severity
			ElapsedSeconds float64
			Errors         []finding.InputError
		}
		Findings []finding.Finding
	}
	if err := json.Unmarshal(render(t, "json", res, Options{}), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.SchemaVersion != JSONSchemaVersion || doc.Summary.ElapsedSeconds != 0.21 || doc.Summary.FailOn == nil || *doc.Summary.FailOn != finding.High {
		t.Errorf("summary = %+v", doc.Summary)
	}
	for k, v := range res.Summary.BySeverity {
		if doc.Summary.BySeverity[k] != v {
			t.Errorf("bySeverity[%s] = %d, want %d", k, doc.Summary.BySeverity[k], v)
		}
	}
	want := sortedFindings(res.Findings)
	if len(doc.Findings) != len(want) {
		t.Fatalf("findings = %d, want %d", len(doc.Findings), len(want))
	}
	for i := range want {
		if doc.Findings[i] != want[i] {
			t.Errorf("finding %d round-trips as %+v, want %+v", i, doc.Findings[i], want[i])
		}
	}
}

// Text taken from manifests must not be able to drive the terminal.
func TestControlCharactersNeutralised(t *testing.T) {
	res := &finding.Result{Findings: []finding.Finding{{
		RuleID: "KS001", Severity: finding.High, Message: "evil \x1b[2J\x1b]8;;http://x\x07 name\u009b",
		Location: finding.Location{File: "a\x1b.yaml", Line: 1, Column: 1},
		Object:   finding.ObjectRef{Kind: "Pod", Name: "p\x1b[31m"}, Remediation: "fix\x00it",
	}}}
	for _, format := range []string{"text", "github"} {
		out := string(render(t, format, res, Options{}))
		if strings.ContainsAny(out, "\x1b\x07\x00\u009b") {
			t.Errorf("%s output contains raw control characters: %q", format, out)
		}
		if !strings.Contains(out, `evil \x1b[2J\x1b]8;;http://x\x07 name\x9b`) {
			t.Errorf("%s output does not show the control characters escaped: %q", format, out)
		}
	}
}
