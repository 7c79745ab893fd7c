package pipeline

import (
	"bufio"
	"fmt"
	"io"
	"os"

	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/report"
)

// Output is where and how a result is printed.
type Output struct {
	// Format is one of report.Formats().
	Format string
	// File, when set, receives the report instead of the writer.
	File string
	// Color is auto, always or never (text only).
	Color   string
	Verbose bool
}

// Write prints res to out (or Output.File). getenv decides automatic
// colour (NO_COLOR); errorsShownElsewhere is set when the caller prints
// input errors on stderr itself.
func (o Output) Write(out io.Writer, res *finding.Result, getenv func(string) string) error {
	opts := report.Options{Verbose: o.Verbose}
	if o.File != "" {
		f, err := os.Create(o.File)
		if err != nil {
			return fmt.Errorf("writing report: %w", err)
		}
		bw := bufio.NewWriterSize(f, 64<<10)
		if err := report.Write(bw, o.Format, res, opts); err != nil {
			f.Close()
			return fmt.Errorf("writing %s report: %w", o.Format, err)
		}
		if err := bw.Flush(); err != nil {
			f.Close()
			return fmt.Errorf("writing report %s: %w", o.File, err)
		}
		if err := f.Close(); err != nil {
			return fmt.Errorf("writing report %s: %w", o.File, err)
		}
		return nil
	}
	opts.ErrorsShownElsewhere = true
	switch o.Color {
	case "always":
		opts.Color = true
	case "auto":
		if f, ok := out.(*os.File); ok {
			opts.Color = report.ColorEnabled(f, getenv)
		}
	}
	if err := report.Write(out, o.Format, res, opts); err != nil {
		return fmt.Errorf("writing %s report: %w", o.Format, err)
	}
	return nil
}
