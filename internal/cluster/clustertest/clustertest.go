// Package clustertest runs a real kube-apiserver (with etcd) for tests:
// free loopback ports, a temporary directory, RBAC authorization, a token
// file with an admin and a limited user, and an audit log of every
// request. Without a controller manager nothing reconciles: tests create
// the objects they need (pods with owner references, statuses patched).
//
// The binaries are found through internal/toolstest (env
// KUBECTL_SECURE_KUBE_APISERVER and KUBECTL_SECURE_ETCD, built by `make
// kube-apiserver etcd`): a test skips when run by hand without them and
// fails under `make test`.
//
// One server serves a whole test package:
//
//	func TestMain(m *testing.M) { os.Exit(clustertest.Main(m)) }
//	func TestX(t *testing.T) { srv := clustertest.Shared(t); ... }
package clustertest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/kubectl-secure/kubectl-secure/internal/toolstest"
)

// Environment variables naming the binaries, and the make targets that
// build them.
const (
	EnvAPIServer = "KUBECTL_SECURE_KUBE_APISERVER"
	EnvEtcd      = "KUBECTL_SECURE_ETCD"
)

// Users in the token file. Admin is in system:masters; Limited has no
// permissions until a test binds it some (RBAC names it "limited").
const (
	AdminUser   = "admin"
	LimitedUser = "limited"
)

// Server is a running API server.
type Server struct {
	// URL is https://127.0.0.1:<port>.
	URL string
	// Dir holds certificates, keys, the token file and the logs.
	Dir string
	// AuditLog is the path of the audit log (JSON lines, level Metadata).
	AuditLog string

	tokens map[string]string
	procs  []*exec.Cmd
	logs   []*os.File
}

var shared struct {
	once sync.Once
	srv  *Server
	err  error
	dir  string
}

// Main runs the tests of a package that uses Shared, then stops the
// shared server (if a test started it).
func Main(m *testing.M) int {
	code := m.Run()
	if shared.srv != nil {
		shared.srv.Stop()
	}
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	return code
}

// Shared returns the package's server, starting it on first use. The
// package's TestMain must call Main so that it is stopped.
func Shared(t testing.TB) *Server {
	t.Helper()
	apiserver, etcd := binaries(t)
	shared.once.Do(func() {
		shared.dir, shared.err = os.MkdirTemp("", "clustertest-")
		if shared.err == nil {
			shared.srv, shared.err = start(apiserver, etcd, shared.dir)
		}
	})
	if shared.err != nil {
		t.Fatalf("starting the test API server: %v", shared.err)
	}
	return shared.srv
}

// Start runs a server of the test's own, stopped when the test ends;
// apiserverArgs are added to kube-apiserver's flags (e.g. a short
// --etcd-compaction-interval).
func Start(t testing.TB, apiserverArgs ...string) *Server {
	t.Helper()
	apiserver, etcd := binaries(t)
	s, err := start(apiserver, etcd, t.TempDir(), apiserverArgs...)
	if err != nil {
		t.Fatalf("starting the test API server: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

func binaries(t testing.TB) (apiserver, etcd string) {
	t.Helper()
	apiserver = toolstest.Path(t, EnvAPIServer, "kube-apiserver")
	etcd = toolstest.Path(t, EnvEtcd, "etcd")
	return apiserver, etcd
}

const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
`

func start(apiserver, etcd, dir string, extra ...string) (s *Server, err error) {
	s = &Server{Dir: dir, AuditLog: filepath.Join(dir, "audit.log"), tokens: map[string]string{}}
	defer func() {
		if err != nil {
			s.Stop()
			err = fmt.Errorf("%w%s", err, s.logTail())
		}
	}()
	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	var tokenFile strings.Builder
	for _, u := range []struct{ name, groups string }{{AdminUser, "system:masters"}, {LimitedUser, ""}} {
		tok := randomHex(16)
		s.tokens[u.name] = tok
		fmt.Fprintf(&tokenFile, "%s,%s,%s-uid,\"%s\"\n", tok, u.name, u.name, u.groups)
	}
	saKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{
		"tokens.csv":  []byte(tokenFile.String()),
		"audit.yaml":  []byte(auditPolicy),
		"sa.key":      pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(saKey)}),
		"etcd/.keep":  nil,
		"certs/.keep": nil,
	}
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return nil, err
		}
		if err := os.WriteFile(p, data, 0o600); err != nil {
			return nil, err
		}
	}
	etcdURL := fmt.Sprintf("http://127.0.0.1:%d", ports[0])
	peerURL := fmt.Sprintf("http://127.0.0.1:%d", ports[1])
	if err := s.spawn("etcd", etcd,
		"--name=test", "--data-dir="+filepath.Join(dir, "etcd", "data"),
		"--listen-client-urls="+etcdURL, "--advertise-client-urls="+etcdURL,
		"--listen-peer-urls="+peerURL, "--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=test="+peerURL, "--log-level=warn",
	); err != nil {
		return nil, err
	}
	s.URL = fmt.Sprintf("https://127.0.0.1:%d", ports[2])
	args := []string{
		"--etcd-servers=" + etcdURL,
		fmt.Sprintf("--secure-port=%d", ports[2]), "--bind-address=127.0.0.1",
		"--cert-dir=" + filepath.Join(dir, "certs"),
		"--token-auth-file=" + filepath.Join(dir, "tokens.csv"),
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file=" + filepath.Join(dir, "sa.key"),
		"--service-account-signing-key-file=" + filepath.Join(dir, "sa.key"),
		"--service-cluster-ip-range=10.96.0.0/16",
		"--disable-admission-plugins=ServiceAccount",
		"--endpoint-reconciler-type=none",
		"--allow-privileged=true",
		"--audit-policy-file=" + filepath.Join(dir, "audit.yaml"),
		"--audit-log-path=" + s.AuditLog,
		"--audit-log-mode=blocking",
	}
	if err := s.spawn("kube-apiserver", apiserver, append(args, extra...)...); err != nil {
		return nil, err
	}
	return s, s.waitReady(90 * time.Second)
}

func (s *Server) spawn(name, bin string, args ...string) error {
	logf, err := os.Create(filepath.Join(s.Dir, name+".log"))
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("starting %s: %w", name, err)
	}
	s.procs = append(s.procs, cmd)
	s.logs = append(s.logs, logf)
	return nil
}

// waitReady polls /readyz (with the admin token) until it answers 200.
func (s *Server) waitReady(timeout time.Duration) error {
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		for _, p := range s.procs {
			if p.ProcessState != nil {
				return fmt.Errorf("%s exited", p.Path)
			}
		}
		req, _ := http.NewRequest("GET", s.URL+"/readyz", nil)
		req.Header.Set("Authorization", "Bearer "+s.tokens[AdminUser])
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		time.Sleep(250 * time.Millisecond)
	}
	return fmt.Errorf("API server not ready after %s: %s", timeout, last)
}

// Stop kills the processes (API server first).
func (s *Server) Stop() {
	for i := len(s.procs) - 1; i >= 0; i-- {
		p := s.procs[i]
		if p.Process != nil {
			_ = p.Process.Kill()
			_ = p.Wait()
		}
	}
	s.procs = nil
	for _, f := range s.logs {
		f.Close()
	}
	s.logs = nil
}

// logTail returns the end of each process log, for start failures.
func (s *Server) logTail() string {
	var b strings.Builder
	for _, f := range s.logs {
		data, err := os.ReadFile(f.Name())
		if err != nil {
			continue
		}
		if len(data) > 2000 {
			data = data[len(data)-2000:]
		}
		fmt.Fprintf(&b, "\n--- %s ---\n%s", filepath.Base(f.Name()), data)
	}
	return b.String()
}

// Token returns the bearer token of a user in the token file.
func (s *Server) Token(user string) string { return s.tokens[user] }

// Config returns a rest config authenticating as user.
func (s *Server) Config(user string) *rest.Config {
	return &rest.Config{
		Host:            s.URL,
		BearerToken:     s.tokens[user],
		TLSClientConfig: rest.TLSClientConfig{Insecure: true},
		QPS:             200,
		Burst:           400,
	}
}

// Kubeconfig writes a kubeconfig whose current context authenticates as
// user (with namespace ns, may be empty) and returns its path.
func (s *Server) Kubeconfig(t testing.TB, user, ns string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "kubeconfig")
	nsLine := ""
	if ns != "" {
		nsLine = "\n    namespace: " + ns
	}
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: %s
    insecure-skip-tls-verify: true
users:
- name: %s
  user:
    token: %s
contexts:
- name: %s
  context:
    cluster: test
    user: %s%s
current-context: %s
`, s.URL, user, s.tokens[user], user, user, nsLine, user)
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	if len(ports) != n {
		return nil, errors.New("no free ports")
	}
	return ports, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
