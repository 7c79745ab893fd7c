package manifest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestSplitDocumentsKeepsLines(t *testing.T) {
	src := "# lead comment\n---\na: 1\n--- # marker with comment\nb: |\n  ---not a marker, indented\n...\n%YAML 1.1\n---\nc: 3\n---\n"
	chunks := splitDocuments("f", []byte(src))
	var got []string
	for _, c := range chunks {
		got = append(got, fmt.Sprintf("%d@%d", c.doc, c.startLine))
	}
	if want := "0@2 1@4 2@8"; strings.Join(got, " ") != want {
		t.Fatalf("chunks = %v, want %s", got, want)
	}
	res := LoadBytes("f", []byte(src), Options{})
	if len(res.Errors) != 0 {
		t.Fatalf("errors: %v", res.Errors)
	}
	if len(res.Skipped) != 3 {
		t.Fatalf("skipped = %+v", res.Skipped)
	}
	if res.Skipped[2].Line != 10 {
		t.Errorf("third document at line %d, want 10", res.Skipped[2].Line)
	}
}

// Lines longer than the reader's buffer, CRLF markers and a final "..."
// without a newline are cut exactly as a whole-buffer line scan would.
func TestSplitStreamLongLinesAndMarkers(t *testing.T) {
	long := strings.Repeat("x", 200<<10)
	src := "a: " + long + "\n---\r\nb: 2\n" + "c: " + long + "\n...\n---\nd: 4\n..."
	var chunks []docChunk
	_ = splitStream("f", bufio.NewReaderSize(strings.NewReader(src), 64<<10), int64(len(src)), func(c docChunk) { chunks = append(chunks, c) })
	var got []string
	for _, c := range chunks {
		got = append(got, fmt.Sprintf("%d@%d:%d", c.doc, c.startLine, len(c.data)))
	}
	var sliced []string
	for _, c := range splitDocuments("f", []byte(src)) {
		sliced = append(sliced, fmt.Sprintf("%d@%d:%d", c.doc, c.startLine, len(c.data)))
	}
	if strings.Join(got, " ") != strings.Join(sliced, " ") {
		t.Fatalf("stream %v, buffer %v", got, sliced)
	}
	want := fmt.Sprintf("0@1:%d 1@2:%d 2@6:%d", len(long)+4, 5+5+3+len(long)+1+4, 4+5+3)
	if strings.Join(got, " ") != want {
		t.Fatalf("chunks = %v, want %s", got, want)
	}
	res := LoadBytes("f", []byte(src), Options{})
	if len(res.Errors) != 0 || len(res.Skipped) != 3 {
		t.Fatalf("errors %v, skipped %+v", res.Errors, res.Skipped)
	}
}

func TestLoadListsAndPositions(t *testing.T) {
	src := `apiVersion: v1
kind: ConfigMapList
items:
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: a, namespace: x, labels: {app: web}}
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: b
- not-an-object
`
	res := LoadBytes("l.yaml", []byte(src), Options{})
	if len(res.Objects) != 2 || res.Objects[0].Name != "a" || res.Objects[0].Namespace != "x" || res.Objects[1].Name != "b" {
		t.Fatalf("objects = %+v", res.Objects)
	}
	if res.Objects[0].Labels["app"] != "web" || res.Objects[1].Item != 1 {
		t.Errorf("labels/item wrong: %+v", res.Objects[0])
	}
	loc := res.Objects[1].Locate(ParsePath("metadata.name"))
	if loc.Line != 10 || loc.Column != 5 || loc.EndColumn != 12 {
		t.Errorf("metadata.name at %+v, want 10:5-12", loc)
	}
	// A missing field resolves to its nearest existing ancestor.
	loc = res.Objects[1].Locate(ParsePath("metadata.labels.app"))
	if loc.Line != 9 || loc.Column != 3 {
		t.Errorf("missing labels at %+v, want metadata key 9:3", loc)
	}
	if len(res.Skipped) != 1 || !strings.Contains(res.Skipped[0].Reason, "item 2") {
		t.Errorf("skipped = %+v", res.Skipped)
	}
}

func TestJSONInput(t *testing.T) {
	src := `{"apiVersion": "v1", "kind": "Pod",
 "metadata": {"name": "j"},
 "spec": {"containers": [{"name": "c", "image": "nginx"}]}}`
	res := LoadBytes("p.json", []byte(src), Options{})
	if len(res.Objects) != 1 || res.Objects[0].Name != "j" {
		t.Fatalf("objects = %+v errors = %v", res.Objects, res.Errors)
	}
	loc := res.Objects[0].Locate(ParsePath("spec.containers[0].image"))
	if loc.Line != 3 || loc.Column != 40 {
		t.Errorf("image at %+v, want 3:40", loc)
	}
}

func TestBadInputIsReportedAndRestContinues(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := "apiVersion: v1\nkind: Pod\nmetadata: {name: ok}\n"
	syntax := write("syntax.yaml", good+"---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: [x\n---\n"+good)
	bomb := write("bomb.yaml", `apiVersion: v1
kind: ConfigMap
metadata: {name: bomb}
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
`)
	deep := write("deep.yaml", "apiVersion: v1\nkind: ConfigMap\ndata: "+strings.Repeat("[", 500)+strings.Repeat("]", 500)+"\n")
	bin := write("bin.yaml", "apiVersion: v1\x00\x01\x02kind: Pod\n")
	big := write("big.yaml", good+strings.Repeat("# padding\n", 400))
	dup := write("dup.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  name: b\n")
	// A tool's JSON config with a key written twice is not a manifest: it
	// is skipped, not an error (traefik-helm-chart's .markdownlint.json).
	notK8s := write("lint.json", "{\n  \"MD029\": false,\n  \"MD013\": false,\n  \"MD029\": {\"style\": \"one\"}\n}\n")

	res := LoadFiles([]string{syntax, bomb, deep, bin, big, dup, notK8s, filepath.Join(dir, "missing.yaml")}, Options{MaxFileSize: 2000, BaseDir: dir})
	errs := map[string]string{}
	for _, e := range res.Errors {
		errs[e.File] += e.Error() + "\n"
	}
	if errs["lint.json"] != "" || len(res.Skipped) != 1 {
		t.Errorf("lint.json: errors %q, skipped %v", errs["lint.json"], res.Skipped)
	}
	for file, want := range map[string]string{
		"syntax.yaml":  "syntax.yaml:8: YAML syntax error",
		"bomb.yaml":    "bomb.yaml:10: document 1: YAML aliases expand to too many nodes (alias bomb?); not linted",
		"deep.yaml":    "nested deeper than 100 levels",
		"bin.yaml":     "binary file",
		"big.yaml":     "over the 2000-byte limit",
		"dup.yaml":     `dup.yaml:5: mapping key "name" already defined at line 4`,
		"missing.yaml": "no such file",
	} {
		if !strings.Contains(errs[file], want) {
			t.Errorf("%s: errors %q lack %q", file, errs[file], want)
		}
	}
	names := map[string]int{}
	for _, o := range res.Objects {
		names[o.File+"/"+o.Name]++
	}
	// Both good documents around the syntax error survive; the bomb is an
	// error, not an object.
	if names["syntax.yaml/ok"] != 2 || names["bomb.yaml/bomb"] != 0 || names["dup.yaml/b"] != 1 {
		t.Errorf("objects = %v", names)
	}
	for _, o := range res.Objects {
		if o.Name == "bomb" {
			if _, err := ToJSON(o.Node, 0); err != ErrAliasBudget {
				t.Errorf("bomb decode: %v, want ErrAliasBudget", err)
			}
		}
	}
}

func TestExpandPathsWalksDirectories(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"b/x.yaml", "a.yml", "c.json", "notes.txt", ".git/config.yaml", "b/.hidden/y.yaml"} {
		full := filepath.Join(dir, p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		os.WriteFile(full, []byte("{}"), 0o644)
	}
	files, errs := ExpandPaths([]string{dir, "-"})
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	var rel []string
	for _, f := range files {
		if f == "-" {
			rel = append(rel, f)
			continue
		}
		r, _ := filepath.Rel(dir, f)
		rel = append(rel, filepath.ToSlash(r))
	}
	if got, want := strings.Join(rel, " "), "a.yml b/x.yaml c.json -"; got != want {
		t.Errorf("files = %s, want %s", got, want)
	}
}

func TestStdin(t *testing.T) {
	res := LoadPaths([]string{"-"}, Options{Stdin: strings.NewReader("apiVersion: v1\nkind: Namespace\nmetadata: {name: s}\n")})
	if len(res.Objects) != 1 || res.Objects[0].File != StdinName {
		t.Fatalf("objects = %+v, errors = %v", res.Objects, res.Errors)
	}
}

func TestToJSONScalars(t *testing.T) {
	res := LoadBytes("s", []byte("apiVersion: v1\nkind: X\nm: &m {k: 1}\nv: {<<: *m, i: 0x10, o: 0o17, f: 1.5, b: yes, t: true, n: ~, s: '08', inf: .inf}\n"), Options{})
	js, err := ToJSON(res.Objects[0].Node, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"apiVersion":"v1","kind":"X","m":{"k":1},"v":{"i":16,"o":15,"f":1.5,"b":true,"t":true,"n":null,"s":"08","inf":".inf","k":1}}`
	if string(js) != want {
		t.Errorf("json =\n%s\nwant\n%s", js, want)
	}
}

// Scanning must never modify the input: CRLF files keep their line numbers.
func TestCRLFLines(t *testing.T) {
	src := "---\r\n# c\r\n---   \r\napiVersion: v1\r\nkind: Pod\r\nmetadata:\r\n  name: p\r\n"
	data := []byte(src)
	res := LoadBytes("crlf.yaml", data, Options{})
	if string(data) != src {
		t.Fatalf("input modified: %q", data)
	}
	if len(res.Objects) != 1 || len(res.Errors) != 0 {
		t.Fatalf("objects %d errors %v", len(res.Objects), res.Errors)
	}
	if loc := res.Objects[0].Locate(ParsePath("metadata.name")); loc.Line != 7 || loc.Column != 3 {
		t.Errorf("metadata.name at %v, want 7:3", loc)
	}
}

func TestYAML11BooleansAsKubernetesReadsThem(t *testing.T) {
	res := LoadBytes("b.yaml", []byte("apiVersion: v1\nkind: X\na: yes\nb: 'yes'\nc: !!str on\nd: Off\ne: yesterday\n"), Options{})
	js, err := ToJSON(res.Objects[0].Node, 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"apiVersion":"v1","kind":"X","a":true,"b":"yes","c":"on","d":false,"e":"yesterday"}`; string(js) != want {
		t.Errorf("json = %s, want %s", js, want)
	}
}

func TestTypedListsAndNestedLists(t *testing.T) {
	src := `apiVersion: v1
kind: PodList
items:
  - metadata: {name: implied}
    spec: {hostPID: true}
---
apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: List
    items:
      - apiVersion: v1
        kind: Pod
        metadata: {name: nested}
`
	res := LoadBytes("l.yaml", []byte(src), Options{})
	var got []string
	for _, o := range res.Objects {
		got = append(got, o.APIVersion+"/"+o.Kind+"/"+o.Name)
	}
	if strings.Join(got, " ") != "v1/Pod/implied v1/Pod/nested" {
		t.Errorf("objects = %v (skipped %+v)", got, res.Skipped)
	}
}

func TestSymlinkedFilesAreFollowed(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(t.TempDir(), "target.yaml")
	os.WriteFile(target, []byte("apiVersion: v1\nkind: Pod\nmetadata: {name: linked}\n"), 0o644)
	os.Symlink(target, filepath.Join(dir, "link.yaml"))
	os.Symlink(filepath.Join(dir, "nowhere.yaml"), filepath.Join(dir, "dangling.yaml"))
	os.Symlink(dir, filepath.Join(dir, "loop.yaml"))
	res := LoadPaths([]string{dir}, Options{})
	if len(res.Objects) != 1 || res.Objects[0].Name != "linked" {
		t.Errorf("objects = %+v", res.Objects)
	}
	if len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Message, "broken symbolic link") {
		t.Errorf("errors = %+v", res.Errors)
	}
}

// A symbolic link to a directory named on the command line is walked (as
// ls and find -H do); one met inside a walk is not.
func TestSymlinkedDirectoryArgumentIsWalked(t *testing.T) {
	target := t.TempDir()
	os.WriteFile(filepath.Join(target, "pod.yaml"), []byte("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"), 0o644)
	links := t.TempDir()
	link := filepath.Join(links, "repo")
	if err := os.Symlink(target, link); err != nil {
		t.Skip("no symlinks:", err)
	}
	for _, arg := range []string{link, link + "/"} {
		res := LoadPaths([]string{arg}, Options{})
		if len(res.Objects) != 1 || len(res.Errors) != 0 {
			t.Errorf("lint %s: objects %d errors %v", arg, len(res.Objects), res.Errors)
		} else if got := res.Objects[0].File; !strings.HasSuffix(got, filepath.Join(filepath.Base(links), "repo", "pod.yaml")) {
			// Shown through the link's name (relative to the working
			// directory where it can be), not the target's.
			t.Errorf("lint %s: file %s", arg, got)
		}
	}
	// Inside a walk, the same link is not followed.
	if res := LoadPaths([]string{links}, Options{}); len(res.Objects) != 0 {
		t.Errorf("followed a link inside the walk: %d objects", len(res.Objects))
	}
}

// An alias bomb is an error wherever it sits, also in fields no rule
// decodes (a ConfigMap's data); aliases within the budget are fine.
func TestAliasBombAnywhereIsAnError(t *testing.T) {
	bomb := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\ndata:\n  a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g"} {
		bomb += "  " + n + ": &" + n + " [" + strings.TrimSuffix(strings.Repeat("*"+prev+",", 10), ",") + "]\n"
		prev = n
	}
	res := LoadBytes("cm.yaml", []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n---\n"+bomb), Options{})
	if len(res.Objects) != 1 || res.Objects[0].Name != "ok" || len(res.Errors) != 1 || res.Errors[0].Line != 14 || !strings.Contains(res.Errors[0].Message, "alias bomb") {
		t.Fatalf("objects %d errors %v", len(res.Objects), res.Errors)
	}
	small := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: small}\ndata:\n  a: &a x\n  b: *a\n"
	if res := LoadBytes("s.yaml", []byte(small), Options{}); len(res.Objects) != 1 || len(res.Errors) != 0 {
		t.Fatalf("objects %d errors %v", len(res.Objects), res.Errors)
	}
}

// Syntax errors name the 1-based line of the construct yaml.v3 reports
// (an unclosed bracket's line), never past the document.
func TestYAMLSyntaxErrorLines(t *testing.T) {
	for src, want := range map[string]int{
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: [b\n  c: d\n": 6,
		"a: 1\n---\nb: [c\nd: e\n":                        3,
		"a: 1\nb:\n  - x\n - y\n":                         4, // the misindented item
		"a: 1\n---\nkey: \"unterminated\nz: 1\n":          3,
		"a: 1\n---\nx:\n\ty: 1\n":                         4,
		"apiVersion: v1\nkind: Pod\nmetadata: {name: [\n": 3,
	} {
		res := LoadBytes("f.yaml", []byte(src), Options{})
		if len(res.Errors) != 1 || res.Errors[0].Line != want {
			t.Errorf("%q: errors %v, want line %d", src, res.Errors, want)
		}
	}
}

// A field of the wrong type deep in a struct is named by its Kubernetes
// path (indices, no Go type names) and found at its own line.
func TestDecodeIntoFieldError(t *testing.T) {
	src := "containers:\n  - name: a\n    image: x\nvolumes:\n  - name: v\n    emptyDir: {}\n  - name: w\n    fc:\n      lun: \"x\"\n"
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	err := DecodeInto(doc.Content[0], &corev1.PodSpec{})
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Path.String() != "volumes[1].fc.lun" || fe.Line != 9 || FieldLine(doc.Content[0], err) != 9 {
		t.Fatalf("error %v (%+v)", err, fe)
	}
	if got := DecodeError(err); got != "field volumes[1].fc.lun: cannot use a string where an integer is expected" {
		t.Errorf("message %q", got)
	}
	if p, msg := fe.Under(ParsePath("spec")); p.String() != "spec.volumes[1].fc.lun" || msg != "field spec.volumes[1].fc.lun: cannot use a string where an integer is expected" {
		t.Errorf("under spec: %s %q", p, msg)
	}
	// A map value of the wrong type: the key inside the map.
	var meta yaml.Node
	if err := yaml.Unmarshal([]byte("name: a\nlabels:\n  ok: x\n  bad: [1]\n"), &meta); err != nil {
		t.Fatal(err)
	}
	err = DecodeInto(meta.Content[0], &metav1.ObjectMeta{})
	if !errors.As(err, &fe) || fe.Path.String() != "labels.bad" || fe.Line != 4 {
		t.Fatalf("error %v", err)
	}
}

// Paths beside the working directory are shown relative to it, like the
// "../other" argument that named them; unrelated absolute paths stay.
func TestDisplayPathOutsideBase(t *testing.T) {
	for _, c := range [][3]string{
		{"/work/repo/sub", "/work/repo/other/x.yaml", "../other/x.yaml"},
		{"/work/repo", "/work/repo/a/b.yaml", "a/b.yaml"},
		{"/home/u/repo", "/etc/x.yaml", "/etc/x.yaml"},
	} {
		if got := DisplayPath(c[1], c[0]); got != c[2] {
			t.Errorf("DisplayPath(%s, %s) = %s, want %s", c[1], c[0], got, c[2])
		}
	}
}

// Type errors name YAML shapes, never Go types ([]v1.Container).
func TestDecodeErrorNamesYAMLShapes(t *testing.T) {
	for src, want := range map[string]string{
		"containers: {a: 1}\n": "field containers: cannot use a mapping where a list is expected",
		"containers: [{name: a, ports: [{containerPort: 1, protocol: 7}]}]\n": "field containers[0].ports[0].protocol: cannot use a number where a string is expected",
		"containers: [5]\n":      "field containers[0]: cannot use a number where a mapping is expected",
		"securityContext: [1]\n": "field securityContext: cannot use an array where a mapping is expected",
		"nodeSelector: [1]\n":    "field nodeSelector: cannot use an array where a mapping is expected",
		"containers: [{name: a, ports: [{containerPort: 1, name: {}}]}]\n": "field containers[0].ports[0].name: cannot use a mapping where a string is expected",
	} {
		var doc yaml.Node
		if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
			t.Fatal(err)
		}
		err := DecodeInto(doc.Content[0], &corev1.PodSpec{})
		if got := DecodeError(err); got != want {
			t.Errorf("%q: %q, want %q", src, got, want)
		}
	}
	// A value that is not a quantity is named with its line.
	var q yaml.Node
	if err := yaml.Unmarshal([]byte("containers:\n  - name: a\n    resources:\n      limits:\n        memory: 1Gi\n        cpu: abc\n"), &q); err != nil {
		t.Fatal(err)
	}
	err := DecodeInto(q.Content[0], &corev1.PodSpec{})
	if got := DecodeError(err); got != "field containers[0].resources.limits.cpu: not a quantity (e.g. 500m, 1.5, 64Mi, 2Gi)" || FieldLine(q.Content[0], err) != 6 {
		t.Errorf("quantity: %q at line %d", got, FieldLine(q.Content[0], err))
	}
	// A list where a mapping belongs is found at its key's line.
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte("hostNetwork: true\nsecurityContext:\n  - 1\n"), &doc); err != nil {
		t.Fatal(err)
	}
	if line := FieldLine(doc.Content[0], DecodeInto(doc.Content[0], &corev1.PodSpec{})); line != 2 {
		t.Errorf("line %d, want 2", line)
	}
}

// SourceDocuments, parsed, gives the trees yaml.v3's decoder gives for a
// stream, lines and columns included, with the identity of each mapping,
// on every file of the real-world corpus and on streams with empty, null,
// aliased and broken documents.
func TestSourceDocumentsMatchYAMLDecoder(t *testing.T) {
	var inputs [][]byte
	files, _ := ExpandPaths([]string{filepath.Join("..", "..", "testdata", "corpus", "real")})
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, b)
	}
	if len(inputs) < 50 {
		t.Fatalf("only %d corpus files", len(inputs))
	}
	inputs = append(inputs,
		[]byte("---\n---\nnull\n---\na: &x {b: 1}\nc: *x\n---\n# only a comment\n---\nk: v\n"),
		[]byte("a: 1\n---\nb: [unclosed\n---\nc: 3\n"),
	)
	for i, in := range inputs {
		var want []*yaml.Node
		dec := yaml.NewDecoder(bytes.NewReader(in))
		for {
			var n yaml.Node
			if err := dec.Decode(&n); err != nil {
				break
			}
			if r := Resolve(&n); r != nil && !(r.Kind == yaml.ScalarNode && r.Tag == "!!null") {
				want = append(want, r)
			}
		}
		docs := SourceDocuments(in)
		if i == len(inputs)-1 {
			// yaml.v3's decoder stops at the broken document;
			// SourceDocuments skips it and goes on.
			if len(docs) != 2 || docs[1].Parse().Line != 5 {
				t.Errorf("broken stream: %d documents", len(docs))
			}
			continue
		}
		if len(docs) != len(want) {
			t.Fatalf("input %d: %d documents, decoder %d", i, len(docs), len(want))
		}
		for j := range docs {
			got := docs[j].Parse()
			if err := sameTree(want[j], got, fmt.Sprintf("input %d doc %d", i, j)); err != nil {
				t.Fatal(err)
			}
			_, md := MapGet(want[j], "metadata")
			if want[j].Kind == yaml.MappingNode && (docs[j].Kind != ScalarString(want[j], "kind") || docs[j].APIVersion != ScalarString(want[j], "apiVersion") || docs[j].Name != ScalarString(md, "name")) {
				t.Errorf("input %d doc %d: identity %s %s %s", i, j, docs[j].APIVersion, docs[j].Kind, docs[j].Name)
			}
		}
	}
}
