// Package bench measures kubectl-secure on the 10,000-object corpus that
// `make corpus` builds from the bundled real-world manifests
// (testdata/corpus/make-scaled.py). Figures live here, in benchmarks run by
// `make bench`, never in timed unit tests.
package bench

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/kubectl-secure/kubectl-secure/internal/engine"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
	"github.com/kubectl-secure/kubectl-secure/internal/rules"
)

func env(b *testing.B, name string) string {
	p := os.Getenv(name)
	if p == "" {
		b.Skip(name + " not set; run `make bench`")
	}
	return p
}

// BenchmarkYAMLDecodeBaseline is the reference the targets are relative
// to: a bare, single-threaded yaml.v3 decode of the corpus file into maps.
func BenchmarkYAMLDecodeBaseline(b *testing.B) {
	data, err := os.ReadFile(env(b, "KUBECTL_SECURE_CORPUS"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		decodeAll(b, data)
	}
}

// decodeAll is the reference work: every document of data decoded into
// maps by yaml.v3, on one goroutine.
func decodeAll(b *testing.B, data []byte) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var m map[string]any
		if err := dec.Decode(&m); err == io.EOF {
			break
		} else if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoad is loading alone: split, parse and position fix-up.
func BenchmarkLoad(b *testing.B) {
	p := env(b, "KUBECTL_SECURE_CORPUS")
	for b.Loop() {
		res := manifest.LoadPaths([]string{p}, manifest.Options{})
		if len(res.Objects) != 10000 {
			b.Fatalf("%d objects", len(res.Objects))
		}
	}
}

func lint(b *testing.B, path string) {
	reg, err := rules.NewRegistry()
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		e := &engine.Engine{Registry: reg}
		c := e.NewCollector()
		res := manifest.LoadPaths([]string{path}, manifest.Options{Visit: c.Visit})
		raws, _ := c.Finish(res.Objects)
		raws, _ = engine.Pipeline(raws, engine.IgnoreAnnotations{}, engine.Dedupe{}, engine.Sort{})
		b.ReportMetric(float64(len(raws)), "findings")
	}
}

// BenchmarkLintFile lints the corpus as one 22 MB multi-document file.
func BenchmarkLintFile(b *testing.B) { lint(b, env(b, "KUBECTL_SECURE_CORPUS")) }

// BenchmarkLintDir lints the corpus as 10,000 files, one object each.
func BenchmarkLintDir(b *testing.B) { lint(b, env(b, "KUBECTL_SECURE_CORPUS_DIR")) }

// BenchmarkCLI runs the built binary end to end (JSON report to a file)
// and reports its peak resident memory, the figure users see, and its time
// as a multiple of the bare decode (x-decode). The decode is timed in the
// same iterations, alternating with the runs, so that a shared machine's
// drifting speed affects both alike. The memory is read by GNU time: a
// child forked straight from this (large) test process would inherit its
// high-water mark.
func BenchmarkCLI(b *testing.B) {
	bin := env(b, "KUBECTL_SECURE_BIN")
	corpus := env(b, "KUBECTL_SECURE_CORPUS")
	timeBin, err := exec.LookPath("/usr/bin/time")
	if err != nil {
		b.Skip("GNU time (/usr/bin/time) is needed to measure peak memory; apt-get install time")
	}
	data, err := os.ReadFile(corpus)
	if err != nil {
		b.Fatal(err)
	}
	for _, in := range []string{"KUBECTL_SECURE_CORPUS", "KUBECTL_SECURE_CORPUS_DIR"} {
		path := env(b, in)
		b.Run(filepath.Base(path), func(b *testing.B) {
			var maxKB int64
			var cli, decode time.Duration
			for b.Loop() {
				b.StopTimer()
				start := time.Now()
				decodeAll(b, data)
				decode += time.Since(start)
				b.StartTimer()

				start = time.Now()
				out := filepath.Join(b.TempDir(), "out.json")
				cmd := exec.Command(timeBin, "-f", "%M", bin, "lint", "--no-config", "-o", "json", "--output-file", out, path)
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				err := cmd.Run()
				cli += time.Since(start)
				if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() != 1) {
					b.Fatalf("%v: %s", err, stderr.String())
				}
				lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
				kb, err := strconv.ParseInt(lines[len(lines)-1], 10, 64)
				if err != nil {
					b.Fatalf("reading peak memory from %q: %v", stderr.String(), err)
				}
				maxKB = max(maxKB, kb)
				// A run that read less than the corpus measures nothing.
				b.StopTimer()
				var rep struct {
					Summary struct{ Objects int } `json:"summary"`
				}
				if raw, err := os.ReadFile(out); err != nil || json.Unmarshal(raw, &rep) != nil || rep.Summary.Objects != 10000 {
					b.Fatalf("%s: the report does not cover the 10,000 objects (%d read, %v)", path, rep.Summary.Objects, err)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(maxKB)/1024, "peak-RSS-MB")
			b.ReportMetric(cli.Seconds()/decode.Seconds(), "x-decode")
		})
	}
}
