// Package action is the runtime of the GitHub Action (action.yml): the
// third front door of the pipeline, after lint and scan. The plugin's
// hidden `kubectl-secure action` command lints the workspace exactly as
// `lint` does and hands the outcome here; this package owns everything
// GitHub: inputs and outputs, the pull request's diff, the review and its
// reruns, annotations, the job summary and the SARIF file.
//
// It reads the workflow through github.com/sethvargo/go-githubactions and
// talks to the REST API (GITHUB_API_URL, so GitHub Enterprise Server works)
// through github.com/google/go-github. Nothing it meets on the way — a
// read-only token, a line no longer in the diff, a rate limit — changes
// the exit code: only findings at or above fail-on and unreadable inputs
// do, as in lint.
package action
