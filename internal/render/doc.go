// Package render renders kustomize overlays and Helm charts in-process and
// maps every field of a rendered object back to the line of the user's own
// source file that wrote it: the base resource, the overlay patch, the
// kustomization transform, or the Helm template line (naming the values
// key when the value came from a values file). Findings therefore never
// point into a rendered stream.
//
// Rendering is safe on untrusted input: kustomize plugins (exec,
// container, Go) and the helm-binary chart generator are refused, remote
// bases are refused unless allowed, reads are confined to the repository
// (kustomize) or the chart directory (Helm), Helm's lookup returns nothing
// and DNS is off, and every render is bounded in time and size.
package render
