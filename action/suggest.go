package action

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/fix"
)

// fixSuggester suggests the fix package's one-line edit when it replaces
// exactly the commented line. originals are the findings as lint located
// them (fix follows a Helm finding's values note from its template line
// itself), by fingerprint.
func fixSuggester(originals []finding.Finding, workspace string) func(*finding.Finding) string {
	byFP := make(map[string]*finding.Finding, len(originals))
	for i := range originals {
		byFP[originals[i].Fingerprint] = &originals[i]
	}
	read := func(p string) ([]byte, error) {
		if !filepath.IsAbs(p) {
			p = filepath.Join(workspace, filepath.FromSlash(p))
		}
		return os.ReadFile(p)
	}
	return func(f *finding.Finding) string {
		orig := f
		if o := byFP[f.Fingerprint]; o != nil {
			orig = o
		}
		e, ok := fix.For(*orig, read)
		if !ok || RepoPath(filepath.FromSlash(e.File), workspace) != f.Location.File || e.Line != f.Location.Line {
			return ""
		}
		return suggestionBlock(fix.Suggestion(e))
	}
}

// suggestionBlock fences a suggestion, the fence longer than any backtick
// run in it.
func suggestionBlock(s string) string {
	fence := "```"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	return fence + "suggestion\n" + strings.TrimSuffix(s, "\n") + "\n" + fence
}
