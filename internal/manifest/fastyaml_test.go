package manifest

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"gopkg.in/yaml.v3"
)

// sameTree compares what yaml.v3 and fastParse build, comments aside.
func sameTree(want, got *yaml.Node, path string) error {
	if (want == nil) != (got == nil) {
		return fmt.Errorf("%s: nil mismatch", path)
	}
	if want == nil {
		return nil
	}
	type fields struct {
		Kind          yaml.Kind
		Style         yaml.Style
		Tag, Value    string
		Anchor        string
		Alias         bool
		Line, Column  int
		ContentLength int
	}
	f := func(n *yaml.Node) fields {
		return fields{n.Kind, n.Style, n.Tag, n.Value, n.Anchor, n.Alias != nil, n.Line, n.Column, len(n.Content)}
	}
	if w, g := f(want), f(got); w != g {
		return fmt.Errorf("%s:\n yaml.v3 %+v\n fast    %+v", path, w, g)
	}
	for i := range want.Content {
		if err := sameTree(want.Content[i], got.Content[i], fmt.Sprintf("%s/%d", path, i)); err != nil {
			return err
		}
	}
	return nil
}

// checkFast parses src both ways. It fails the test when the fast path
// accepts src and disagrees with yaml.v3, and reports whether it accepted.
func checkFast(t testing.TB, name string, src []byte) bool {
	t.Helper()
	var fast yaml.Node
	if !fastParse(src, &fast) {
		return false
	}
	var want yaml.Node
	if err := yaml.Unmarshal(src, &want); err != nil {
		t.Fatalf("%s: fast path accepted what yaml.v3 refuses (%v):\n%s", name, err, src)
	}
	if err := sameTree(&want, &fast, "doc"); err != nil {
		t.Fatalf("%s: %v\ninput:\n%s", name, err, src)
	}
	return true
}

// fastCases must all take the fast path and match yaml.v3 exactly.
var fastCases = []string{
	"a: 1\nb: two\n",
	"---\na: 1\n",
	"--- # c\n# x\na: 1\n",
	"# lead\n\n---\na: b\n",
	"  a: 1\n  b: 2\n",
	"a:\nb:\n",
	"a:   \n  # c\nb: x # trailing\n",
	"a :  b\n",
	"my key: v\n80: http\n",
	"a: 'it''s'\nb: \"q\\\"x\\n\\t\\u00e9\\x41\\U0001F600\\N\\_\\L\\P\\0\\e\\ \"\n",
	"'k': 1\n\"k 2\" : x\n",
	"a: \"\\a\\b\\v\\f\\r\\'\\\\\\\"\"\n",
	"a:\n- 1\n- 2\nb: 3\n",
	"a:\n  - x\n  -\n  - - n1\n    - n2\n  - k: v\n    k2: v2\n",
	"-\n  a: 1\n- \n- b\n",
	"- a: |\n    text\n    more\n  b: >-\n    folded\n    line\n\n    para\n      indented\n    end\n",
	"a: |+\n  keep\n\n\nb: |-\n  strip\n\nc: |\n  clip\n\n\n",
	"a: |2\n    two extra\n  base\n",
	"a: |\n\n   \n     deep\n",
	"a: >\n  x\n\n  y\n   z\n  w\n",
	"a: |\n  no newline at end",
	"a: |\n  x\n  # not a comment\n # a comment\nb: 1\n",
	"a: []\nb: {}\nc: [1, \"two\", 'three', [x], {k: v}]\nd: { a: b , c: [d] }\n",
	"a: [a:, -1, x y, 0x1F]\n",
	"a: true\nb: 1.5\nc: ~\nd: null\ne: 2001-12-14\nf: .inf\ng: -.5\nh: 0o17\ni: +12\nj: 1_000\nk: no\nl: On\n",
	"url: http://x:8080/p#frag\nb: a#b\nc: -x\nd: ?x\ne: :x\n",
	"a: b # c\n\n\n# trailing\n",
	"scalar\n",
	"\"just quoted\"\n",
	"[1, 2]\n",
	"|\n  root block\n",
	"a: x\n\n",
	"a: \"\"\nb: ''\n",
	"a:\n  b:\n    c: d\n  e: f\ng: h\n",
	"key: |\n  leading\n\n  gap\n\n",
	"- |\n  item\n- >\n  f\n",
	"a: multi\n  line\n",
	"a: \"multi\n  line\"\n",
	"a: one   \n   two  \n\n\n    three # c\nb: x\n  - y\n  &z !t *u\n",
	"- plain\n  cont\n-   x\n\n   y\n",
	"a:\n  next line\n  plain\nb: 1\n",
	"a: 'it''s\n\n  multi  \n  line'\nb: \"esc\\\n   aped \\t \\\n\n  x  \n y\" # c\n",
	"a: \"  lead\n\n\n  \"\n",
	"root plain\nscalar\n",
	"- a: b\n  c: long\n    text\n",
}

// slowCases are valid YAML the fast path must leave to yaml.v3.
var slowCases = []string{
	"a: &x 1\nb: *x\n",
	"a: !!str 1\n",
	"%YAML 1.1\n---\na: 1\n",
	"a: [1,\n 2]\n",
	"? complex\n: key\n",
	"a:\tb\n",
	"a: b\r\n",
	"a: é\n",
	"<<: {a: 1}\n",
	"a: 1\n...\n",
	"a: {b: }\n",
}

func TestFastYAMLCases(t *testing.T) {
	for i, c := range fastCases {
		if !checkFast(t, fmt.Sprintf("fast case %d", i), []byte(c)) {
			t.Errorf("fast case %d left the fast path:\n%s", i, c)
		}
	}
	for i, c := range slowCases {
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(c), &n); err != nil {
			t.Fatalf("slow case %d is not valid YAML: %v", i, err)
		}
		if checkFast(t, fmt.Sprintf("slow case %d", i), []byte(c)) {
			t.Errorf("slow case %d took the fast path:\n%s", i, c)
		}
	}
}

// TestFastYAMLInvalid: malformed documents never take the fast path, so
// their errors stay yaml.v3's.
func TestFastYAMLInvalid(t *testing.T) {
	for i, c := range []string{
		"a: b: c\n", "a: 1\n b: 2\n", "- a\nb: 1\n", "a: [1, 2\n", "a: \"x\n",
		"a: |0\n x\n", "a: 'x' y\n", "a: \"\\q\"\n", "a:\n  - x\n  b: 1\n", "a: - b\n",
		"a: \"\\ud800\"\n", "key: value\n  more: x\n", "a: |\n   \n  x\n",
	} {
		var n yaml.Node
		if yaml.Unmarshal([]byte(c), &n) == nil {
			// Not invalid after all: then the two must simply agree.
			checkFast(t, fmt.Sprintf("invalid case %d", i), []byte(c))
			continue
		}
		if fastParse([]byte(c), &n) {
			t.Errorf("invalid case %d took the fast path:\n%s", i, c)
		}
	}
}

// TestFastYAMLTestdata compares the two parsers on every document of the
// repository's test data (rule fixtures, the real-world corpus, render
// inputs) and requires the fast path to carry nearly all of the corpus.
func TestFastYAMLTestdata(t *testing.T) {
	root := filepath.Join("..", "..", "testdata")
	total, fast := 0, 0
	corpusTotal, corpusFast := 0, 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !IsManifestFile(p) && !strings.HasSuffix(p, ".tpl") {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, c := range splitDocuments(p, data) {
			var n yaml.Node
			if yaml.Unmarshal(c.data, &n) != nil {
				continue
			}
			total++
			ok := checkFast(t, fmt.Sprintf("%s doc %d", p, c.doc), c.data)
			if ok {
				fast++
			}
			if strings.Contains(p, filepath.Join("corpus", "real")) {
				corpusTotal++
				if ok {
					corpusFast++
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("fast path: %d of %d documents; corpus: %d of %d", fast, total, corpusFast, corpusTotal)
	if corpusTotal == 0 || float64(corpusFast) < 0.95*float64(corpusTotal) {
		t.Errorf("fast path took %d of %d real-world documents; want at least 95%%", corpusFast, corpusTotal)
	}
}

// FuzzFastYAML: whatever the fast path accepts, yaml.v3 accepts too and
// builds the same tree.
func FuzzFastYAML(f *testing.F) {
	for _, c := range fastCases {
		f.Add([]byte(c))
	}
	for _, c := range slowCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 4096 {
			return
		}
		checkFast(t, "fuzz", data)
	})
}

// Recycled node slabs never belong to a tree still in use: objects the
// visitor froze give theirs back, and every other object's tree stays
// exactly as a load without recycling builds it.
func TestNodeSlabRecyclingKeepsLiveTrees(t *testing.T) {
	root := filepath.Join("..", "..", "testdata", "corpus", "real")
	ref := LoadPaths([]string{root}, Options{})
	var mu sync.Mutex
	n := 0
	got := LoadPaths([]string{root}, Options{Workers: 2, Visit: func(o *Object) {
		mu.Lock()
		n++
		freeze := n%2 == 0
		mu.Unlock()
		if freeze {
			Freeze(o, nil)
		}
	}})
	if len(got.Objects) != len(ref.Objects) || len(got.Objects) < 100 {
		t.Fatalf("%d objects, reference %d", len(got.Objects), len(ref.Objects))
	}
	kept := 0
	for i, o := range got.Objects {
		if o.Node == nil {
			continue
		}
		kept++
		if err := sameTree(ref.Objects[i].Node, o.Node, fmt.Sprintf("%s#%d", o.File, o.Doc)); err != nil {
			t.Fatal(err)
		}
	}
	if kept == 0 || kept == len(got.Objects) {
		t.Fatalf("kept %d of %d trees: the test froze none or all", kept, len(got.Objects))
	}
}
