package report

import (
	"encoding/json"
	"io"
	"math"

	"github.com/kubectl-secure/kubectl-secure/internal/finding"
)

// JSONSchemaVersion is the schemaVersion of the json format. It changes only
// when a field is removed or changes meaning; adding fields does not change
// it. See docs/json-schema.md.
const JSONSchemaVersion = "1"

type jsonReport struct {
	SchemaVersion string            `json:"schemaVersion"`
	Tool          jsonTool          `json:"tool"`
	Summary       jsonSummary       `json:"summary"`
	Findings      []finding.Finding `json:"findings"`
}

type jsonTool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

type jsonSummary struct {
	Files          int                  `json:"files"`
	Objects        int                  `json:"objects"`
	Skipped        int                  `json:"skipped"`
	Suppressed     int                  `json:"suppressed"`
	BySeverity     jsonBySeverity       `json:"bySeverity"`
	Errors         []finding.InputError `json:"errors"`
	FailOn         *finding.Severity    `json:"failOn"`
	ElapsedSeconds float64              `json:"elapsedSeconds"`
}

// jsonBySeverity is a struct rather than a map so that all four keys are
// always present, in a fixed order.
type jsonBySeverity struct {
	Critical int `json:"critical"`
	High     int `json:"high"`
	Medium   int `json:"medium"`
	Low      int `json:"low"`
}

func writeJSON(w io.Writer, res *finding.Result, _ Options) error {
	fs := sortedFindings(res.Findings)
	counts := countBySeverity(fs)
	doc := jsonReport{
		SchemaVersion: JSONSchemaVersion,
		Tool:          jsonTool{Name: toolName(res), Version: res.ToolVersion},
		Summary: jsonSummary{
			Files:      res.Summary.Files,
			Objects:    res.Summary.Objects,
			Skipped:    res.Summary.Skipped,
			Suppressed: res.Summary.Suppressed,
			BySeverity: jsonBySeverity{
				Critical: counts[finding.Critical],
				High:     counts[finding.High],
				Medium:   counts[finding.Medium],
				Low:      counts[finding.Low],
			},
			Errors:         sortedErrors(res.Summary.Errors),
			ElapsedSeconds: math.Round(res.Summary.Elapsed.Seconds()*1000) / 1000,
		},
		Findings: fs,
	}
	if doc.Summary.Errors == nil {
		doc.Summary.Errors = []finding.InputError{}
	}
	if doc.Findings == nil {
		doc.Findings = []finding.Finding{}
	}
	if s := res.Summary.FailOn; s != finding.SeverityUnknown {
		doc.Summary.FailOn = &s
	}
	return encodeJSON(w, doc)
}

// encodeJSON writes v indented, without HTML escaping, with a final newline.
func encodeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
