package report

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"unicode"

	"github.com/kubectl-secure/kubectl-secure/internal/finding"
)

// SARIF constants.
const (
	sarifVersion = "2.1.0"
	sarifSchema  = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
	// InformationURI is the project home page named in SARIF output.
	InformationURI = "https://github.com/kubectl-secure/kubectl-secure"
	// FingerprintKey is the partialFingerprints key of our stable
	// fingerprint; the version lets the algorithm change without
	// clashing. v2 adds the file to v1 (the finding's own fingerprint):
	// GitHub merges results with equal fingerprints into one alert.
	FingerprintKey = "kubectl-secure/v2"
	srcRootBaseID  = "%SRCROOT%"
)

// The types below are the subset of SARIF 2.1.0 that we emit. Field order is
// the order in the output.

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool               sarifTool                   `json:"tool"`
	Invocations        []sarifInvocation           `json:"invocations"`
	OriginalURIBaseIDs map[string]sarifArtifactLoc `json:"originalUriBaseIds,omitempty"`
	ColumnKind         string                      `json:"columnKind"`
	Results            []sarifResult               `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name            string      `json:"name"`
	Version         string      `json:"version,omitempty"`
	SemanticVersion string      `json:"semanticVersion,omitempty"`
	InformationURI  string      `json:"informationUri"`
	Rules           []sarifRule `json:"rules"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifMultiText struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type sarifRule struct {
	ID                   string             `json:"id"`
	Name                 string             `json:"name,omitempty"`
	ShortDescription     sarifText          `json:"shortDescription"`
	FullDescription      sarifText          `json:"fullDescription"`
	Help                 sarifMultiText     `json:"help"`
	HelpURI              string             `json:"helpUri,omitempty"`
	DefaultConfiguration sarifConfiguration `json:"defaultConfiguration"`
	Properties           sarifRuleProps     `json:"properties"`
}

type sarifConfiguration struct {
	Level string `json:"level"`
}

type sarifRuleProps struct {
	Tags             []string `json:"tags"`
	Precision        string   `json:"precision"`
	SecuritySeverity string   `json:"security-severity"`
	Severity         string   `json:"severity,omitempty"`
	Category         string   `json:"category,omitempty"`
}

type sarifInvocation struct {
	ExecutionSuccessful        bool                `json:"executionSuccessful"`
	ToolExecutionNotifications []sarifNotification `json:"toolExecutionNotifications,omitempty"`
}

type sarifNotification struct {
	Level     string          `json:"level"`
	Message   sarifText       `json:"message"`
	Locations []sarifLocation `json:"locations,omitempty"`
}

type sarifResult struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Level               string            `json:"level"`
	Message             sarifText         `json:"message"`
	Locations           []sarifLocation   `json:"locations"`
	PartialFingerprints map[string]string `json:"partialFingerprints,omitempty"`
	Properties          sarifResultProps  `json:"properties"`
}

type sarifResultProps struct {
	Severity    string `json:"severity"`
	Object      string `json:"object,omitempty"`
	Container   string `json:"container,omitempty"`
	Path        string `json:"path,omitempty"`
	Remediation string `json:"remediation,omitempty"`
	Origin      string `json:"origin,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation *sarifPhysicalLocation `json:"physicalLocation,omitempty"`
	LogicalLocations []sarifLogicalLocation `json:"logicalLocations,omitempty"`
}

type sarifPhysicalLocation struct {
	ArtifactLocation sarifArtifactLoc `json:"artifactLocation"`
	Region           *sarifRegion     `json:"region,omitempty"`
}

type sarifArtifactLoc struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId,omitempty"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn,omitempty"`
	EndLine     int `json:"endLine,omitempty"`
	EndColumn   int `json:"endColumn,omitempty"`
}

type sarifLogicalLocation struct {
	Name               string `json:"name"`
	FullyQualifiedName string `json:"fullyQualifiedName,omitempty"`
	Kind               string `json:"kind,omitempty"`
}

func writeSARIF(w io.Writer, res *finding.Result, opts Options) error {
	fs := sortedFindings(res.Findings)
	rules, index := sarifRules(res.Rules, fs)
	baseID := ""
	run := sarifRun{
		Tool: sarifTool{Driver: sarifDriver{
			Name:            toolName(res),
			Version:         res.ToolVersion,
			SemanticVersion: semanticVersion(res.ToolVersion),
			InformationURI:  InformationURI,
			Rules:           rules,
		}},
		ColumnKind: "unicodeCodePoints",
		Results:    make([]sarifResult, 0, len(fs)),
	}
	if opts.SrcRoot != "" {
		root, err := srcRootURI(opts.SrcRoot)
		if err != nil {
			return err
		}
		baseID = srcRootBaseID
		run.OriginalURIBaseIDs = map[string]sarifArtifactLoc{srcRootBaseID: {URI: root}}
	}

	cwd := workingDir()
	inv := sarifInvocation{ExecutionSuccessful: len(res.Summary.Errors) == 0}
	for _, e := range sortedErrors(res.Summary.Errors) {
		n := sarifNotification{Level: "error", Message: sarifText{Text: nonEmpty(e.Message, "input error")}}
		if file := checkoutPath(e.File, cwd); file != "" {
			pl := &sarifPhysicalLocation{ArtifactLocation: artifactLocation(file, baseID)}
			if e.Line > 0 {
				pl.Region = &sarifRegion{StartLine: e.Line}
			}
			n.Locations = []sarifLocation{{PhysicalLocation: pl}}
		}
		inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, n)
	}
	inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, notEvaluatedNotifications(res.Summary)...)
	run.Invocations = []sarifInvocation{inv}

	// Results are encoded one at a time into the document: a large run is
	// never held twice in memory.
	run.Results = []sarifResult{}
	return spliceArray(w, sarifLog{Schema: sarifSchema, Version: sarifVersion, Runs: []sarifRun{run}}, `"results": []`, len(fs),
		encodedItems(func(i int) any { return sarifResultFor(&fs[i], index, baseID, cwd) }))
}

func sarifResultFor(f *finding.Finding, index map[string]int, baseID, cwd string) *sarifResult {
	r := &sarifResult{
		RuleID:    f.RuleID,
		RuleIndex: index[f.RuleID],
		Level:     sarifLevel(f.Severity),
		Message:   sarifText{Text: nonEmpty(f.Message, f.RuleID)},
		Properties: sarifResultProps{
			Severity:    f.Severity.String(),
			Container:   f.Container,
			Path:        f.Path,
			Remediation: f.Remediation,
			Origin:      f.Origin,
		},
	}
	loc := sarifLocation{LogicalLocations: logicalLocations(*f)}
	if len(loc.LogicalLocations) > 0 {
		r.Properties.Object = f.Object.String()
	}
	if file := checkoutPath(f.Location.File, cwd); file != "" {
		loc.PhysicalLocation = &sarifPhysicalLocation{
			ArtifactLocation: artifactLocation(file, baseID),
			Region:           regionFor(f.Location),
		}
	} else if len(loc.LogicalLocations) > 0 {
		// A live cluster's object: a stable URI per object (cluster.go).
		loc.PhysicalLocation = &sarifPhysicalLocation{ArtifactLocation: sarifArtifactLoc{URI: objectURI(f.Object)}}
	}
	r.Locations = []sarifLocation{loc}
	if f.Fingerprint != "" {
		uri := ""
		if loc.PhysicalLocation != nil {
			uri = loc.PhysicalLocation.ArtifactLocation.URI
		}
		r.PartialFingerprints = map[string]string{FingerprintKey: sarifFingerprint(f.Fingerprint, uri)}
	}
	return r
}

// sarifFingerprint is a result's partial fingerprint: the finding's own
// fingerprint (rule, object, field; no line, so it survives edits) and
// the file it is in, as the result names it (relative to the working
// directory or the source root). Without the file, identically named
// objects in two files — apps/a and apps/b each with a Deployment web —
// would be one alert. Baselines keep the finding's own fingerprint.
func sarifFingerprint(fp, uri string) string {
	if uri == "" {
		return fp
	}
	h := sha256.Sum256([]byte(fp + "\x00" + uri))
	return hex.EncodeToString(h[:16])
}

// sarifRules describes every documented rule, in the given order, followed
// by a minimal descriptor for any rule that has findings but no
// documentation, so that every result's ruleIndex is valid.
func sarifRules(infos []finding.RuleInfo, fs []finding.Finding) ([]sarifRule, map[string]int) {
	index := make(map[string]int, len(infos))
	rules := make([]sarifRule, 0, len(infos))
	for _, ri := range infos {
		if _, dup := index[ri.ID]; dup {
			continue
		}
		index[ri.ID] = len(rules)
		rules = append(rules, sarifRuleFor(ri))
	}
	for _, f := range fs {
		if _, ok := index[f.RuleID]; ok {
			continue
		}
		index[f.RuleID] = len(rules)
		rules = append(rules, sarifRuleFor(finding.RuleInfo{ID: f.RuleID, Severity: f.Severity}))
	}
	return rules, index
}

func sarifRuleFor(ri finding.RuleInfo) sarifRule {
	title := nonEmpty(ri.Title, ri.ID)
	r := sarifRule{
		ID:                   ri.ID,
		Name:                 pascalCase(title),
		ShortDescription:     sarifText{Text: title},
		FullDescription:      sarifText{Text: nonEmpty(strings.TrimSpace(ri.Rationale), title)},
		Help:                 sarifMultiText{Text: ruleHelpText(ri), Markdown: ruleHelpMarkdown(ri)},
		HelpURI:              firstURL(ri.References),
		DefaultConfiguration: sarifConfiguration{Level: sarifLevel(ri.Severity)},
		Properties: sarifRuleProps{
			Tags:             ruleTags(ri),
			Precision:        "high",
			SecuritySeverity: ri.Severity.SecuritySeverity(),
			Category:         ri.Category,
		},
	}
	if ri.Severity != finding.SeverityUnknown {
		r.Properties.Severity = ri.Severity.String()
	}
	return r
}

func ruleTags(ri finding.RuleInfo) []string {
	tags := []string{"security"}
	seen := map[string]bool{"security": true}
	add := func(t string) {
		t = strings.TrimSpace(t)
		if t != "" && !seen[t] {
			seen[t] = true
			tags = append(tags, t)
		}
	}
	add(ri.Category)
	for _, t := range ri.Tags {
		add(t)
	}
	return tags
}

// ruleHelpText is the plain-text help: rationale, remediation, example and
// references.
func ruleHelpText(ri finding.RuleInfo) string {
	var parts []string
	if s := strings.TrimSpace(ri.Rationale); s != "" {
		parts = append(parts, s)
	}
	if s := strings.TrimSpace(ri.Remediation); s != "" {
		parts = append(parts, "Remediation: "+s)
	}
	if s := strings.TrimRight(ri.Example, "\n "); s != "" {
		parts = append(parts, "Example:\n"+indentBlock(s, "  "))
	}
	if len(ri.References) > 0 {
		var b strings.Builder
		b.WriteString("References:")
		for _, r := range ri.References {
			b.WriteString("\n- " + r)
		}
		parts = append(parts, b.String())
	}
	if len(parts) == 0 {
		return nonEmpty(ri.Title, ri.ID)
	}
	return strings.Join(parts, "\n\n")
}

// ruleHelpMarkdown is the help GitHub code scanning renders beside an alert.
func ruleHelpMarkdown(ri finding.RuleInfo) string {
	var b strings.Builder
	if ri.Title != "" {
		fmt.Fprintf(&b, "**%s** ", escapeMarkdown(ri.Title))
	}
	b.WriteString(codeSpan(ri.ID))
	if ri.Severity != finding.SeverityUnknown {
		fmt.Fprintf(&b, " (%s)", ri.Severity)
	}
	if s := strings.TrimSpace(ri.Rationale); s != "" {
		b.WriteString("\n\n" + s)
	}
	if s := strings.TrimSpace(ri.Remediation); s != "" {
		b.WriteString("\n\n### Remediation\n\n" + s)
	}
	if s := strings.TrimRight(ri.Example, "\n "); s != "" {
		b.WriteString("\n\n### Example\n\n" + fencedBlock(s, "yaml"))
	}
	if len(ri.References) > 0 {
		b.WriteString("\n\n### References\n")
		for _, r := range ri.References {
			b.WriteString("\n- " + markdownLink(r))
		}
	}
	return b.String()
}

func indentBlock(s, indent string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = indent + l
		}
	}
	return strings.Join(lines, "\n")
}

// fencedBlock wraps s in a code fence longer than any backtick run inside it.
func fencedBlock(s, lang string) string {
	fence := "```"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	return fence + lang + "\n" + s + "\n" + fence
}

// markdownLink renders a reference as a link when it is a URL and as
// escaped text otherwise.
func markdownLink(ref string) string {
	if isURL(ref) {
		// A CommonMark autolink; it may not contain spaces, < or >.
		return "<" + strings.NewReplacer(" ", "%20", "<", "%3C", ">", "%3E").Replace(ref) + ">"
	}
	return escapeMarkdown(ref)
}

func isURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

func firstURL(refs []string) string {
	for _, r := range refs {
		if isURL(r) {
			return r
		}
	}
	return ""
}

// sarifLevel maps severities to SARIF levels the way GitHub code scanning
// expects: critical and high are errors, medium warnings, low notes.
func sarifLevel(s finding.Severity) string {
	switch s {
	case finding.Critical, finding.High:
		return "error"
	case finding.Low:
		return "note"
	default:
		return "warning"
	}
}

var semverRE = regexp.MustCompile(`^v?((0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?)$`)

// semanticVersion returns the Semantic Versioning 2.0 form of version
// ("v1.2.3" → "1.2.3"), or "" when it is not one (e.g. "dev").
func semanticVersion(version string) string {
	m := semverRE.FindStringSubmatch(version)
	if m == nil {
		return ""
	}
	return m[1]
}

// pascalCase turns a title into a SARIF rule name: "Privileged container" →
// "PrivilegedContainer", "hostPath volume" → "HostPathVolume".
func pascalCase(s string) string {
	var b strings.Builder
	upper := true
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			upper = true
			continue
		}
		if upper {
			r = unicode.ToUpper(r)
			upper = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

func nonEmpty(s, fallback string) string {
	if strings.TrimSpace(s) == "" {
		return fallback
	}
	return s
}

// regionFor converts a location to a SARIF region that is never empty: a
// missing start column becomes 1, a missing end line the start line, and a
// missing (or not-after-start) end column on a one-line region start+1.
func regionFor(l finding.Location) *sarifRegion {
	if l.Line <= 0 {
		return nil
	}
	r := &sarifRegion{StartLine: l.Line, StartColumn: max(l.Column, 1), EndLine: max(l.EndLine, l.Line)}
	switch {
	case r.EndLine > r.StartLine:
		if l.EndColumn > 0 {
			r.EndColumn = l.EndColumn
		}
	case l.EndColumn > r.StartColumn:
		r.EndColumn = l.EndColumn
	default:
		r.EndColumn = r.StartColumn + 1
	}
	return r
}

func logicalLocations(f finding.Finding) []sarifLogicalLocation {
	if f.Object.Kind == "" && f.Object.Name == "" {
		return nil
	}
	fqn := f.Object.Kind
	if f.Object.Namespace != "" {
		fqn += "/" + f.Object.Namespace
	}
	fqn += "/" + nonEmpty(f.Object.Name, "<unnamed>")
	locs := []sarifLogicalLocation{{Name: nonEmpty(f.Object.Name, "<unnamed>"), FullyQualifiedName: fqn, Kind: "resource"}}
	if f.Container != "" {
		locs = append(locs, sarifLogicalLocation{Name: f.Container, FullyQualifiedName: fqn + "/" + f.Container, Kind: "member"})
	}
	return locs
}

// artifactLocation turns a finding path into a SARIF artifact location:
// relative paths become percent-encoded relative URIs (against %SRCROOT%
// when baseID is set), absolute paths file: URIs.
func artifactLocation(file, baseID string) sarifArtifactLoc {
	p := strings.ReplaceAll(filepath.ToSlash(file), `\`, "/")
	if abs, ok := absoluteFileURI(p); ok {
		return sarifArtifactLoc{URI: abs}
	}
	p = strings.TrimPrefix(p, "./")
	return sarifArtifactLoc{URI: escapeURIPath(p), URIBaseID: baseID}
}

func absoluteFileURI(p string) (string, bool) {
	switch {
	case strings.HasPrefix(p, "/"):
		return "file://" + escapeURIPath(p), true
	case len(p) >= 3 && p[1] == ':' && p[2] == '/' && (p[0]|0x20) >= 'a' && (p[0]|0x20) <= 'z':
		// Windows drive letter: C:/x → file:///C:/x (the colon is kept).
		return "file:///" + p[:2] + escapeURIPath(p[2:]), true
	}
	return "", false
}

// srcRootURI turns Options.SrcRoot into an absolute URI ending in "/", as
// SARIF requires for originalUriBaseIds.
func srcRootURI(root string) (string, error) {
	if u, err := url.Parse(root); err == nil && len(u.Scheme) > 1 {
		if !strings.HasSuffix(root, "/") {
			root += "/"
		}
		return root, nil
	}
	p := filepath.ToSlash(root)
	if _, ok := absoluteFileURI(p); !ok {
		abs, err := filepath.Abs(root)
		if err != nil {
			return "", fmt.Errorf("sarif: source root %q: %w", root, err)
		}
		p = filepath.ToSlash(abs)
	}
	uri, _ := absoluteFileURI(p)
	if !strings.HasSuffix(uri, "/") {
		uri += "/"
	}
	return uri, nil
}

// escapeURIPath percent-encodes everything in a slash-separated path but the
// RFC 3986 unreserved characters, sub-delimiters and "@", so the result is a
// valid URI reference whose first segment can never be mistaken for a scheme.
func escapeURIPath(p string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			strings.IndexByte("-._~!$&'()*+,;=@/", c) >= 0:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}
