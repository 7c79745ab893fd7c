// Package pipeline is the one path every front door of kubectl-secure
// takes: a source of objects → the engine → processors → a result →
// printers. `lint` (files, kustomize, Helm), `scan` (a live cluster) and
// the GitHub Action differ only in the Source they pick and what they do
// with the Result; none of them repeats the steps in between.
//
// The steps, in order:
//
//  1. the Source streams objects into the engine's collector, which checks
//     each one while its tree is hot (set-level rules run at the end);
//  2. edges that need the outside world run next (image signatures, with
//     --verify-images), turning failures into findings like any rule's;
//  3. processors: ignore annotations → config (disable, severity,
//     exemptions) → optional baseline writing → baseline → min severity →
//     dedupe → sort;
//  4. the Result carries the findings, the documentation of every rule
//     that ran and the run's summary; printers in internal/report only
//     format it.
package pipeline
