package render

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"text/template/parse"

	"gopkg.in/yaml.v3"
	"helm.sh/helm/v3/pkg/chart"

	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

// Helm charts call random and clock functions (randAlphaNum, uuidv4,
// now, genCA, ...) to name test pods or fill generated Secrets. Linting
// must give the same result on every run, so before rendering the calls
// that can be replaced are rewritten to deterministic named templates of
// the same shape (randAlphaNum 5 → include "…randAlphaNum" 5, a string of
// five "x"). The values are placeholders, not the same across charts'
// sites, so names stay stable whatever else a chart changes.
//
// To learn which rendered fields hold generated values (a genCA key or a
// randAlphaNum password passed through b64enc is not recognisable as
// such), a chart that calls any generator is rendered a second time with
// other placeholders; fields that differ between the two renders are
// generated, and recorded in manifest.Object.Generated.

// generatorFile is the partial holding the replacement templates; its
// name starts with "_" so Helm renders no output for it.
const generatorFile = "templates/_kubectl-secure-generators.tpl"

// rewritten maps a generator function to what replaces its identifier.
// The replacement takes the same arguments (include passes the one
// argument as the template's dot) and contains no newline, so template
// line numbers are unchanged.
var rewritten = map[string]string{
	"randAlphaNum": `include "kubectl-secure.randAlphaNum"`,
	"randAlpha":    `include "kubectl-secure.randAlpha"`,
	"randNumeric":  `include "kubectl-secure.randNumeric"`,
	"randAscii":    `include "kubectl-secure.randAscii"`,
	"randBytes":    `include "kubectl-secure.randBytes"`,
	"uuidv4":       `include "kubectl-secure.uuidv4" 0`,
	"now":          `(toDate "2006-01-02T15:04:05Z07:00" (include "kubectl-secure.now" 0))`,
	// randInt min max: its lower bound, an int like randInt returns.
	"randInt": `min`,
}

// unseeded are generators left as they are (cryptographic keys and
// salted hashes cannot be faked by a template); their fields are found by
// the second render.
var unseeded = map[string]bool{
	"genPrivateKey": true, "genCA": true, "genCAWithKey": true,
	"genSelfSignedCert": true, "genSelfSignedCertWithKey": true,
	"genSignedCert": true, "genSignedCertWithKey": true,
	"htpasswd": true, "bcrypt": true, "encryptAES": true, "shuffle": true,
}

// generatorDefines returns the partial defining the replacements for one
// variant (0 for the render that is linted, 1 for the comparison).
func generatorDefines(variant int) []byte {
	letter, digit, date, uuid := "x", "0", "2000-01-01T00:00:00Z", "00000000-0000-4000-8000-000000000000"
	if variant == 1 {
		letter, digit, date, uuid = "y", "1", "2001-02-03T04:05:06Z", "11111111-1111-4111-8111-111111111111"
	}
	var b bytes.Buffer
	def := func(name, body string) {
		fmt.Fprintf(&b, "{{- define \"kubectl-secure.%s\" -}}%s{{- end -}}\n", name, body)
	}
	repeat := func(s string) string { return fmt.Sprintf("{{ repeat (int .) %q }}", s) }
	def("randAlphaNum", repeat(letter))
	def("randAlpha", repeat(letter))
	def("randAscii", repeat(letter))
	def("randNumeric", repeat(digit))
	def("randBytes", fmt.Sprintf("{{ repeat (int .) %q | b64enc }}", letter))
	def("uuidv4", uuid)
	def("now", date)
	return b.Bytes()
}

// seedGenerators rewrites the generator calls of every template of the
// chart tree and adds the partial defining their replacements. It
// returns the original text of each rewritten template (positions are
// taken from what the user wrote) and whether any generator is called.
func seedGenerators(ch *chart.Chart) (orig map[*chart.File][]byte, found bool) {
	orig = map[*chart.File][]byte{}
	var visit func(c *chart.Chart)
	visit = func(c *chart.Chart) {
		for _, t := range c.Templates {
			out, any := rewriteGenerators(t.Name, t.Data)
			found = found || any
			if !bytes.Equal(out, t.Data) {
				orig[t] = t.Data
				t.Data = out
			}
		}
		for _, d := range c.Dependencies() {
			visit(d)
		}
	}
	visit(ch)
	if found {
		ch.Templates = append(ch.Templates, &chart.File{Name: generatorFile, Data: generatorDefines(0)})
	}
	return orig, found
}

// setGeneratorVariant switches the replacement partial of a seeded chart.
func setGeneratorVariant(ch *chart.Chart, variant int) {
	for _, t := range ch.Templates {
		if t.Name == generatorFile {
			t.Data = generatorDefines(variant)
		}
	}
}

// dropGeneratorFile removes the replacement partial (it is not the
// user's).
func dropGeneratorFile(ch *chart.Chart) {
	out := ch.Templates[:0]
	for _, t := range ch.Templates {
		if t.Name != generatorFile {
			out = append(out, t)
		}
	}
	ch.Templates = out
}

// rewriteGenerators replaces the identifiers of generator calls in one
// template, found with Go's own template parser (so text, comments and
// strings are never touched). A template that does not parse is left
// alone: Helm reports the error.
func rewriteGenerators(name string, src []byte) ([]byte, bool) {
	text := string(src)
	if !mentionsGenerator(text) {
		return src, false
	}
	type site struct {
		pos  int
		name string
	}
	var sites []site
	found := false
	ok := walkParsed(name, text, func(n parse.Node) {
		id, isIdent := n.(*parse.IdentifierNode)
		if !isIdent {
			return
		}
		if _, ok := rewritten[id.Ident]; ok {
			found = true
			sites = append(sites, site{int(id.Pos), id.Ident})
		} else if unseeded[id.Ident] {
			found = true
		}
	})
	if !ok {
		return src, false
	}
	if len(sites) == 0 {
		return src, found
	}
	sort.Slice(sites, func(i, j int) bool { return sites[i].pos < sites[j].pos })
	var b strings.Builder
	b.Grow(len(text) + 40*len(sites))
	last := 0
	for _, s := range sites {
		if s.pos < last || s.pos+len(s.name) > len(text) || text[s.pos:s.pos+len(s.name)] != s.name {
			return src, found // positions not as expected: leave it
		}
		b.WriteString(text[last:s.pos])
		b.WriteString(rewritten[s.name])
		last = s.pos + len(s.name)
	}
	b.WriteString(text[last:])
	return []byte(b.String()), found
}

// mentionsGenerator is a cheap test before parsing.
func mentionsGenerator(text string) bool {
	for n := range rewritten {
		if strings.Contains(text, n) {
			return true
		}
	}
	for n := range unseeded {
		if strings.Contains(text, n) {
			return true
		}
	}
	return false
}

// generatedPaths compares one object as rendered twice with different
// generator placeholders and returns the fields that differ.
func generatedPaths(a, b *yaml.Node) []manifest.Path {
	var out []manifest.Path
	var cmp func(a, b *yaml.Node, p manifest.Path)
	cmp = func(a, b *yaml.Node, p manifest.Path) {
		a, b = manifest.Resolve(a), manifest.Resolve(b)
		if a == nil || b == nil || a.Kind != b.Kind {
			out = append(out, p)
			return
		}
		switch a.Kind {
		case yaml.MappingNode:
			bm := make(map[string]*yaml.Node, len(b.Content)/2)
			for i := 0; i+1 < len(b.Content); i += 2 {
				bm[b.Content[i].Value] = b.Content[i+1]
			}
			for i := 0; i+1 < len(a.Content); i += 2 {
				k := a.Content[i].Value
				bv, ok := bm[k]
				if !ok {
					out = append(out, p.Key(k))
					continue
				}
				cmp(a.Content[i+1], bv, p.Key(k))
			}
		case yaml.SequenceNode:
			if len(a.Content) != len(b.Content) {
				out = append(out, p)
				return
			}
			for i := range a.Content {
				cmp(a.Content[i], b.Content[i], p.Item(i, manifest.ScalarString(manifest.Resolve(a.Content[i]), "name")))
			}
		default:
			if a.Value != b.Value {
				out = append(out, p)
			}
		}
	}
	cmp(a, b, nil)
	return out
}
