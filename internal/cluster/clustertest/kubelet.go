package clustertest

import (
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
)

// FakeKubelet serves body as a kubelet's /configz over TLS on an IPv4
// address of this machine that is neither loopback nor link-local — the
// API server refuses to proxy to those — and returns that address and the
// port; the server stops when the test ends. The test is skipped on a
// machine without such an address.
func FakeKubelet(t *testing.T, body []byte) (ip string, port int) {
	t.Helper()
	ip = nonLoopbackIPv4(t)
	kubelet := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/configz" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	kubelet.Listener = l
	kubelet.StartTLS()
	t.Cleanup(kubelet.Close)
	return ip, l.Addr().(*net.TCPAddr).Port
}

func nonLoopbackIPv4(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if ip := n.IP.To4(); ip != nil && !ip.IsLoopback() && !ip.IsLinkLocalUnicast() {
				return ip.String()
			}
		}
	}
	t.Skip("no non-loopback IPv4 address: the API server would refuse to proxy to a fake kubelet")
	return ""
}
