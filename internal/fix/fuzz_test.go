package fix

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// FuzzRewrite: whatever the line, rewrite never panics, and when it
// rewrites a line that YAML parses, the new line parses to the same tree
// (comments included) except for one scalar, now false.
func FuzzRewrite(f *testing.F) {
	for _, s := range []string{
		"  privileged: true   # debug",
		"securityContext: {privileged: True, runAsNonRoot: true}",
		`  "privileged": "true",`,
		"- hostPID: yes",
		"a: {b: [c, {privileged: on}]} # x",
		"  'hostIPC': TRUE\t# t",
	} {
		f.Add(s, uint(strings.Index(s, "p")))
		f.Add(s, uint(0))
	}
	f.Fuzz(func(t *testing.T, line string, pos uint) {
		if strings.ContainsAny(line, "\r\n") {
			return
		}
		at := int(pos % uint(len(line)+1))
		key := lineKey(line, at)
		if key == "" {
			return
		}
		got, err := rewrite(line, at, key, boolKind, "false")
		if err != nil {
			return
		}
		if !strings.HasPrefix(got, line[:at]) {
			t.Fatalf("rewrite(%q, %d) changed text before the key: %q", line, at, got)
		}
		var before, after yaml.Node
		if yaml.Unmarshal([]byte(line), &before) != nil {
			return
		}
		if err := yaml.Unmarshal([]byte(got), &after); err != nil {
			t.Fatalf("rewrite(%q, %d) = %q, which does not parse: %v", line, at, got, err)
		}
		diffs := 0
		var walk func(a, b *yaml.Node)
		walk = func(a, b *yaml.Node) {
			if a.Kind != b.Kind || len(a.Content) != len(b.Content) || a.LineComment != b.LineComment || a.HeadComment != b.HeadComment {
				t.Fatalf("rewrite(%q, %d) = %q changed the structure", line, at, got)
			}
			if a.Kind == yaml.ScalarNode && a.Value != b.Value {
				diffs++
				if v, ok := yamlBool(b.Value); !ok || v || b.Style != 0 {
					t.Fatalf("rewrite(%q, %d) = %q wrote %q", line, at, got, b.Value)
				}
			}
			for i := range a.Content {
				walk(a.Content[i], b.Content[i])
			}
		}
		walk(&before, &after)
		if diffs != 1 {
			t.Fatalf("rewrite(%q, %d) = %q changed %d scalars", line, at, got, diffs)
		}
	})
}
