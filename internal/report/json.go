package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	gojson "github.com/goccy/go-json"
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
	return streamJSON(w, doc)
}

// streamJSON writes doc like encodeJSON would, but encodes the findings
// one at a time: a large result is never held twice in memory.
func streamJSON(w io.Writer, doc jsonReport) error {
	fs := doc.Findings
	if len(fs) == 0 {
		return encodeJSON(w, doc)
	}
	doc.Findings = []finding.Finding{}
	var head bytes.Buffer
	if err := encodeJSON(&head, doc); err != nil {
		return err
	}
	const marker = `"findings": []`
	i := bytes.LastIndex(head.Bytes(), []byte(marker))
	if i < 0 {
		return errors.New("json report: findings marker not found")
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.Write(head.Bytes()[:i])
	bw.WriteString(`"findings": [`)
	for j := range fs {
		if j > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("\n    ")
		b, err := marshalIndent(&fs[j], "    ", "  ")
		if err != nil {
			return err
		}
		bw.Write(b)
	}
	bw.WriteString("\n  ]")
	bw.Write(head.Bytes()[i+len(marker):])
	return bw.Flush()
}

// marshalIndent is json.MarshalIndent without HTML escaping, as the
// encoder is configured.
func marshalIndent(v any, prefix, indent string) ([]byte, error) {
	// goccy/go-json is several times faster; its output is byte-identical
	// for these types (the golden tests compare).
	if b, err := gojson.MarshalIndentWithOption(v, prefix, indent, gojson.DisableHTMLEscape()); err == nil {
		return b, nil
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent(prefix, indent)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// encodeJSON writes v indented, without HTML escaping, with a final newline.
func encodeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
