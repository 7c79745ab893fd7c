package rules

import (
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/kubectl-secure/kubectl-secure/internal/engine"
	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

const serviceRef = "https://kubernetes.io/docs/concepts/services-networking/service/"

func isService(o *manifest.Object) bool { return o.Kind == "Service" && o.Group() == "" }

// internalLBAnnotations mark a LoadBalancer as internal to the VPC on the
// major clouds.
var internalLBAnnotations = map[string][]string{
	"service.beta.kubernetes.io/aws-load-balancer-internal":              {"true", "0.0.0.0/0"},
	"service.beta.kubernetes.io/aws-load-balancer-scheme":                {"internal"},
	"networking.gke.io/load-balancer-type":                               {"Internal"},
	"cloud.google.com/load-balancer-type":                                {"Internal"},
	"service.beta.kubernetes.io/azure-load-balancer-internal":            {"true"},
	"service.beta.kubernetes.io/oci-load-balancer-internal":              {"true"},
	"service.beta.kubernetes.io/openstack-internal-load-balancer":        {"true"},
	"service.kubernetes.io/ibm-load-balancer-cloud-provider-ip-type":     {"private"},
	"service.beta.kubernetes.io/alibaba-cloud-loadbalancer-address-type": {"intranet"},
}

func internalLB(o *manifest.Object) bool {
	for k, vals := range internalLBAnnotations {
		v, ok := o.Annotations[k]
		if !ok {
			continue
		}
		for _, want := range vals {
			if strings.EqualFold(v, want) {
				return true
			}
		}
	}
	return false
}

func serviceType(o *manifest.Object) string {
	return manifest.ScalarString(o.Get(manifest.ParsePath("spec")), "type")
}

func exposureRules() []*engine.Rule {
	return []*engine.Rule{
		{
			RuleInfo: finding.RuleInfo{
				ID: "service-loadbalancer-open", Title: "LoadBalancer open to any source", Severity: finding.Medium, Category: "exposure",
				Tags:        []string{"network"},
				Rationale:   "A LoadBalancer Service without loadBalancerSourceRanges (or with 0.0.0.0/0) is reachable from the whole internet on most clouds; every exposed port is then attack surface for scanners and exploits.",
				Remediation: "Restrict spec.loadBalancerSourceRanges to the client networks, make the load balancer internal, or publish the service through an Ingress or Gateway with authentication.",
				Example:     "spec:\n  type: LoadBalancer\n  loadBalancerSourceRanges:\n    - 203.0.113.0/24\n",
				References:  []string{"https://kubernetes.io/docs/tasks/access-application-cluster/create-external-load-balancer/#restricting-access"},
			},
			Check: func(c *engine.Context, o *manifest.Object) {
				if !isService(o) || serviceType(o) != "LoadBalancer" || internalLB(o) {
					return
				}
				ranges := strList(o.Get(manifest.ParsePath("spec")), "loadBalancerSourceRanges")
				if len(ranges) == 0 {
					if ann := o.Annotations["service.beta.kubernetes.io/load-balancer-source-ranges"]; ann != "" && !strings.Contains(ann, "0.0.0.0/0") {
						return
					}
					c.Reportf(manifest.ParsePath("spec.type"), "%s is a LoadBalancer without loadBalancerSourceRanges: reachable from any address", o.Ref())
					return
				}
				for _, r := range ranges {
					if strings.TrimSpace(r.v) == "0.0.0.0/0" || strings.TrimSpace(r.v) == "::/0" {
						c.Reportf(manifest.ParsePath("spec.loadBalancerSourceRanges").Item(r.i, ""), "%s allows LoadBalancer traffic from %s", o.Ref(), r.v)
					}
				}
			},
		},
		{
			RuleInfo: finding.RuleInfo{
				ID: "service-nodeport", Title: "NodePort Service", Severity: finding.Low, Category: "exposure",
				Tags:        []string{"network"},
				Rationale:   "A NodePort Service opens the port on every node's addresses, bypassing ingress controllers and often cloud firewalls meant for load balancers; node addresses are rarely meant to be entry points.",
				Remediation: "Use a ClusterIP Service behind an Ingress or Gateway, or a LoadBalancer restricted with loadBalancerSourceRanges.",
				Example:     "spec:\n  type: ClusterIP\n",
				References:  []string{serviceRef + "#type-nodeport"},
			},
			Check: func(c *engine.Context, o *manifest.Object) {
				if isService(o) && serviceType(o) == "NodePort" {
					c.Reportf(manifest.ParsePath("spec.type"), "%s is exposed on a port of every node (type: NodePort)", o.Ref())
				}
			},
		},
		{
			RuleInfo: finding.RuleInfo{
				ID: "service-external-ips", Title: "Service sets externalIPs", Severity: finding.Medium, Category: "exposure",
				Tags:        []string{"network"},
				Rationale:   "externalIPs make kube-proxy capture traffic to arbitrary addresses on every node; whoever can set them can intercept traffic meant for those IPs (CVE-2020-8554). Clusters should block the field with the DenyServiceExternalIPs admission plugin or a policy.",
				Remediation: "Remove spec.externalIPs; use a LoadBalancer Service or an Ingress instead.",
				Example:     "spec:\n  type: LoadBalancer\n  loadBalancerSourceRanges:\n    - 203.0.113.0/24\n",
				References:  []string{serviceRef + "#external-ips", "https://github.com/kubernetes/kubernetes/issues/97076"},
			},
			Check: func(c *engine.Context, o *manifest.Object) {
				if !isService(o) {
					return
				}
				if ips := strList(o.Get(manifest.ParsePath("spec")), "externalIPs"); len(ips) > 0 {
					var vs []string
					for _, ip := range ips {
						vs = append(vs, ip.v)
					}
					c.Reportf(manifest.ParsePath("spec.externalIPs"), "%s claims the external IPs %s", o.Ref(), strings.Join(vs, ", "))
				}
			},
		},
		{
			RuleInfo: finding.RuleInfo{
				ID: "ingress-no-tls", Title: "Ingress serves hosts without TLS", Severity: finding.Medium, Category: "exposure",
				Tags:        []string{"network", "tls"},
				Rationale:   "Without a tls section the Ingress serves plain HTTP: credentials, session cookies and data cross the network readable and modifiable by anyone on the path.",
				Remediation: "Add a tls entry covering every host, with a certificate Secret (cert-manager can issue it), and redirect HTTP to HTTPS.",
				Example:     "spec:\n  tls:\n    - hosts: [shop.example.com]\n      secretName: shop-tls\n",
				References:  []string{"https://kubernetes.io/docs/concepts/services-networking/ingress/#tls"},
			},
			Check: func(c *engine.Context, o *manifest.Object) {
				if o.Kind != "Ingress" || (o.Group() != "networking.k8s.io" && o.Group() != "extensions") {
					return
				}
				spec := o.Get(manifest.ParsePath("spec"))
				_, tls := manifest.MapGet(spec, "tls")
				if tls == nil || tls.Kind != yaml.SequenceNode || len(tls.Content) == 0 {
					c.Reportf(manifest.ParsePath("spec.tls"), "%s has no tls section: it serves plain HTTP", o.Ref())
					return
				}
				var hosts []string
				for _, t := range tls.Content {
					for _, h := range strList(manifest.Resolve(t), "hosts") {
						hosts = append(hosts, h.v)
					}
				}
				_, rules := manifest.MapGet(spec, "rules")
				if rules == nil || rules.Kind != yaml.SequenceNode {
					return
				}
				for i, r := range rules.Content {
					h := manifest.ScalarString(manifest.Resolve(r), "host")
					if h == "" || hostCovered(h, hosts) {
						continue
					}
					c.Reportf(manifest.ParsePath("spec.rules").Item(i, h).Key("host"), "%s serves host %q without TLS", o.Ref(), h)
				}
			},
		},
	}
}

func hostCovered(h string, hosts []string) bool {
	for _, t := range hosts {
		if t == h {
			return true
		}
		if strings.HasPrefix(t, "*.") {
			if i := strings.IndexByte(h, '.'); i > 0 && h[i:] == t[1:] {
				return true
			}
		}
	}
	return false
}
