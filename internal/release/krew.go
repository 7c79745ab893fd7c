package release

import (
	"bytes"
	"fmt"
	"path"
	"strings"
	"text/template"

	"k8s.io/apimachinery/pkg/util/version"
	"sigs.k8s.io/yaml"
)

// IsSemver reports whether v is a semantic version with a leading "v", the
// form krew requires of spec.version (it parses versions the same way).
func IsSemver(v string) bool {
	if !strings.HasPrefix(v, "v") {
		return false
	}
	_, err := version.ParseSemantic(v)
	return err == nil
}

// missingSHA stands in for the sum of an archive a partial build did not
// make; such platforms are dropped from the manifest, and a marker that
// is not hex can never pass for a sum.
const missingSHA = "not-built"

// RenderKrew fills in the krew manifest template krew/secure.yaml. The
// template is in krew-release-bot's format — Go text/template with
// {{ .TagName }} and {{ addURIAndSha "<url>" .TagName }} — so that the bot
// renders the same file from the published release for the krew-index
// pull request. Here the sums come from the archives just built, matched
// by file name. With partial set, platforms whose archive was not built
// are left out; otherwise each must have been built, and each archive
// must appear in the template.
func RenderKrew(tmpl []byte, tag string, arts []Artifact, partial bool) ([]byte, error) {
	byName := make(map[string]Artifact, len(arts))
	for _, a := range arts {
		byName[a.Name] = a
	}
	used := map[string]bool{}
	funcs := template.FuncMap{
		"addURIAndSha": func(url, tag string) (string, error) {
			var u bytes.Buffer
			t, err := template.New("url").Parse(url)
			if err != nil {
				return "", err
			}
			if err := t.Execute(&u, struct{ TagName string }{tag}); err != nil {
				return "", err
			}
			name := path.Base(u.String())
			a, ok := byName[name]
			switch {
			case ok:
				used[name] = true
				return fmt.Sprintf("uri: %s\n    sha256: %s", u.String(), a.SHA256), nil
			case partial:
				return fmt.Sprintf("uri: %s\n    sha256: %s", u.String(), missingSHA), nil
			}
			return "", fmt.Errorf("%s names %s, which was not built", u.String(), name)
		},
		// indent is the bot's other function, for templates that nest
		// the uri/sha256 pair deeper than four spaces.
		"indent": func(spaces int, v string) string {
			v = strings.ReplaceAll(v, "    sha256:", "sha256:")
			pad := strings.Repeat(" ", spaces)
			return strings.TrimSpace(pad + strings.ReplaceAll(v, "\n", "\n"+pad))
		},
	}
	t, err := template.New("krew").Funcs(funcs).Option("missingkey=error").Parse(string(tmpl))
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := t.Execute(&out, struct{ TagName string }{tag}); err != nil {
		return nil, err
	}
	for _, a := range arts {
		if !used[a.Name] {
			return nil, fmt.Errorf("no platform entry uses %s", a.Name)
		}
	}
	if !partial {
		return out.Bytes(), nil
	}
	return dropUnbuilt(out.Bytes())
}

// dropUnbuilt removes the platforms whose sum is missingSHA. The result is
// re-encoded, so key order and comments are not the template's.
func dropUnbuilt(manifest []byte) ([]byte, error) {
	var m map[string]any
	if err := yaml.Unmarshal(manifest, &m); err != nil {
		return nil, fmt.Errorf("rendered manifest: %w", err)
	}
	spec, _ := m["spec"].(map[string]any)
	platforms, _ := spec["platforms"].([]any)
	if spec == nil || platforms == nil {
		return nil, fmt.Errorf("rendered manifest has no spec.platforms")
	}
	var kept []any
	for _, p := range platforms {
		if pm, ok := p.(map[string]any); ok && pm["sha256"] == missingSHA {
			continue
		}
		kept = append(kept, p)
	}
	spec["platforms"] = kept
	return yaml.Marshal(m)
}
