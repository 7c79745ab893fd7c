package cluster

import (
	"context"
	"fmt"

	authv1 "k8s.io/api/authorization/v1"

	"github.com/kubectl-secure/kubectl-secure/internal/kubelet"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

// Kubelet configurations as the engine sees them: one object per node.
const (
	KubeletConfigAPIVersion = kubelet.APIVersion
	KubeletConfigKind       = kubelet.Kind
)

// nodesProxy is what reading a kubelet's configz through the API server
// takes.
var nodesProxy = authv1.ResourceAttributes{Verb: "get", Resource: "nodes", Subresource: "proxy"}

// nodeNames lists the nodes (metadata only), or says why it cannot.
func (c *Client) nodeNames(ctx context.Context) ([]string, string, error) {
	ok, reason, err := c.Allowed(ctx, authv1.ResourceAttributes{Verb: "list", Resource: "nodes"})
	if err != nil || !ok {
		return nil, reason, err
	}
	var names []string
	nodes := Resource{Version: "v1", Resource: "nodes", Kind: "Node"}
	err = c.List(ctx, Scope{Resource: nodes}, ListOptions{MetadataOnly: true}, func(it *Item) error {
		names = append(names, it.Object.Name)
		return nil
	})
	return names, "", err
}

// KubeletConfig reads a node's kubelet configuration through the API
// server (GET /api/v1/nodes/<node>/proxy/configz) and returns it as a
// KubeletConfiguration object named after the node.
func (c *Client) KubeletConfig(ctx context.Context, node string) (*manifest.Object, error) {
	body, err := c.Get(ctx, "/api/v1/nodes", node, "proxy", "configz")
	if err != nil {
		return nil, fmt.Errorf("reading configz: %w", err)
	}
	return KubeletConfigObject(node, body)
}

// KubeletConfigObject turns a configz payload ({"kubeletconfig": {…}},
// or a bare configuration) into a KubeletConfiguration object named after
// node; kubelet.FromConfigz does the unwrapping, for files and clusters
// alike.
func KubeletConfigObject(node string, configz []byte) (*manifest.Object, error) {
	doc, err := kubelet.FromConfigz(node, configz)
	if err != nil {
		return nil, err
	}
	return manifest.FromJSON(doc, manifest.RemoteOptions{APIVersion: KubeletConfigAPIVersion, Kind: KubeletConfigKind})
}
