package plugin

import (
	"errors"
	"fmt"
)

// Exit codes, as documented in the README.
const (
	ExitCodeClean    = 0
	ExitCodeFindings = 1
	ExitCodeError    = 2
)

// ExitError carries the process exit code up to main, which is the only
// place that exits (cosign's pattern): commands stay testable.
type ExitError struct {
	Code int
	Err  error
	// quiet: the command already told the user (input errors).
	quiet bool
}

// Error implements error.
func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

// Unwrap returns the cause.
func (e *ExitError) Unwrap() error { return e.Err }

// ExitCode picks the exit code for an error returned by a command: nil is
// 0, an ExitError carries its own, anything else (usage, runtime) is 2.
func ExitCode(err error) int {
	if err == nil {
		return ExitCodeClean
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	return ExitCodeError
}

// usageError marks a bad flag or argument.
func usageError(format string, args ...any) error {
	return &ExitError{Code: ExitCodeError, Err: fmt.Errorf(format, args...)}
}

// Quiet reports whether main should stay silent about err: findings (exit
// 1) and input errors were already reported by the command itself.
func Quiet(err error) bool {
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Err == nil || ee.quiet
	}
	return false
}
