package plugin

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/kubectl-secure/kubectl-secure/internal/cluster/clustertest"
)

func TestMain(m *testing.M) { os.Exit(clustertest.Main(m)) }

// digest returns a fake but well-formed image digest.
func digest(seed string) string {
	return "sha256:" + strings.Repeat(fmt.Sprintf("%x", seed[0]), 32)[:64]
}

var seedOnce sync.Once

// seedScanCluster creates insecure workloads across two namespaces, as a
// controller manager would have left them: a Deployment with its
// ReplicaSet and pods (one running an older image, one with no digest in
// its status), a DaemonSet on the host's namespaces with its pods, and a
// bare pod. A user "limited" may list pods in scan-shop and nothing else.
func seedScanCluster(t *testing.T) *clustertest.Server {
	t.Helper()
	srv := clustertest.Shared(t)
	seedOnce.Do(func() {
		objs := srv.Create(t, `
apiVersion: v1
kind: Namespace
metadata: {name: scan-shop}
---
apiVersion: v1
kind: Namespace
metadata: {name: scan-ops}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: scan-shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: app
        image: nginx:1.27
        securityContext: {privileged: true}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: scan-ops}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      hostNetwork: true
      hostPID: true
      containers:
      - name: agent
        image: registry.example/agent:2.0
        resources: {limits: {cpu: 100m, memory: 64Mi}}
        volumeMounts: [{name: sock, mountPath: /var/run/docker.sock}]
      volumes:
      - name: sock
        hostPath: {path: /var/run/docker.sock}
---
apiVersion: v1
kind: Secret
metadata:
  name: ci-token
  namespace: scan-shop
  annotations: {kubernetes.io/service-account.name: ci}
type: kubernetes.io/service-account-token
---
apiVersion: v1
kind: Secret
metadata: {name: db, namespace: scan-shop}
stringData: {password: hunter2-never-read}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pod-reader, namespace: scan-shop}
rules:
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: limited-pod-reader, namespace: scan-shop}
subjects:
- {kind: User, name: limited, apiGroup: rbac.authorization.k8s.io}
roleRef: {kind: Role, name: pod-reader, apiGroup: rbac.authorization.k8s.io}
`)
		deploy, ds := objs[2], objs[3]
		rs := srv.Create(t, fmt.Sprintf(`
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web-5d4f8
  namespace: scan-shop
  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: %s, controller: true}]
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: app
        image: nginx:1.27
        securityContext: {privileged: true}
`, deploy.GetUID()))[0]
		var pods strings.Builder
		pod := func(ns, name, ownerKind, ownerName, ownerUID, container, spec, image, imageID string) {
			owner := ""
			if ownerUID != "" {
				owner = fmt.Sprintf("\n  ownerReferences: [{apiVersion: apps/v1, kind: %s, name: %s, uid: %s, controller: true}]", ownerKind, ownerName, ownerUID)
			}
			fmt.Fprintf(&pods, `---
apiVersion: v1
kind: Pod
metadata:
  name: %s
  namespace: %s%s
spec:
%s
status:
  phase: Running
  containerStatuses:
  - {name: %s, image: %s, imageID: "%s", ready: true, restartCount: 0, state: {running: {startedAt: "2026-01-01T00:00:00Z"}}}
`, name, ns, owner, spec, container, image, imageID)
		}
		webSpec := "  containers:\n  - name: app\n    image: %s\n    securityContext: {privileged: true}"
		pod("scan-shop", "web-5d4f8-a", "ReplicaSet", "web-5d4f8", string(rs.GetUID()), "app", fmt.Sprintf(webSpec, "nginx:1.27"), "nginx:1.27", "docker-pullable://nginx@"+digest("a"))
		pod("scan-shop", "web-5d4f8-b", "ReplicaSet", "web-5d4f8", string(rs.GetUID()), "app", fmt.Sprintf(webSpec, "nginx:1.27"), "nginx:1.27", "")
		pod("scan-shop", "web-5d4f8-c", "ReplicaSet", "web-5d4f8", string(rs.GetUID()), "app", fmt.Sprintf(webSpec, "nginx:1.26"), "nginx:1.26", "nginx@"+digest("c"))
		agentSpec := "  hostNetwork: true\n  hostPID: true\n  containers:\n  - name: agent\n    image: registry.example/agent:2.0\n    resources: {limits: {cpu: 100m, memory: 64Mi}}"
		pod("scan-ops", "agent-x1", "DaemonSet", "agent", string(ds.GetUID()), "agent", agentSpec, "registry.example/agent:2.0", "registry.example/agent@"+digest("x"))
		pod("scan-ops", "agent-x2", "DaemonSet", "agent", string(ds.GetUID()), "agent", agentSpec, "registry.example/agent:2.0", "registry.example/agent@"+digest("x"))
		pod("scan-ops", "debug", "", "", "", "shell", "  hostIPC: true\n  containers:\n  - name: shell\n    image: busybox:1.36", "busybox:1.36", "busybox@"+digest("d"))
		srv.Create(t, pods.String())
	})
	return srv
}

type scanReport struct {
	Summary struct {
		Objects      int `json:"objects"`
		NotEvaluated []struct {
			Resource  string   `json:"resource"`
			Namespace string   `json:"namespace"`
			Reason    string   `json:"reason"`
			Rules     []string `json:"rules"`
		} `json:"notEvaluated"`
	} `json:"summary"`
	Findings []struct {
		RuleID   string `json:"ruleId"`
		Message  string `json:"message"`
		Location struct {
			File string `json:"file"`
		} `json:"location"`
		Object struct {
			Kind, Namespace, Name string
		} `json:"object"`
		Path string `json:"path"`
	} `json:"findings"`
}

// scanJSON runs scan -o json, checks the report against the shipped
// schema and decodes it.
func scanJSON(t *testing.T, args ...string) (scanReport, string, int) {
	t.Helper()
	out, errOut, code := run(t, "", "", nil, append([]string{"scan", "-o", "json", "--no-config"}, args...)...)
	validateReportSchema(t, []byte(out))
	var rep scanReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%s\nstderr: %s", err, out, errOut)
	}
	return rep, errOut, code
}

func validateReportSchema(t *testing.T, doc []byte) {
	t.Helper()
	validateSchema(t, "kubectl-secure-report.schema.json", doc)
}

// validateSchema checks doc against a schema shipped in testdata/schemas.
func validateSchema(t *testing.T, schema string, doc []byte) {
	t.Helper()
	p := filepath.Join("..", "testdata", "schemas", schema)
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	schemaDoc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("file:///schemas/"+schema, schemaDoc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("file:///schemas/" + schema)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(string(doc)))
	if err != nil {
		t.Fatalf("report: %v", err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Errorf("report does not match %s: %v", schema, err)
	}
}

// Insecure workloads across namespaces are reported once, on their
// owners, with their running replicas; owned pods and ReplicaSets are not
// reported; a bare pod is; running images without a digest or other than
// the spec's are findings.
func TestScanReportsOnOwners(t *testing.T) {
	srv := seedScanCluster(t)
	kc := srv.Kubeconfig(t, clustertest.AdminUser, "")
	rep, errOut, code := scanJSON(t, "--kubeconfig", kc)
	if code != ExitCodeFindings {
		t.Fatalf("exit %d, want 1; stderr: %s", code, errOut)
	}
	got := map[string][]string{}
	for _, f := range rep.Findings {
		if f.Location.File != "" {
			t.Errorf("%s: a cluster finding has file %q", f.RuleID, f.Location.File)
		}
		if !strings.HasPrefix(f.Object.Namespace, "scan-") {
			continue
		}
		key := f.Object.Kind + "/" + f.Object.Namespace + "/" + f.Object.Name
		got[key] = append(got[key], f.RuleID)
		if f.Object.Kind == "ReplicaSet" || (f.Object.Kind == "Pod" && f.Object.Name != "debug") {
			t.Errorf("%s reported on %s: owned objects are reported on their owner", f.RuleID, key)
		}
		if key == "Deployment/scan-shop/web" && f.RuleID == "privileged-container" && !strings.Contains(f.Message, "(3 running replicas)") {
			t.Errorf("owner finding does not say how many replicas run: %q", f.Message)
		}
	}
	for key, rules := range map[string][]string{
		"Deployment/scan-shop/web":  {"privileged-container", "memory-limit-missing", "running-image-drift", "running-image-no-digest"},
		"DaemonSet/scan-ops/agent":  {"host-network", "host-pid", "host-path-sensitive"},
		"Pod/scan-ops/debug":        {"host-ipc", "memory-limit-missing"},
		"Secret/scan-shop/ci-token": {"legacy-service-account-token"},
	} {
		for _, r := range rules {
			if !slices.Contains(got[key], r) {
				t.Errorf("%s: missing %s (got %v)", key, r, got[key])
			}
		}
	}
	if len(rep.Summary.NotEvaluated) != 0 {
		t.Errorf("admin scan: not evaluated %+v", rep.Summary.NotEvaluated)
	}
	if rules := got["Secret/scan-shop/db"]; len(rules) != 0 {
		t.Errorf("an Opaque Secret was read: %v", rules)
	}
	if errOut != "" {
		t.Errorf("progress or diagnostics on a non-terminal stderr: %q", errOut)
	}

	// SARIF: a logical location and a stable URI per object.
	sarif, _, _ := run(t, "", "", nil, "scan", "--no-config", "--kubeconfig", kc, "-n", "scan-shop", "-o", "sarif")
	validateSchema(t, "sarif-schema-2.1.0.json", []byte(sarif))
	for _, want := range []string{`"uri": "k8s:apps/Deployment/scan-shop/web"`, `"fullyQualifiedName": "Deployment/scan-shop/web"`} {
		if !strings.Contains(sarif, want) {
			t.Errorf("SARIF lacks %s", want)
		}
	}

	// The text report places findings at the object and field path.
	out, _, _ := run(t, "", "", nil, "scan", "--no-config", "--kubeconfig", kc, "-n", "scan-shop")
	if !strings.Contains(out, "Deployment/scan-shop/web spec.template.spec.containers[app].securityContext.privileged: critical") {
		t.Errorf("text report:\n%s", out)
	}
	if strings.Contains(out, "scan-ops") {
		t.Errorf("-n scan-shop reported another namespace:\n%s", out)
	}
}

// A user who may list pods in one namespace only: everything else is
// "not evaluated" in every format, with the rules that did not run, and
// a scan that could read nothing exits 2 without claiming "no findings".
func TestScanLimitedUserNotEvaluated(t *testing.T) {
	srv := seedScanCluster(t)
	kc := srv.Kubeconfig(t, clustertest.LimitedUser, "scan-shop")
	rep, errOut, code := scanJSON(t, "--kubeconfig", kc)
	if code != ExitCodeFindings {
		t.Fatalf("exit %d, want 1 (pods of scan-shop are privileged); stderr: %s", code, errOut)
	}
	ne := map[string][]string{}
	for _, n := range rep.Summary.NotEvaluated {
		ne[n.Resource+"@"+n.Namespace] = n.Rules
		if !strings.Contains(n.Reason, "forbidden") {
			t.Errorf("%s@%s: reason %q", n.Resource, n.Namespace, n.Reason)
		}
	}
	for _, k := range []string{"deployments.apps@scan-shop", "pods@*", "clusterroles.rbac.authorization.k8s.io@", "nodes/proxy@"} {
		if _, ok := ne[k]; !ok {
			t.Errorf("not evaluated: want %s among %v", k, ne)
		}
	}
	if rules := ne["deployments.apps@scan-shop"]; !slices.Contains(rules, "privileged-container") {
		t.Errorf("deployments not read, but privileged-container not listed as not run: %v", rules)
	}
	// The pods it could read are checked (their owner could not be read).
	found := false
	for _, f := range rep.Findings {
		found = found || (f.RuleID == "privileged-container" && f.Object.Kind == "Pod" && f.Object.Namespace == "scan-shop")
	}
	if !found {
		t.Errorf("the readable pods were not checked: %+v", rep.Findings)
	}
	if code := func() int { _, _, c := scanJSON(t, "--kubeconfig", kc, "--require-full-coverage"); return c }(); code != ExitCodeError {
		t.Errorf("--require-full-coverage with scopes not read: exit %d, want 2", code)
	}

	// Nothing readable: exit 2, and no format says there is nothing wrong.
	nothing := srv.Kubeconfig(t, clustertest.LimitedUser, "scan-ops")
	for _, format := range []string{"text", "markdown", "sarif"} {
		out, errOut, code := run(t, "", "", nil, "scan", "--no-config", "--kubeconfig", nothing, "-o", format)
		if code != ExitCodeError || !strings.Contains(errOut, "nothing could be read") {
			t.Errorf("%s: exit %d, stderr %q; want 2, nothing could be read", format, code, errOut)
		}
		if format == "sarif" {
			validateSchema(t, "sarif-schema-2.1.0.json", []byte(out))
		}
		if !strings.Contains(strings.ToLower(out), "not evaluated") {
			t.Errorf("%s report does not say what was not evaluated:\n%s", format, out)
		}
		if strings.Contains(out, "✅") {
			t.Errorf("%s report claims success:\n%s", format, out)
		}
	}
}

// Every request a scan makes is a read (get, list) or a question about
// the caller's own access: the API server's audit log proves it.
func TestScanReadOnlyAuditLog(t *testing.T) {
	srv := seedScanCluster(t)
	for _, user := range []string{clustertest.AdminUser, clustertest.LimitedUser} {
		out, _, _ := run(t, "", "", nil, "scan", "--no-config", "-q", "-o", "json", "--kubeconfig", srv.Kubeconfig(t, user, "scan-shop"))
		if strings.Contains(out, "hunter2") {
			t.Errorf("secret data in the report")
		}
	}
	f, err := os.Open(srv.AuditLog)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	verbs := map[string]int{}
	for sc.Scan() {
		var ev struct {
			Verb       string `json:"verb"`
			UserAgent  string `json:"userAgent"`
			RequestURI string `json:"requestURI"`
			ObjectRef  struct {
				Resource string `json:"resource"`
			} `json:"objectRef"`
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(ev.UserAgent, "kubectl-secure") {
			continue
		}
		verbs[ev.Verb]++
		switch {
		case ev.Verb == "list" && ev.ObjectRef.Resource == "secrets" && !strings.Contains(ev.RequestURI, "fieldSelector=type%3Dkubernetes.io%2Fservice-account-token"):
			t.Errorf("secrets listed beyond legacy tokens: %s", ev.RequestURI)
		case ev.Verb == "get" && ev.ObjectRef.Resource == "secrets":
			t.Errorf("a secret was read: %s", ev.RequestURI)
		case ev.Verb == "get" || ev.Verb == "list":
		case ev.Verb == "create" && (ev.ObjectRef.Resource == "selfsubjectaccessreviews" || ev.ObjectRef.Resource == "selfsubjectrulesreviews"):
		default:
			t.Errorf("scan made a %s request: %s", ev.Verb, ev.RequestURI)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if verbs["list"] == 0 || verbs["create"] == 0 {
		t.Errorf("the audit log shows no scan requests (%v): is it being written?", verbs)
	}
}

// Shell completion offers the kubeconfig's contexts and the cluster's
// namespaces.
func TestScanCompletion(t *testing.T) {
	srv := seedScanCluster(t)
	kc := srv.Kubeconfig(t, clustertest.AdminUser, "")
	out, _, _ := run(t, "", "", nil, "__complete", "scan", "--kubeconfig", kc, "--context", "")
	if !strings.Contains(out, clustertest.AdminUser+"\n") {
		t.Errorf("context completion:\n%s", out)
	}
	out, _, _ = run(t, "", "", nil, "__complete", "scan", "--kubeconfig", kc, "-n", "scan-")
	if !strings.Contains(out, "scan-shop\n") || !strings.Contains(out, "scan-ops\n") || strings.Contains(out, "default\n") {
		t.Errorf("namespace completion:\n%s", out)
	}
}
