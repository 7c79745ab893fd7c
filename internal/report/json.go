package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"strconv"

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
	var scratch []byte
	for j := range fs {
		if j > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("\n    ")
		scratch = appendFinding(scratch[:0], &fs[j])
		bw.Write(scratch)
	}
	bw.WriteString("\n  ]")
	bw.Write(head.Bytes()[i+len(marker):])
	return bw.Flush()
}

// appendFinding appends f as encoding/json would indent it inside the
// findings array (prefix "    ", indent "  ", no HTML escaping), without
// reflection: the report of a large run is mostly this. TestAppendFinding
// checks it against encoding/json.
func appendFinding(b []byte, f *finding.Finding) []byte {
	const i1, i2, i3 = "\n      ", "\n        ", "\n      }"
	b = append(b, '{')
	b = appendField(b, i1, "ruleId", f.RuleID)
	b = append(b, ',')
	b = appendField(b, i1, "severity", f.Severity.String())
	b = append(b, ',')
	b = appendField(b, i1, "message", f.Message)
	b = append(b, ',')
	b = append(b, i1...)
	b = append(b, `"location": {`...)
	b = appendField(b, i2, "file", f.Location.File)
	b = appendInt(b, i2, "line", f.Location.Line, false)
	b = appendInt(b, i2, "column", f.Location.Column, false)
	b = appendInt(b, i2, "endLine", f.Location.EndLine, true)
	b = appendInt(b, i2, "endColumn", f.Location.EndColumn, true)
	b = append(b, i3...)
	b = append(b, ',')
	b = append(b, i1...)
	b = append(b, `"object": {`...)
	b = appendField(b, i2, "apiVersion", f.Object.APIVersion)
	b = append(b, ',')
	b = appendField(b, i2, "kind", f.Object.Kind)
	if f.Object.Namespace != "" {
		b = append(b, ',')
		b = appendField(b, i2, "namespace", f.Object.Namespace)
	}
	b = append(b, ',')
	b = appendField(b, i2, "name", f.Object.Name)
	b = append(b, i3...)
	for _, kv := range [...]struct{ k, v string }{{"container", f.Container}, {"path", f.Path}, {"remediation", f.Remediation}} {
		if kv.v != "" {
			b = append(b, ',')
			b = appendField(b, i1, kv.k, kv.v)
		}
	}
	b = append(b, ',')
	b = appendField(b, i1, "fingerprint", f.Fingerprint)
	if f.Origin != "" {
		b = append(b, ',')
		b = appendField(b, i1, "origin", f.Origin)
	}
	return append(b, "\n    }"...)
}

func appendField(b []byte, indent, key, val string) []byte {
	b = append(b, indent...)
	b = append(b, '"')
	b = append(b, key...)
	b = append(b, `": `...)
	return appendJSONString(b, val)
}

// appendInt writes a number member; the leading comma is written here
// because "line" always follows "file".
func appendInt(b []byte, indent, key string, v int, omitEmpty bool) []byte {
	if omitEmpty && v == 0 {
		return b
	}
	b = append(b, ',')
	b = append(b, indent...)
	b = append(b, '"')
	b = append(b, key...)
	b = append(b, `": `...)
	return strconv.AppendInt(b, int64(v), 10)
}

// appendJSONString quotes s like encoding/json with HTML escaping off; the
// rare string that needs escaping is handed to encoding/json itself.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			_ = enc.Encode(s)
			return append(b, bytes.TrimRight(buf.Bytes(), "\n")...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// encodeJSON writes v indented, without HTML escaping, with a final newline.
func encodeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// spliceArray writes doc as encodeJSON would, with the empty array at
// marker replaced by n items encoded one at a time (at the indentation
// the array has in doc).
func spliceArray(w io.Writer, doc any, marker string, n int, item func(i int) any) error {
	var head bytes.Buffer
	if err := encodeJSON(&head, doc); err != nil {
		return err
	}
	if n == 0 {
		_, err := w.Write(head.Bytes())
		return err
	}
	h := head.Bytes()
	at := bytes.Index(h, []byte(marker))
	if at < 0 {
		return errors.New("report: array marker not found")
	}
	lineStart := bytes.LastIndexByte(h[:at], '\n') + 1
	indent := string(h[lineStart:at])
	prefix := indent + "  "
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.Write(h[:at+len(marker)-1]) // up to and including "["
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent(prefix, "  ")
	for i := 0; i < n; i++ {
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("\n" + prefix)
		buf.Reset()
		if err := enc.Encode(item(i)); err != nil {
			return err
		}
		bw.Write(bytes.TrimRight(buf.Bytes(), "\n"))
	}
	bw.WriteString("\n" + indent + "]")
	bw.Write(h[at+len(marker):])
	return bw.Flush()
}
