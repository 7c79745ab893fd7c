package manifest

import (
	"bufio"
	"bytes"
	"testing"
)

// FuzzLoad feeds arbitrary bytes through the whole loader: splitting,
// parsing, position fix-up, object extraction and JSON conversion. It must
// never panic or hang, and every error must name the file.
func FuzzLoad(f *testing.F) {
	seeds := []string{
		"apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  containers: [{name: c, image: x}]\n",
		"---\n---\n...\n%YAML 1.2\n---\na: b\n",
		"apiVersion: v1\nkind: List\nitems: [{apiVersion: v1, kind: Pod}]\n",
		"a: &a [1]\nb: [*a, *a]\nc: {<<: {x: 1}}\n",
		"{\"apiVersion\": \"v1\", \"kind\": \"Pod\"}",
		"key: [unclosed\n---\napiVersion: v1\nkind: Pod\n",
		"a:\n  a:\n    a:\n      - - - x\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// The two splitters (buffer, stream) cut alike.
		var streamed []docChunk
		// An unknown size (odd lengths here) takes the scratch-buffer path
		// large files take.
		size := int64(len(data)) * int64(1-len(data)%2)
		_ = splitStream("f", bufio.NewReaderSize(bytes.NewReader(data), 16), size, func(c docChunk) { streamed = append(streamed, c) })
		sliced := splitDocuments("f", data)
		if len(streamed) != len(sliced) {
			t.Fatalf("stream cut %d documents, buffer %d", len(streamed), len(sliced))
		}
		for i := range sliced {
			a, b := sliced[i], streamed[i]
			if a.doc != b.doc || a.startLine != b.startLine || !bytes.Equal(a.data, b.data) {
				t.Fatalf("document %d: buffer %d@%d %q, stream %d@%d %q", i, a.doc, a.startLine, a.data, b.doc, b.startLine, b.data)
			}
		}
		res := LoadBytes("fuzz.yaml", data, Options{MaxFileSize: 1 << 20, Workers: 1})
		for _, e := range res.Errors {
			if e.File != "fuzz.yaml" || e.Message == "" {
				t.Fatalf("bad error %+v", e)
			}
		}
		for _, o := range res.Objects {
			_, _ = ToJSON(o.Node, 10000)
			_ = o.Locate(ParsePath("spec.containers[0].image"))
			if o.Node.Line <= 0 {
				t.Fatalf("object without a line: %+v", o)
			}
		}
	})
}
