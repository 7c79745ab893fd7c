package action

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/report"
)

// Code scanning's limits on an uploaded SARIF file.
const (
	SARIFMaxResults = 25000
	SARIFMaxGzipped = 10 << 20
)

// SARIFLimits are the limits WriteSARIF keeps to (tests lower them).
type SARIFLimits struct {
	Results int
	Gzipped int
}

// WriteSARIF writes res as SARIF to path within the limits. When they
// cut, the most severe findings are kept and the run carries a warning
// notification saying how many were left out; the note is returned.
func WriteSARIF(path string, res *finding.Result, lim SARIFLimits) (note string, err error) {
	all := sortBySeverity(res.Findings)
	n := min(len(all), lim.Results)
	var buf bytes.Buffer
	for {
		cut := *res
		cut.Findings = all[:n]
		buf.Reset()
		if err := report.Write(&buf, "sarif", &cut, report.Options{}); err != nil {
			return "", fmt.Errorf("writing SARIF: %w", err)
		}
		if n < len(all) {
			note = fmt.Sprintf("kubectl-secure: this SARIF file holds the %d most severe of %d findings (GitHub code scanning takes at most %d results and %d MB gzipped per run); the JSON report has them all.",
				n, len(all), lim.Results, lim.Gzipped>>20)
			if err := addNotification(&buf, note); err != nil {
				return "", err
			}
		}
		// Gzip never grows JSON much: measure only when it could matter.
		if buf.Len() <= lim.Gzipped || n == 0 {
			break
		}
		size := gzippedSize(buf.Bytes())
		if size <= lim.Gzipped {
			break
		}
		// Shrink in proportion, with a margin, and measure again.
		n = int(float64(n) * float64(lim.Gzipped) / float64(size) * 0.95)
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", fmt.Errorf("writing SARIF: %w", err)
		}
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return "", fmt.Errorf("writing SARIF: %w", err)
	}
	return note, nil
}

func gzippedSize(b []byte) int {
	var cw countWriter
	zw := gzip.NewWriter(&cw)
	zw.Write(b)
	zw.Close()
	return int(cw)
}

type countWriter int

func (c *countWriter) Write(p []byte) (int, error) { *c += countWriter(len(p)); return len(p), nil }

var _ io.Writer = (*countWriter)(nil)

// addNotification adds a warning to the run's invocation.
func addNotification(buf *bytes.Buffer, text string) error {
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		return fmt.Errorf("SARIF note: %w", err)
	}
	runs, _ := doc["runs"].([]any)
	if len(runs) == 0 {
		return fmt.Errorf("SARIF note: no run")
	}
	run := runs[0].(map[string]any)
	invs, _ := run["invocations"].([]any)
	if len(invs) == 0 {
		invs = []any{map[string]any{"executionSuccessful": true}}
		run["invocations"] = invs
	}
	inv := invs[0].(map[string]any)
	notes, _ := inv["toolExecutionNotifications"].([]any)
	inv["toolExecutionNotifications"] = append(notes, map[string]any{"level": "warning", "message": map[string]any{"text": text}})
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("SARIF note: %w", err)
	}
	buf.Reset()
	buf.Write(b)
	buf.WriteByte('\n')
	return nil
}
