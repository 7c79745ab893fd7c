// Package config reads .kubectl-secure.yaml: which rules run, at what
// severity, which objects are exempt and why, which image registries are
// allowed and which Kubernetes version is targeted. Decoding is strict:
// unknown keys and wrong types are errors naming the file and line.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/kubectl-secure/kubectl-secure/internal/engine"
	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/imagesig"
)

// FileNames are looked up, in order, in the working directory and its
// parents.
var FileNames = []string{".kubectl-secure.yaml", ".kubectl-secure.yml"}

// maxConfigSize bounds the config file; it is small by nature.
const maxConfigSize = 4 << 20

// File is the schema of the config file.
type File struct {
	// KubernetesVersion targets a Kubernetes minor version ("1.34").
	KubernetesVersion string `yaml:"kubernetesVersion"`
	// FailOn is the default for --fail-on.
	FailOn string `yaml:"failOn"`
	Rules  Rules  `yaml:"rules"`
	// Exemptions silence a rule for matching objects, with a reason.
	Exemptions []Exemption `yaml:"exemptions"`
	Images     Images      `yaml:"images"`
	// SensitiveHostPaths replaces the built-in list of host paths reported
	// as critical when mounted (see engine.Settings).
	SensitiveHostPaths []string `yaml:"sensitiveHostPaths"`
	// DangerousCapabilities replaces the built-in list of capabilities
	// reported at high severity when added.
	DangerousCapabilities []string `yaml:"dangerousCapabilities"`
	// ImageVerification is the signature policy for --verify-images.
	ImageVerification *imagesig.PolicyConfig `yaml:"imageVerification"`
	// Exclude lists gitignore-style patterns, relative to the config
	// file's directory, of paths directory walks skip (like --exclude).
	Exclude []string `yaml:"exclude"`

	// Path is where the file was read from ("" when none was found).
	Path string `yaml:"-"`
	// lines remembers where rule IDs were written, for error messages.
	ruleLines map[string]int
}

// Dir is the directory relative paths in the file are taken from (its
// own directory; "" when no file was read).
func (c *File) Dir() string {
	if c == nil || c.Path == "" {
		return ""
	}
	if abs, err := filepath.Abs(filepath.Dir(c.Path)); err == nil {
		return abs
	}
	return filepath.Dir(c.Path)
}

// Rules enables, disables and re-grades rules.
type Rules struct {
	// Disable lists rule IDs that do not run.
	Disable []string `yaml:"disable"`
	// Enable, when set, is the exhaustive list of rules that run.
	Enable []string `yaml:"enable"`
	// Severity overrides a rule's severity.
	Severity map[string]string `yaml:"severity"`
}

// Exemption silences a rule for objects matching globs.
type Exemption struct {
	Rule      string `yaml:"rule"`
	Namespace string `yaml:"namespace"`
	Kind      string `yaml:"kind"`
	Name      string `yaml:"name"`
	Reason    string `yaml:"reason"`
	line      int
}

// Images configures image rules.
type Images struct {
	// AllowedRegistries are registry (or repository) prefixes images may
	// come from, e.g. "ghcr.io/acme/".
	AllowedRegistries []string `yaml:"allowedRegistries"`
}

// Find returns the path of the config file in dir or its parents, or "".
func Find(dir string) string {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return ""
	}
	for {
		for _, n := range FileNames {
			p := filepath.Join(dir, n)
			if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
				return p
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// Load reads and validates the config file at path.
func Load(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxConfigSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading config %s: %w", path, err)
	}
	if len(data) > maxConfigSize {
		return nil, fmt.Errorf("%s: config file over %d bytes", path, maxConfigSize)
	}
	return Parse(path, data)
}

// Parse decodes config data; name is used in errors.
func Parse(name string, data []byte) (*File, error) {
	cfg := &File{Path: name}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("%s: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if len(root.Content) == 0 {
		return cfg, nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %s", name, tidyYAMLError(err))
	}
	cfg.Path = name
	cfg.ruleLines = map[string]int{}
	recordLines(&root, cfg)
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

func tidyYAMLError(err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		// Report the first problem with its line: "line 3: field foo not found in type config.File".
		msgs := make([]string, 0, len(te.Errors))
		for _, e := range te.Errors {
			msgs = append(msgs, tidyTypeError(e))
		}
		return strings.Join(msgs, "; ")
	}
	return strings.TrimPrefix(err.Error(), "yaml: ")
}

var (
	unknownField = regexp.MustCompile(`^(line \d+): field (\S+) not found in type \S+$`)
	wrongType    = regexp.MustCompile(`^(line \d+): cannot unmarshal !!(\w+) (.*?) ?into (\S+)$`)
)

// tidyTypeError rewrites yaml.v3's messages in the config's terms, without
// Go type names.
func tidyTypeError(e string) string {
	if m := unknownField.FindStringSubmatch(e); m != nil {
		return fmt.Sprintf("%s: unknown key %q", m[1], m[2])
	}
	if m := wrongType.FindStringSubmatch(e); m != nil {
		want := "a " + m[4]
		switch {
		case strings.HasPrefix(m[4], "[]"):
			want = "a list"
		case strings.HasPrefix(m[4], "map["), strings.Contains(m[4], "."):
			want = "a mapping"
		case m[4] == "string":
			want = "a string"
		}
		got := map[string]string{"str": "a string", "seq": "a list", "map": "a mapping", "int": "a number", "bool": "a boolean", "float": "a number"}[m[2]]
		if got == "" {
			got = m[2]
		}
		return fmt.Sprintf("%s: expected %s, found %s %s", m[1], want, got, m[3])
	}
	return e
}

// recordLines notes the line of each rule ID mention and each exemption.
func recordLines(root *yaml.Node, cfg *File) {
	doc := root
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		doc = doc.Content[0]
	}
	get := func(m *yaml.Node, k string) *yaml.Node {
		if m == nil || m.Kind != yaml.MappingNode {
			return nil
		}
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value == k {
				return m.Content[i+1]
			}
		}
		return nil
	}
	if doc.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(doc.Content); i += 2 {
			cfg.ruleLines["key:"+doc.Content[i].Value] = doc.Content[i].Line
		}
	}
	rules := get(doc, "rules")
	for _, k := range []string{"disable", "enable"} {
		if s := get(rules, k); s != nil {
			for _, n := range s.Content {
				cfg.ruleLines[k+":"+n.Value] = n.Line
			}
		}
	}
	if s := get(rules, "severity"); s != nil {
		for i := 0; i+1 < len(s.Content); i += 2 {
			cfg.ruleLines["severity:"+s.Content[i].Value] = s.Content[i].Line
		}
	}
	if ex := get(doc, "exemptions"); ex != nil {
		for i, n := range ex.Content {
			if i < len(cfg.Exemptions) {
				cfg.Exemptions[i].line = n.Line
			}
		}
	}
}

func (c *File) errAt(key string, line int, format string, args ...any) error {
	if line == 0 {
		line = c.ruleLines[key]
	}
	return fmt.Errorf("%s:%d: %s", c.Path, line, fmt.Sprintf(format, args...))
}

func (c *File) validate() error {
	if c.ImageVerification != nil {
		if err := c.ImageVerification.Validate(); err != nil {
			return c.errAt("key:imageVerification", 0, "imageVerification: %v", err)
		}
	}
	if c.FailOn != "" && c.FailOn != "none" {
		if _, err := finding.ParseSeverity(c.FailOn); err != nil {
			return c.errAt("key:failOn", 0, "failOn: %v", err)
		}
	}
	if c.KubernetesVersion != "" {
		if _, _, err := ParseKubernetesVersion(c.KubernetesVersion); err != nil {
			return c.errAt("key:kubernetesVersion", 0, "kubernetesVersion: %v", err)
		}
	}
	for id, s := range c.Rules.Severity {
		if _, err := finding.ParseSeverity(s); err != nil {
			return c.errAt("severity:"+id, 0, "rules.severity.%s: %v", id, err)
		}
	}
	for _, x := range c.Exemptions {
		if x.Rule == "" {
			return c.errAt("", x.line, "exemption needs a rule (use \"*\" for every rule)")
		}
		if strings.TrimSpace(x.Reason) == "" {
			return c.errAt("", x.line, "exemption for rule %q needs a reason", x.Rule)
		}
		for _, g := range []string{x.Rule, x.Namespace, x.Kind, x.Name} {
			if _, err := filepath.Match(g, ""); err != nil {
				return c.errAt("", x.line, "bad glob %q: %v", g, err)
			}
		}
	}
	return nil
}

// CheckRuleIDs reports rule IDs the config names that do not exist.
func (c *File) CheckRuleIDs(known func(string) bool) error {
	check := func(kind, id string) error {
		if !known(id) {
			return c.errAt(kind+":"+id, 0, "unknown rule %q (see `kubectl secure rules`)", id)
		}
		return nil
	}
	for _, id := range c.Rules.Disable {
		if err := check("disable", id); err != nil {
			return err
		}
	}
	for _, id := range c.Rules.Enable {
		if err := check("enable", id); err != nil {
			return err
		}
	}
	for id := range c.Rules.Severity {
		if err := check("severity", id); err != nil {
			return err
		}
	}
	for _, x := range c.Exemptions {
		if !strings.ContainsAny(x.Rule, "*?[") && !known(x.Rule) {
			return c.errAt("", x.line, "exemption names unknown rule %q", x.Rule)
		}
	}
	return nil
}

// Line returns the line of an exemption (for tests and messages).
func (x Exemption) Line() int { return x.line }

// ParseKubernetesVersion parses "1.34", "v1.34" or "1.34.2".
func ParseKubernetesVersion(s string) (major, minor int, err error) {
	major, minor, ok := engine.ParseKubernetesVersion(s)
	if !ok {
		return 0, 0, fmt.Errorf("%q is not a Kubernetes version like 1.34", s)
	}
	return major, minor, nil
}
