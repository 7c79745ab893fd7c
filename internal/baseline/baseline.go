// Package baseline records the findings a team has accepted so that a
// legacy repository can adopt kubectl-secure and gate only new problems.
// Findings are matched by fingerprint (rule + object identity + field
// path), which survives unrelated edits and line shifts.
package baseline

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/kubectl-secure/kubectl-secure/internal/finding"
)

// Version is the baseline file format version.
const Version = 1

// File is the on-disk format.
type File struct {
	Version  int     `json:"version"`
	Findings []Entry `json:"findings"`
}

// Entry is one accepted finding. Only Fingerprint is used for matching;
// the rest helps humans review the file.
type Entry struct {
	Fingerprint string `json:"fingerprint"`
	RuleID      string `json:"ruleId"`
	Object      string `json:"object"`
	Path        string `json:"path,omitempty"`
	File        string `json:"file"`
}

// Load reads a baseline and returns its fingerprints.
func Load(path string) (map[string]bool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading baseline: %w", err)
	}
	var f File
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("baseline %s: %w", path, err)
	}
	if f.Version != Version {
		return nil, fmt.Errorf("baseline %s: version %d, want %d", path, f.Version, Version)
	}
	out := make(map[string]bool, len(f.Findings))
	for _, e := range f.Findings {
		out[e.Fingerprint] = true
	}
	return out, nil
}

// Write records findings as a baseline, sorted for stable diffs.
func Write(w io.Writer, findings []finding.Finding) error {
	f := File{Version: Version, Findings: []Entry{}}
	seen := map[string]bool{}
	for _, fd := range findings {
		if seen[fd.Fingerprint] {
			continue
		}
		seen[fd.Fingerprint] = true
		f.Findings = append(f.Findings, Entry{Fingerprint: fd.Fingerprint, RuleID: fd.RuleID, Object: fd.Object.String(), Path: fd.Path, File: fd.Location.File})
	}
	sort.Slice(f.Findings, func(i, j int) bool {
		a, b := f.Findings[i], f.Findings[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Object != b.Object {
			return a.Object < b.Object
		}
		if a.RuleID != b.RuleID {
			return a.RuleID < b.RuleID
		}
		return a.Fingerprint < b.Fingerprint
	})
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(f)
}

// WriteFile writes a baseline file.
func WriteFile(path string, findings []finding.Finding) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("writing baseline: %w", err)
	}
	if err := Write(f, findings); err != nil {
		f.Close()
		return fmt.Errorf("writing baseline %s: %w", path, err)
	}
	return f.Close()
}
