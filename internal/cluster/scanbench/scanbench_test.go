// Package scanbench measures `kubectl secure scan` against `kubectl get
// … -A -o json` on a real API server holding 10,000 pods (owned by 1,000
// ReplicaSets of 1,000 Deployments) plus namespaces and RBAC. It is a
// benchmark, not a timed test: it runs only under `make bench-scan`
// (KUBECTL_SECURE_BENCH_SCAN=1) and prints the figures the README quotes.
package scanbench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-secure/kubectl-secure/internal/cluster/clustertest"
	"github.com/kubectl-secure/kubectl-secure/internal/toolstest"
)

// Shape of the seeded cluster; override with KUBECTL_SECURE_BENCH_PODS.
const (
	namespaces     = 100
	podsPerReplica = 10
)

func TestBenchScan(t *testing.T) {
	if os.Getenv("KUBECTL_SECURE_BENCH_SCAN") == "" {
		t.Skip("benchmark: run `make bench-scan`")
	}
	pods := 10000
	if v := os.Getenv("KUBECTL_SECURE_BENCH_PODS"); v != "" {
		fmt.Sscan(v, &pods)
	}
	kubectl := toolstest.Path(t, "KUBECTL_SECURE_KUBECTL", "kubectl", "kubectl")
	bin := os.Getenv("KUBECTL_SECURE_BIN")
	if bin == "" {
		bin = filepath.Join(t.TempDir(), "kubectl-secure")
		build := exec.Command("go", "build", "-o", bin, "github.com/kubectl-secure/kubectl-secure/cmd/kubectl-secure")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			t.Fatal(err)
		}
	}
	srv := clustertest.Start(t)
	start := time.Now()
	if err := seed(context.Background(), srv, pods); err != nil {
		t.Fatal(err)
	}
	t.Logf("seeded %d pods, %d ReplicaSets and Deployments in %d namespaces in %s", pods, pods/podsPerReplica, namespaces, time.Since(start).Round(time.Second))
	kc := srv.Kubeconfig(t, clustertest.AdminUser, "")

	kinds := "namespaces,pods,deployments,replicasets,statefulsets,daemonsets,jobs,cronjobs,replicationcontrollers,services,ingresses,serviceaccounts,networkpolicies,resourcequotas,limitranges,roles,rolebindings,clusterroles,clusterrolebindings,validatingwebhookconfigurations,mutatingwebhookconfigurations"
	runs := map[string][]string{
		"kubectl get -A -o json": {kubectl, "--kubeconfig", kc, "get", kinds, "-A", "-o", "json"},
		"kubectl secure scan":    {bin, "scan", "--kubeconfig", kc, "-q", "-o", "json"},
	}
	results := map[string]measure{}
	for _, name := range []string{"kubectl get -A -o json", "kubectl secure scan"} {
		var ms []measure
		for i := 0; i < 3; i++ {
			m, err := run(runs[name])
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			ms = append(ms, m)
		}
		slices.SortFunc(ms, func(a, b measure) int { return int(a.wall - b.wall) })
		results[name] = ms[1]
		t.Logf("%-24s median wall %6.2fs  peak RSS %5d MB  output %d MB", name, ms[1].wall.Seconds(), ms[1].maxRSS>>20, ms[1].out>>20)
	}
	ratio := results["kubectl secure scan"].wall.Seconds() / results["kubectl get -A -o json"].wall.Seconds()
	t.Logf("scan / kubectl get: %.2f× time (target ≤ 1.3×); scan peak RSS %d MB (target < 250 MB)", ratio, results["kubectl secure scan"].maxRSS>>20)
}

type measure struct {
	wall   time.Duration
	maxRSS int64 // bytes
	out    int64
}

// run runs a command with its output counted and discarded, and returns
// its wall time and peak resident memory (from wait4's rusage).
func run(argv []string) (measure, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cw := &countWriter{}
	cmd.Stdout = cw
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 1 {
		err = nil // scan: findings
	}
	if err != nil {
		return measure{}, err
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return measure{wall: wall, maxRSS: ru.Maxrss << 10, out: cw.n}, nil
}

type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

// seed creates the cluster the way controllers would have left it.
func seed(ctx context.Context, srv *clustertest.Server, pods int) error {
	cs, err := kubernetes.NewForConfig(srv.Config(clustertest.AdminUser))
	if err != nil {
		return err
	}
	replicas := pods / podsPerReplica
	work := make(chan func() error)
	errs := make(chan error, 1)
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range work {
				if err := f(); err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		}()
	}
	for i := 0; i < namespaces; i++ {
		ns := fmt.Sprintf("team-%03d", i)
		work <- func() error {
			if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{"team": ns}}}, metav1.CreateOptions{}); err != nil {
				return err
			}
			if _, err := cs.RbacV1().Roles(ns).Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "deployer"}, Rules: []rbacv1.PolicyRule{
				{APIGroups: []string{"apps"}, Resources: []string{"deployments"}, Verbs: []string{"get", "list", "create", "update"}},
				{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get"}},
			}}, metav1.CreateOptions{}); err != nil {
				return err
			}
			_, err := cs.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "deployer"},
				Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "ci", Namespace: ns}},
				RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "deployer"}}, metav1.CreateOptions{})
			return err
		}
	}
	for i := 0; i < replicas; i++ {
		ns := fmt.Sprintf("team-%03d", i%namespaces)
		name := fmt.Sprintf("app-%04d", i)
		work <- func() error { return seedWorkload(ctx, cs, ns, name) }
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}

func podSpec(image string) corev1.PodSpec {
	return corev1.PodSpec{
		Containers: []corev1.Container{{
			Name: "app", Image: image,
			Ports: []corev1.ContainerPort{{ContainerPort: 8080, Name: "http"}},
			Env:   []corev1.EnvVar{{Name: "LOG_LEVEL", Value: "info"}, {Name: "PORT", Value: "8080"}},
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
				corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")}},
			SecurityContext: &corev1.SecurityContext{RunAsNonRoot: ptr(true)},
		}, {
			Name: "sidecar", Image: "registry.example/proxy:1.4",
			Args: []string{"--listen=:15001", "--upstream=127.0.0.1:8080"},
		}},
	}
}

func ptr[T any](v T) *T { return &v }

// seedWorkload creates a Deployment, its ReplicaSet and its pods with
// running statuses.
func seedWorkload(ctx context.Context, cs *kubernetes.Clientset, ns, name string) error {
	labels := map[string]string{"app": name}
	tmpl := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: podSpec("registry.example/" + name + ":1.0")}
	d, err := cs.AppsV1().Deployments(ns).Create(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{Replicas: ptr(int32(podsPerReplica)), Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: tmpl}}, metav1.CreateOptions{})
	if err != nil {
		return err
	}
	owner := []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: name, UID: d.UID, Controller: ptr(true)}}
	rs, err := cs.AppsV1().ReplicaSets(ns).Create(ctx, &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: name + "-7c9d", OwnerReferences: owner},
		Spec: appsv1.ReplicaSetSpec{Replicas: ptr(int32(podsPerReplica)), Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: tmpl}}, metav1.CreateOptions{})
	if err != nil {
		return err
	}
	for j := 0; j < podsPerReplica; j++ {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", rs.Name, j), Labels: labels,
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID, Controller: ptr(true)}}},
			Spec: tmpl.Spec}
		p.Spec.NodeName = fmt.Sprintf("node-%02d", j)
		p, err = cs.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{})
		if err != nil {
			return err
		}
		started := metav1.Now()
		p.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.1.0.1", HostIP: "10.0.0.1"}
		for _, c := range p.Spec.Containers {
			p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, corev1.ContainerStatus{
				Name: c.Name, Image: c.Image, ImageID: c.Image[:len(c.Image)-4] + "@sha256:" + fmt.Sprintf("%064x", len(c.Image)*7919+len(name)),
				Ready: true, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: started}}})
		}
		if _, err := cs.CoreV1().Pods(ns).UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
			return err
		}
	}
	return nil
}
