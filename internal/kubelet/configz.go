// Package kubelet turns what a kubelet reports about itself into objects
// the engine checks. It is pure: bytes in, a manifest document out.
package kubelet

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// APIVersion and Kind of the objects FromConfigz builds: those of kubelet
// config files, so that the same rules check both.
const (
	APIVersion = "kubelet.config.k8s.io/v1beta1"
	Kind       = "KubeletConfiguration"
)

// FromConfigz builds a KubeletConfiguration document (JSON, which the
// manifest loaders read) named after node from the body of the kubelet's
// /configz endpoint (GET /api/v1/nodes/NODE/proxy/configz). The endpoint
// wraps the configuration as {"kubeletconfig": {...}}, without apiVersion
// or kind; a bare configuration (a config file converted to JSON) is
// accepted too. Fields keep the paths they have in a config file, so a
// finding reads authentication.anonymous.enabled in both.
func FromConfigz(node string, body []byte) ([]byte, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return nil, fmt.Errorf("configz of node %q: %w", node, err)
	}
	cfg := top
	if inner, ok := top["kubeletconfig"]; ok {
		cfg = nil
		if err := json.Unmarshal(inner, &cfg); err != nil {
			return nil, fmt.Errorf("configz of node %q: kubeletconfig: %w", node, err)
		}
	}
	if cfg == nil {
		return nil, fmt.Errorf("configz of node %q: no configuration", node)
	}
	delete(cfg, "metadata")
	name, _ := json.Marshal(node)
	cfg["apiVersion"] = json.RawMessage(`"` + APIVersion + `"`)
	cfg["kind"] = json.RawMessage(`"` + Kind + `"`)
	cfg["metadata"] = json.RawMessage(`{"name":` + string(name) + `}`)
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(cfg); err != nil {
		return nil, fmt.Errorf("configz of node %q: %w", node, err)
	}
	return b.Bytes(), nil
}
