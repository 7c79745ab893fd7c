package rules

// Kubelet configuration (CIS Kubernetes Benchmark section 4.2), checked on
// KubeletConfiguration objects: kubelet config files of a repository, and
// in a scan one object per node built from the kubelet's /configz (see
// internal/kubelet.FromConfigz, which unwraps the response and names the
// object after the node). A field missing from a file takes the
// kubelet.config.k8s.io/v1beta1 default, which is what these rules judge
// then; /configz always shows every field.

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/kubectl-secure/kubectl-secure/internal/engine"
	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

const (
	kubeletGroup  = "kubelet.config.k8s.io"
	kubeletRef    = "https://kubernetes.io/docs/reference/config-api/kubelet-config.v1beta1/"
	kubeletAuthRf = "https://kubernetes.io/docs/reference/access-authn-authz/kubelet-authn-authz/"
	kubeletTLSRef = "https://kubernetes.io/docs/reference/access-authn-authz/kubelet-tls-bootstrapping/"
)

func isKubeletConfig(o *manifest.Object) bool {
	return o.Kind == "KubeletConfiguration" && o.Group() == kubeletGroup
}

// kubeletField is a field of a KubeletConfiguration: its value when set.
type kubeletField struct {
	path manifest.Path
	val  string
	set  bool
}

func kubeletGet(o *manifest.Object, dotted string) kubeletField {
	f := kubeletField{path: manifest.ParsePath(dotted)}
	if n := o.Get(f.path); n != nil && n.Kind == yaml.ScalarNode && n.Tag != "!!null" {
		f.val, f.set = n.Value, true
	}
	return f
}

// boolOr is the field as a bool, or def when unset or not a bool.
func (f kubeletField) boolOr(def bool) bool {
	if b, err := strconv.ParseBool(f.val); f.set && err == nil {
		return b
	}
	return def
}

// featureGate is the value of a feature gate, or def when unset.
func featureGate(o *manifest.Object, gate string, def bool) (kubeletField, bool) {
	f := kubeletField{path: manifest.Path{}.Key("featureGates", gate)}
	if n := o.Get(f.path); n != nil && n.Kind == yaml.ScalarNode {
		f.val, f.set = n.Value, true
	}
	return f, f.boolOr(def)
}

// kubeletName names the configuration for messages: the node in a scan.
func kubeletName(o *manifest.Object) string {
	if o.Name != "" {
		return fmt.Sprintf("the kubelet of node %q", o.Name)
	}
	return "the kubelet configuration"
}

// kubeletRule builds a rule over KubeletConfiguration objects.
func kubeletRule(ri finding.RuleInfo, check func(c *engine.Context, o *manifest.Object)) *engine.Rule {
	ri.Category = "nodes"
	return &engine.Rule{RuleInfo: ri, Check: func(c *engine.Context, o *manifest.Object) {
		if isKubeletConfig(o) {
			check(c, o)
		}
	}}
}

func kubeletRules() []*engine.Rule {
	return []*engine.Rule{
		kubeletRule(finding.RuleInfo{
			ID: "kubelet-anonymous-auth", Title: "Kubelet accepts anonymous requests", Severity: finding.Critical,
			Tags:        []string{"nodes", "cis:4.2.1"},
			Rationale:   "With anonymous authentication, requests to the kubelet API (port 10250) without credentials are served as system:anonymous; combined with AlwaysAllow authorization that is remote code execution in every pod of the node, and even with Webhook authorization it widens the attack surface. The v1beta1 configuration file defaults it to enabled.",
			Remediation: "Set authentication.anonymous.enabled: false (and authentication.webhook.enabled: true).",
			Example:     "authentication:\n  anonymous:\n    enabled: false\n  webhook:\n    enabled: true\n",
			References:  []string{kubeletAuthRf, cis("4.2.1", "Ensure that the --anonymous-auth argument is set to false")},
		}, func(c *engine.Context, o *manifest.Object) {
			f := kubeletGet(o, "authentication.anonymous.enabled")
			if !f.boolOr(true) {
				return
			}
			why := "authentication.anonymous.enabled is true"
			if !f.set {
				why = "authentication.anonymous.enabled is not set and defaults to true"
			}
			c.Reportf(f.path, "%s serves unauthenticated requests: %s", kubeletName(o), why)
		}),
		kubeletRule(finding.RuleInfo{
			ID: "kubelet-authorization-always-allow", Title: "Kubelet authorizes every request", Severity: finding.Critical,
			Tags:        []string{"nodes", "cis:4.2.2"},
			Rationale:   "authorization.mode: AlwaysAllow lets anyone who can authenticate to the kubelet (anyone at all with anonymous authentication) exec into pods, read their logs and secrets, and run new containers, bypassing the API server's RBAC and audit.",
			Remediation: "Set authorization.mode: Webhook so that the kubelet asks the API server (SubjectAccessReview) for every request.",
			Example:     "authorization:\n  mode: Webhook\n",
			References:  []string{kubeletAuthRf, cis("4.2.2", "Ensure that the --authorization-mode argument is not set to AlwaysAllow")},
		}, func(c *engine.Context, o *manifest.Object) {
			if f := kubeletGet(o, "authorization.mode"); f.set && f.val == "AlwaysAllow" {
				c.Reportf(f.path, "%s authorizes every request (authorization.mode: AlwaysAllow)", kubeletName(o))
			}
		}),
		kubeletRule(finding.RuleInfo{
			ID: "kubelet-client-ca-missing", Title: "Kubelet does not verify client certificates", Severity: finding.Medium,
			Tags:        []string{"nodes", "cis:4.2.3"},
			Rationale:   "Without authentication.x509.clientCAFile the kubelet cannot authenticate the API server (or anyone) by client certificate, so its API falls back to webhook token authentication or anonymous access.",
			Remediation: "Set authentication.x509.clientCAFile to the cluster CA bundle.",
			Example:     "authentication:\n  x509:\n    clientCAFile: /etc/kubernetes/pki/ca.crt\n",
			References:  []string{kubeletAuthRf, cis("4.2.3", "Ensure that the --client-ca-file argument is set as appropriate")},
		}, func(c *engine.Context, o *manifest.Object) {
			if f := kubeletGet(o, "authentication.x509.clientCAFile"); f.val == "" {
				c.Reportf(f.path, "%s has no authentication.x509.clientCAFile: client certificates are not verified", kubeletName(o))
			}
		}),
		kubeletRule(finding.RuleInfo{
			ID: "kubelet-read-only-port", Title: "Kubelet serves its read-only port", Severity: finding.High,
			Tags:        []string{"nodes", "cis:4.2.4"},
			Rationale:   "The read-only port (10255) serves pod specs, node details and metrics without any authentication or authorization: environment variables, image names and service account names of every pod on the node, to anyone who can reach it.",
			Remediation: "Set readOnlyPort: 0; scrape metrics from the authenticated port 10250.",
			Example:     "readOnlyPort: 0\n",
			References:  []string{kubeletRef, cis("4.2.4", "Verify that the --read-only-port argument is set to 0")},
		}, func(c *engine.Context, o *manifest.Object) {
			if f := kubeletGet(o, "readOnlyPort"); f.set && f.val != "0" {
				c.Reportf(f.path, "%s serves the unauthenticated read-only API on port %s", kubeletName(o), f.val)
			}
		}),
		kubeletRule(finding.RuleInfo{
			ID: "kubelet-streaming-idle-timeout", Title: "Kubelet streaming connections never time out", Severity: finding.Low,
			Tags:        []string{"nodes", "cis:4.2.5"},
			Rationale:   "streamingConnectionIdleTimeout: 0 keeps idle exec, attach and port-forward connections open forever, leaving sessions and resources behind for an attacker to reuse.",
			Remediation: "Set streamingConnectionIdleTimeout to a bounded duration (the default is 4h; 5m is common).",
			Example:     "streamingConnectionIdleTimeout: 5m\n",
			References:  []string{kubeletRef, cis("4.2.5", "Ensure that the --streaming-connection-idle-timeout argument is not set to 0")},
		}, func(c *engine.Context, o *manifest.Object) {
			f := kubeletGet(o, "streamingConnectionIdleTimeout")
			if !f.set {
				return
			}
			if d, err := time.ParseDuration(f.val); f.val == "0" || err == nil && d == 0 {
				c.Reportf(f.path, "%s never closes idle streaming connections (streamingConnectionIdleTimeout: %s)", kubeletName(o), f.val)
			}
		}),
		kubeletRule(finding.RuleInfo{
			ID: "kubelet-protect-kernel-defaults", Title: "Kubelet does not protect kernel defaults", Severity: finding.Low,
			Tags:        []string{"nodes", "cis:4.2.6"},
			Rationale:   "Unless protectKernelDefaults is true, the kubelet silently changes kernel tunables that differ from what it expects instead of failing, so a node's hardened sysctls can be undone without anyone noticing.",
			Remediation: "Set the kernel parameters the kubelet expects on the node (vm.overcommit_memory=1, kernel.panic=10, kernel.panic_on_oops=1, …) and set protectKernelDefaults: true.",
			Example:     "protectKernelDefaults: true\n",
			References:  []string{kubeletRef, cis("4.2.6", "Ensure that the --protect-kernel-defaults argument is set to true")},
		}, func(c *engine.Context, o *manifest.Object) {
			if f := kubeletGet(o, "protectKernelDefaults"); !f.boolOr(false) {
				c.Reportf(f.path, "%s may change kernel parameters instead of failing (protectKernelDefaults is %s)", kubeletName(o), orDefault(f, "false"))
			}
		}),
		kubeletRule(finding.RuleInfo{
			ID: "kubelet-iptables-util-chains", Title: "Kubelet does not manage its iptables chains", Severity: finding.Low,
			Tags:        []string{"nodes", "cis:4.2.7"},
			Rationale:   "With makeIPTablesUtilChains: false the kubelet leaves the iptables utility chains it relies on to whatever else runs on the node, and the network rules pods depend on can drift from what the cluster configured.",
			Remediation: "Set makeIPTablesUtilChains: true (the default).",
			Example:     "makeIPTablesUtilChains: true\n",
			References:  []string{kubeletRef, cis("4.2.7", "Ensure that the --make-iptables-util-chains argument is set to true")},
		}, func(c *engine.Context, o *manifest.Object) {
			if f := kubeletGet(o, "makeIPTablesUtilChains"); !f.boolOr(true) {
				c.Reportf(f.path, "%s does not manage its iptables utility chains (makeIPTablesUtilChains: %s)", kubeletName(o), f.val)
			}
		}),
		kubeletRule(finding.RuleInfo{
			ID: "kubelet-event-qps", Title: "Kubelet throttles events below the default", Severity: finding.Low,
			Tags:        []string{"nodes", "cis:4.2.9"},
			Rationale:   "Events are part of the audit trail of a node (pods killed, images pulled, probes failing). An eventRecordQPS below the default of 50 drops events under load, exactly when an incident produces many; 0 means unlimited.",
			Remediation: "Leave eventRecordQPS at its default (50), or set it to 0 where the API server can take unthrottled events.",
			Example:     "eventRecordQPS: 50\n",
			References:  []string{kubeletRef, cis("4.2.9", "Ensure that the eventRecordQPS argument is set to a level which ensures appropriate event capture")},
		}, func(c *engine.Context, o *manifest.Object) {
			f := kubeletGet(o, "eventRecordQPS")
			if q, err := strconv.ParseFloat(f.val, 64); f.set && err == nil && q > 0 && q < 50 {
				c.Reportf(f.path, "%s records at most %s events per second (eventRecordQPS) and drops the rest", kubeletName(o), f.val)
			}
		}),
		kubeletRule(finding.RuleInfo{
			ID: "kubelet-client-cert-rotation", Title: "Kubelet client certificate is not rotated", Severity: finding.Medium,
			Tags:        []string{"nodes", "cis:4.2.11"},
			Rationale:   "Without rotateCertificates the kubelet keeps using its client certificate until it expires, and the node drops out of the cluster when it does; long-lived node credentials are also more valuable to steal.",
			Remediation: "Set rotateCertificates: true so the kubelet requests a new client certificate before the current one expires.",
			Example:     "rotateCertificates: true\n",
			References:  []string{kubeletTLSRef, cis("4.2.11", "Ensure that the --rotate-certificates argument is not set to false")},
		}, func(c *engine.Context, o *manifest.Object) {
			if f := kubeletGet(o, "rotateCertificates"); !f.boolOr(false) {
				c.Reportf(f.path, "%s does not rotate its client certificate (rotateCertificates is %s)", kubeletName(o), orDefault(f, "false"))
			}
		}),
		kubeletRule(finding.RuleInfo{
			ID: "kubelet-server-cert-rotation", Title: "Kubelet serving certificate is not bootstrapped and rotated", Severity: finding.Medium,
			Tags:        []string{"nodes", "cis:4.2.12"},
			Rationale:   "Without serverTLSBootstrap (and the RotateKubeletServerCertificate feature), the kubelet serves its API with a self-signed certificate the API server cannot verify, so connections to port 10250 are open to interception, and the certificate is never rotated.",
			Remediation: "Set serverTLSBootstrap: true (and leave the RotateKubeletServerCertificate feature gate on) and approve the kubelet-serving CSRs, or provide tlsCertFile/tlsPrivateKeyFile issued by the cluster CA and rotate them.",
			Example:     "serverTLSBootstrap: true\n",
			References:  []string{kubeletTLSRef, cis("4.2.12", "Verify that the RotateKubeletServerCertificate argument is set to true")},
		}, func(c *engine.Context, o *manifest.Object) {
			if gate, on := featureGate(o, "RotateKubeletServerCertificate", true); !on {
				c.Reportf(gate.path, "%s disables serving certificate rotation (featureGates.RotateKubeletServerCertificate: %s)", kubeletName(o), gate.val)
				return
			}
			if kubeletGet(o, "tlsCertFile").val != "" {
				return // a certificate provided and rotated by other means
			}
			if f := kubeletGet(o, "serverTLSBootstrap"); !f.boolOr(false) {
				c.Reportf(f.path, "%s serves a self-signed certificate (serverTLSBootstrap is %s and no tlsCertFile is set)", kubeletName(o), orDefault(f, "false"))
			}
		}),
	}
}

// orDefault renders a field's value, or that it defaults to def.
func orDefault(f kubeletField, def string) string {
	if f.set {
		return strings.TrimSpace(f.val)
	}
	return "not set (default " + def + ")"
}
