package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"strconv"
	"unicode/utf8"

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
	// PodSecurity is the Pod Security readiness table (scan).
	PodSecurity []finding.PodSecurityNamespace `json:"podSecurity,omitempty"`
}

type jsonTool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

type jsonSummary struct {
	Files          int                    `json:"files"`
	Objects        int                    `json:"objects"`
	Skipped        int                    `json:"skipped"`
	Suppressed     int                    `json:"suppressed"`
	BySeverity     jsonBySeverity         `json:"bySeverity"`
	Errors         []finding.InputError   `json:"errors"`
	NotEvaluated   []finding.NotEvaluated `json:"notEvaluated,omitempty"`
	FailOn         *finding.Severity      `json:"failOn"`
	ElapsedSeconds float64                `json:"elapsedSeconds"`
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
			NotEvaluated:   res.Summary.NotEvaluated,
			ElapsedSeconds: math.Round(res.Summary.Elapsed.Seconds()*1000) / 1000,
		},
		Findings:    fs,
		PodSecurity: res.PodSecurity,
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
	doc.Findings = []finding.Finding{}
	return spliceArray(w, doc, `"findings": []`, len(fs), func(dst []byte, i int, prefix string) ([]byte, error) {
		return appendFinding(dst, &fs[i], prefix), nil
	})
}

// appendFinding appends f as encoding/json would indent it with the given
// line prefix (indent "  ", no HTML escaping), without
// reflection: the report of a large run is mostly this. TestAppendFinding
// checks it against encoding/json.
func appendFinding(b []byte, f *finding.Finding, prefix string) []byte {
	i1, i2, i3 := "\n"+prefix+"  ", "\n"+prefix+"    ", "\n"+prefix+"  }"
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
	b = append(b, '\n')
	b = append(b, prefix...)
	return append(b, '}')
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
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		// As encoding/json: invalid UTF-8 becomes U+FFFD, and the line
		// and paragraph separators are escaped for JavaScript's sake.
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

// encodeJSON writes v indented, without HTML escaping, with a final newline.
func encodeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// spliceArray writes doc as encodeJSON would, with the empty array at
// marker replaced by n items appended one at a time (at the indentation
// the array has in doc): a large report is never held twice in memory.
func spliceArray(w io.Writer, doc any, marker string, n int, appendItem func(dst []byte, i int, prefix string) ([]byte, error)) error {
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
	var scratch []byte
	for i := 0; i < n; i++ {
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("\n" + prefix)
		var err error
		if scratch, err = appendItem(scratch[:0], i, prefix); err != nil {
			return err
		}
		bw.Write(scratch)
	}
	bw.WriteString("\n" + indent + "]")
	bw.Write(h[at+len(marker):])
	return bw.Flush()
}

// encodedItems appends items with encoding/json (reflection), for the
// formats without a hand-written encoder.
func encodedItems(item func(i int) any) func(dst []byte, i int, prefix string) ([]byte, error) {
	var buf bytes.Buffer
	return func(dst []byte, i int, prefix string) ([]byte, error) {
		buf.Reset()
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.SetIndent(prefix, "  ")
		if err := enc.Encode(item(i)); err != nil {
			return dst, err
		}
		return append(dst, bytes.TrimRight(buf.Bytes(), "\n")...), nil
	}
}
