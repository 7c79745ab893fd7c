package cluster_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kubectl-secure/kubectl-secure/internal/cluster"
	"github.com/kubectl-secure/kubectl-secure/internal/cluster/clustertest"
)

// recorder notes every request's query and response status.
type recorder struct {
	mu    sync.Mutex
	calls []string
	next  http.RoundTripper
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if err == nil && strings.HasSuffix(req.URL.Path, "/configmaps") {
		r.mu.Lock()
		r.calls = append(r.calls, fmt.Sprintf("%d continue=%t", resp.StatusCode, req.URL.Query().Get("continue") != ""))
		r.mu.Unlock()
	}
	return resp, err
}

// Lists come in pages of PageSize with continue tokens; when the server
// expires a token mid-list (410 Gone after etcd compaction), the list
// restarts from the beginning and nothing is handed over twice.
func TestClusterListRestartsOnExpiredContinue(t *testing.T) {
	// No watch cache: pages come from etcd, whose compaction (every
	// second) expires the continue tokens of a slow reader. Six pages:
	// the pager reads up to two ahead, the rest come after the stall.
	srv := clustertest.Start(t, "--watch-cache=false", "--etcd-compaction-interval=1s")
	var lines []string
	for i := 0; i < 30; i++ {
		lines = append(lines, fmt.Sprintf("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-%02d, namespace: default}\ndata: {k: v}\n", i))
	}
	srv.Create(t, strings.Join(lines, ""))

	rec := &recorder{}
	cfg := srv.Config(clustertest.AdminUser)
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper { rec.next = rt; return rec }
	c, err := cluster.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.PageSize = 5
	cm := cluster.Resource{Version: "v1", Resource: "configmaps", Kind: "ConfigMap", Namespaced: true}
	seen := map[string]int{}
	stalled := false
	err = c.List(context.Background(), cluster.Scope{Resource: cm, Namespace: "default"}, cluster.ListOptions{}, func(it *cluster.Item) error {
		seen[it.Object.Name]++
		if !stalled {
			// A slow reader: the cluster moves on and compacts meanwhile.
			stalled = true
			srv.Create(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: late, namespace: default}\n")
			time.Sleep(3500 * time.Millisecond)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("list: %v (requests %v)", err, rec.calls)
	}
	for i := 0; i < 30; i++ {
		if n := seen[fmt.Sprintf("cm-%02d", i)]; n != 1 {
			t.Errorf("cm-%02d handed over %d times", i, n)
		}
	}
	expired := false
	for _, c := range rec.calls {
		expired = expired || strings.HasPrefix(c, "410")
	}
	if !expired {
		t.Errorf("no continue token expired, the restart was not exercised: %v", rec.calls)
	}
}
