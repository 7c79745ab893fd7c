package githubfake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/kubectl-secure/kubectl-secure/internal/toolstest"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// OpenAPI validates request bodies against GitHub's published OpenAPI
// description (@octokit/openapi's generated/api.github.com.json): a field
// GitHub would refuse fails the request here too.
type OpenAPI struct {
	doc      map[string]any
	compiler *jsonschema.Compiler
	routes   []route

	mu      sync.Mutex
	schemas map[string]*jsonschema.Schema
}

type route struct {
	template string
	re       *regexp.Regexp
}

const docURL = "file:///api.github.com.json"

// LoadOpenAPI reads the description from path.
func LoadOpenAPI(path string) (*OpenAPI, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	m, ok := doc.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: not an OpenAPI document", path)
	}
	c := jsonschema.NewCompiler()
	// OpenAPI 3.0 schemas are JSON Schema draft 4 with extensions.
	c.DefaultDraft(jsonschema.Draft4)
	if err := c.AddResource(docURL, doc); err != nil {
		return nil, err
	}
	o := &OpenAPI{doc: m, compiler: c, schemas: map[string]*jsonschema.Schema{}}
	paths, _ := m["paths"].(map[string]any)
	for p := range paths {
		re := "^" + regexp.MustCompile(`\\\{[^}]+\\\}`).ReplaceAllString(regexp.QuoteMeta(p), `[^/]+`) + "$"
		o.routes = append(o.routes, route{template: p, re: regexp.MustCompile(re)})
	}
	return o, nil
}

// Operation returns the path template of a request path ("" when GitHub
// has no such path). Literal paths win over templated ones.
func (o *OpenAPI) Operation(path string) string {
	best := ""
	for _, r := range o.routes {
		if r.re.MatchString(path) && (best == "" || strings.Count(r.template, "{") < strings.Count(best, "{")) {
			best = r.template
		}
	}
	return best
}

// Validate checks a request: the operation must exist, and its body must
// match the operation's requestBody schema.
func (o *OpenAPI) Validate(method, path string, body []byte) error {
	tmpl := o.Operation(path)
	if tmpl == "" {
		return fmt.Errorf("%s %s: no such path in GitHub's API", method, path)
	}
	ops, _ := o.doc["paths"].(map[string]any)[tmpl].(map[string]any)
	op, ok := ops[strings.ToLower(method)].(map[string]any)
	if !ok {
		return fmt.Errorf("%s %s: GitHub's API has no %s on %s", method, path, method, tmpl)
	}
	rb, _ := op["requestBody"].(map[string]any)
	if rb == nil {
		if len(bytes.TrimSpace(body)) > 0 {
			return fmt.Errorf("%s %s: the operation takes no body", method, path)
		}
		return nil
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if req, _ := rb["required"].(bool); req {
			return fmt.Errorf("%s %s: a body is required", method, path)
		}
		return nil
	}
	s, err := o.schema(tmpl, strings.ToLower(method))
	if err != nil {
		return err
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s %s: body is not JSON: %w", method, path, err)
	}
	if err := s.Validate(v); err != nil {
		return fmt.Errorf("%s %s (%s): %v", method, path, tmpl, err)
	}
	return nil
}

func (o *OpenAPI) schema(tmpl, method string) (*jsonschema.Schema, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	key := method + " " + tmpl
	if s := o.schemas[key]; s != nil {
		return s, nil
	}
	ptr := "/paths/" + pointerToken(tmpl) + "/" + method + "/requestBody/content/application~1json/schema"
	s, err := o.compiler.Compile(docURL + "#" + (&url.URL{Fragment: ptr}).EscapedFragment())
	if err != nil {
		return nil, fmt.Errorf("compiling the request schema of %s: %w", key, err)
	}
	o.schemas[key] = s
	return s, nil
}

func pointerToken(s string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}

// marshal is json.Marshal for responses (never fails on our types).
func marshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// EnvOpenAPI names GitHub's OpenAPI description for the tests
// (mk/action.mk fetches @octokit/openapi and sets it).
const EnvOpenAPI = "KUBECTL_SECURE_OCTOKIT_OPENAPI"

var (
	loadOnce   sync.Once
	loaded     *OpenAPI
	loadErr    error
	loadedPath string
)

// OpenAPIFromEnv loads the description named by EnvOpenAPI once per test
// binary; missing, it skips the test (fails under make test or CI).
func OpenAPIFromEnv(tb testing.TB) *OpenAPI {
	tb.Helper()
	path := os.Getenv(EnvOpenAPI)
	if path == "" {
		toolstest.Missing(tb, EnvOpenAPI+" not set (run `make octokit-openapi`, or the tests through make)")
		return nil
	}
	loadOnce.Do(func() { loaded, loadErr = LoadOpenAPI(path); loadedPath = path })
	if loadErr != nil {
		tb.Fatalf("GitHub's OpenAPI description %s: %v", loadedPath, loadErr)
	}
	return loaded
}
