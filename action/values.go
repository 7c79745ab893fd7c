package action

import (
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

// A Helm finding is located in its template, and its message names the
// values key it came from (finding.ParseValuesNote), e.g. "(hostNetwork
// from chart/values.yaml)", or the key it is written under ("written under
// the condition hostNetwork (set in chart/values.yaml)"). A pull request
// that changes that key changes the values file, not the template: the
// review puts the finding on the key's line there.

// reviewLocations returns the findings with each Helm finding that came
// from a values key moved to the key's line in the values file (when the
// file is in the workspace and holds the key).
func reviewLocations(fs []finding.Finding, workspace string) []finding.Finding {
	out := make([]finding.Finding, len(fs))
	copy(out, fs)
	docs := map[string]*yaml.Node{}
	for i := range out {
		f := &out[i]
		v, ok := finding.ParseValuesNote(f.Message)
		if !ok || !strings.HasPrefix(f.Origin, "helm") || !isYAMLFile(v.File) {
			continue
		}
		file := RepoPath(v.File, workspace)
		doc, ok := docs[file]
		if !ok {
			doc = readYAML(filepath.Join(workspace, filepath.FromSlash(file)))
			docs[file] = doc
		}
		if n := lookup(doc, v.Key); n != nil {
			f.Location = finding.Location{File: file, Line: n.Line, Column: n.Column}
		}
	}
	return out
}

// isYAMLFile tells a values file from a flag (--set) as the source.
func isYAMLFile(name string) bool {
	return strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")
}

func readYAML(path string) *yaml.Node {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var doc yaml.Node
	if yaml.Unmarshal(b, &doc) != nil {
		return nil
	}
	return &doc
}

// lookup finds the key node of a dotted values key (a.b[0].c), or the
// item a trailing index names.
func lookup(doc *yaml.Node, dotted string) *yaml.Node {
	key, val := manifest.Lookup(doc, manifest.ParsePath(dotted))
	if key != nil {
		return key
	}
	return val
}
