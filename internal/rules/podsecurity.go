package rules

import (
	"path"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-secure/kubectl-secure/internal/engine"
	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

// defaultDangerousCapabilities are capabilities that each give a known
// path to the node or to other workloads. All of them are outside the
// baseline default set.
var defaultDangerousCapabilities = []string{
	"ALL", "SYS_ADMIN", "NET_ADMIN", "SYS_PTRACE", "SYS_MODULE", "SYS_RAWIO", "SYS_BOOT",
	"SYS_TIME", "DAC_READ_SEARCH", "BPF", "PERFMON", "MAC_ADMIN", "MAC_OVERRIDE",
	"SYSLOG", "LINUX_IMMUTABLE",
}

func normCap(c string) string {
	c = strings.ToUpper(strings.TrimSpace(c))
	return strings.TrimPrefix(c, "CAP_")
}

func dangerousCapSet(s *engine.Settings) map[string]bool {
	list := defaultDangerousCapabilities
	if s != nil && s.DangerousCapabilities != nil {
		list = s.DangerousCapabilities
	}
	m := make(map[string]bool, len(list))
	for _, c := range list {
		m[normCap(c)] = true
	}
	return m
}

// defaultSensitiveHostPaths: an entry matches itself and its ancestors
// (mounting /var exposes /var/lib/kubelet); a "/**" suffix also matches
// everything below it; a "**/" prefix matches that file name anywhere
// (runtime sockets at non-standard paths).
var defaultSensitiveHostPaths = []string{
	"/",
	"/etc", "/etc/kubernetes/**", "/etc/shadow", "/etc/gshadow", "/etc/sudoers", "/etc/sudoers.d/**",
	"/etc/cron.d/**", "/etc/crontab", "/etc/systemd/**", "/etc/ssh/**", "/etc/cni/**", "/etc/containerd/**",
	"/proc/**", "/sys/**", "/dev/**", "/boot/**", "/root/**",
	"/usr/**", "/lib/**", "/lib64/**", "/bin/**", "/sbin/**", "/opt/cni/bin/**", "/home/kubernetes/bin/**",
	"/var/lib/kubelet/**", "/var/lib/docker/**", "/var/lib/containerd/**", "/var/lib/containers/**", "/var/lib/etcd/**",
	"/var/run/docker.sock", "/run/docker.sock",
	"/var/run/containerd/containerd.sock", "/run/containerd/containerd.sock",
	"/var/run/crio/crio.sock", "/run/crio/crio.sock",
	"/var/run/cri-dockerd.sock", "/run/cri-dockerd.sock",
	"/run/k3s/containerd/containerd.sock", "/var/run/dockershim.sock",
	"**/docker.sock", "**/containerd.sock", "**/crio.sock", "**/cri-dockerd.sock", "**/dockershim.sock", "**/podman.sock",
}

// sensitiveHostPath returns the entry that makes hostPath p sensitive, or
// "". p is cleaned first (/etc/../etc, trailing slashes, duplicate
// slashes).
func sensitiveHostPath(s *engine.Settings, p string) string {
	if strings.TrimSpace(p) == "" {
		return ""
	}
	p = path.Clean("/" + strings.TrimSpace(p))
	list := defaultSensitiveHostPaths
	if s != nil && s.SensitiveHostPaths != nil {
		list = s.SensitiveHostPaths
	}
	for _, e := range list {
		if name, ok := strings.CutPrefix(e, "**/"); ok {
			if path.Base(p) == name {
				return e
			}
			continue
		}
		base, subtree := strings.CutSuffix(e, "/**")
		if base == "" {
			base = "/"
		}
		base = path.Clean(base)
		switch {
		case p == base,
			p == "/" || strings.HasPrefix(base, p+"/"),
			subtree && strings.HasPrefix(p, strings.TrimSuffix(base, "/")+"/"):
			return base
		}
	}
	return ""
}

func hostPathWritable() *engine.Rule {
	return &engine.Rule{
		RuleInfo: finding.RuleInfo{
			ID: "host-path-writable", Title: "HostPath volume mounted writable", Severity: finding.Medium, Category: "pod-security",
			Tags:        []string{"psp:allowed-host-paths"},
			Rationale:   "A writable hostPath mount lets the container change files on the node: plant binaries or cron jobs, tamper with logs, or fill the node's disk. PodSecurityPolicy's allowedHostPaths required readOnly for this reason.",
			Remediation: "Mount the volume with readOnly: true (and better, replace the hostPath volume).",
			Example:     "volumeMounts:\n  - name: host-certs\n    mountPath: /etc/ssl/certs\n    readOnly: true\n",
			References:  []string{pspRef, "https://kubernetes.io/docs/concepts/storage/volumes/#hostpath"},
		},
		Check: func(c *engine.Context, o *manifest.Object) {
			w := c.Workload()
			if w == nil {
				return
			}
			host := map[string]string{}
			for _, v := range w.Spec.Volumes {
				if v.HostPath != nil {
					host[v.Name] = v.HostPath.Path
				}
			}
			if len(host) == 0 {
				return
			}
			for i := range w.Containers {
				ct := &w.Containers[i]
				for k, m := range ct.Container.VolumeMounts {
					hp, ok := host[m.Name]
					if !ok || m.ReadOnly {
						continue
					}
					c.Reportf(ct.Path.Key("volumeMounts").Item(k, m.Name).Key("readOnly"), "%s mounts the host path %q writable at %s", describe(ct), hp, m.MountPath)
				}
			}
		},
	}
}

func hostPIDPtrace() *engine.Rule {
	return &engine.Rule{
		RuleInfo: finding.RuleInfo{
			ID: "host-pid-ptrace", Title: "Host PID namespace combined with ptrace", Severity: finding.Critical, Category: "pod-security",
			Tags:        []string{"psp:host-namespaces", "cis:5.2.3"},
			Rationale:   "With the host PID namespace and SYS_PTRACE (or SYS_ADMIN, or ALL, or privileged: which grants every capability), a container can attach to any process on the node, read its memory and inject code into it: a direct node compromise.",
			Remediation: "Remove spec.hostPID, and remove privileged and SYS_PTRACE/SYS_ADMIN from the containers' security context.",
			Example:     "spec:\n  hostPID: false\n  containers:\n    - name: app\n      securityContext:\n        capabilities:\n          drop: [\"ALL\"]\n",
			References:  []string{pssBaselineRef, cis("5.2.3", "Minimize the admission of containers wishing to share the host process ID namespace")},
		},
		Check: func(c *engine.Context, o *manifest.Object) {
			w := c.Workload()
			if w == nil || !w.Spec.HostPID {
				return
			}
			for i := range w.Containers {
				ct := &w.Containers[i]
				sc := ct.Container.SecurityContext
				if sc == nil {
					continue
				}
				if sc.Privileged != nil && *sc.Privileged {
					// Privileged grants every capability, SYS_PTRACE included.
					c.Reportf(w.SpecPath.Key("hostPID"), "%s shares the host PID namespace and %s is privileged (every capability, SYS_PTRACE included): it can trace and inject into every process on the node", o.Ref(), describe(ct))
					return
				}
				if sc.Capabilities == nil {
					continue
				}
				for _, cp := range sc.Capabilities.Add {
					switch normCap(string(cp)) {
					case "SYS_PTRACE", "SYS_ADMIN", "ALL":
						c.Reportf(w.SpecPath.Key("hostPID"), "%s shares the host PID namespace and %s adds %s: it can trace and inject into every process on the node", o.Ref(), describe(ct), cp)
						return
					}
				}
			}
		},
	}
}

func isWindows(w *engine.Workload) bool {
	return w.Spec.OS != nil && w.Spec.OS.Name == corev1.Windows
}

func userNamespaced(w *engine.Workload) bool {
	return w.Spec.HostUsers != nil && !*w.Spec.HostUsers
}

func readOnlyRootFS() *engine.Rule {
	return &engine.Rule{
		RuleInfo: finding.RuleInfo{
			ID: "readonly-root-filesystem", Title: "Root filesystem is writable", Severity: finding.Low, Category: "pod-security",
			Tags:        []string{"psp:read-only-root-filesystem", "cis:5.7.3"},
			Rationale:   "A writable root filesystem lets an attacker who gets code execution download tools, modify binaries and persist inside the container. A read-only root, with emptyDir volumes for the paths that must be written, removes that foothold.",
			Remediation: "Set securityContext.readOnlyRootFilesystem: true and mount an emptyDir at the paths the application writes (e.g. /tmp).",
			Example:     "securityContext:\n  readOnlyRootFilesystem: true\nvolumeMounts:\n  - name: tmp\n    mountPath: /tmp\n",
			References:  []string{pspRef, securityCtxRef, cis("5.7.3", "Apply security context to your pods and containers")},
		},
		Check: func(c *engine.Context, o *manifest.Object) {
			w := c.Workload()
			if w == nil || isWindows(w) {
				return
			}
			for i := range w.Containers {
				ct := &w.Containers[i]
				if ct.Kind == "ephemeralContainer" {
					continue
				}
				sc := ct.Container.SecurityContext
				if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
					c.Report(scPath(ct, "readOnlyRootFilesystem"), describe(ct)+" has a writable root filesystem")
				}
			}
		},
	}
}

func runAsRootGroup() *engine.Rule {
	return &engine.Rule{
		RuleInfo: finding.RuleInfo{
			ID: "run-as-root-group", Title: "Runs with the root group (GID 0)", Severity: finding.Medium, Category: "pod-security",
			Tags:        []string{"psp:users-groups"},
			Rationale:   "Processes in group 0 can read and write every file the image or a volume leaves group-root accessible, which is common; PodSecurityPolicy's runAsGroup, supplementalGroups and fsGroup rules existed to keep workloads out of it.",
			Remediation: "Set runAsGroup and fsGroup to a non-zero GID and remove 0 from supplementalGroups.",
			Example:     "securityContext:\n  runAsUser: 10001\n  runAsGroup: 10001\n  fsGroup: 10001\n",
			References:  []string{pspRef, securityCtxRef},
		},
		Check: func(c *engine.Context, o *manifest.Object) {
			w := c.Workload()
			if w == nil || userNamespaced(w) || isWindows(w) {
				return
			}
			if sc := w.Spec.SecurityContext; sc != nil {
				if sc.RunAsGroup != nil && *sc.RunAsGroup == 0 {
					c.Reportf(podSCPath(w, "runAsGroup"), "the pod of %s runs with group 0 (runAsGroup: 0)", o.Ref())
				}
				if sc.FSGroup != nil && *sc.FSGroup == 0 {
					c.Reportf(podSCPath(w, "fsGroup"), "the pod of %s gives its volumes to group 0 (fsGroup: 0)", o.Ref())
				}
				for k, g := range sc.SupplementalGroups {
					if g == 0 {
						c.Reportf(podSCPath(w, "supplementalGroups").Item(k, ""), "the pod of %s adds group 0 to supplementalGroups", o.Ref())
					}
				}
			}
			for i := range w.Containers {
				ct := &w.Containers[i]
				if sc := ct.Container.SecurityContext; sc != nil && sc.RunAsGroup != nil && *sc.RunAsGroup == 0 {
					c.Reportf(scPath(ct, "runAsGroup"), "%s runs with group 0 (runAsGroup: 0)", describe(ct))
				}
			}
		},
	}
}

func appArmorUnset() *engine.Rule {
	return &engine.Rule{
		RuleInfo: finding.RuleInfo{
			ID: "apparmor-profile-unset", Title: "No AppArmor profile set", Severity: finding.Low, Category: "pod-security",
			Tags:        []string{"psp:apparmor"},
			Rationale:   "Without an explicit AppArmor profile, confinement depends on the node: runtimes apply their default profile only where AppArmor is enabled and configured. Stating RuntimeDefault makes the intent explicit and makes the pod fail to start rather than run unconfined where the profile cannot be applied.",
			Remediation: "Set spec.securityContext.appArmorProfile.type: RuntimeDefault (Kubernetes 1.30+), or Localhost with a reviewed profile.",
			Example:     "spec:\n  securityContext:\n    appArmorProfile:\n      type: RuntimeDefault\n",
			References:  []string{"https://kubernetes.io/docs/tutorials/security/apparmor/"},
		},
		Check: func(c *engine.Context, o *manifest.Object) {
			w := c.Workload()
			if w == nil || isWindows(w) {
				return
			}
			if sc := w.Spec.SecurityContext; sc != nil && sc.AppArmorProfile != nil {
				return
			}
			unset := func(ct *engine.ContainerRef) bool {
				if sc := ct.Container.SecurityContext; sc != nil && sc.AppArmorProfile != nil {
					return false
				}
				_, ok := w.Meta.Annotations[appArmorAnnotationPrefix+ct.Container.Name]
				return !ok
			}
			missing := 0
			for i := range w.Containers {
				if unset(&w.Containers[i]) {
					missing++
				}
			}
			if missing == 0 {
				return
			}
			if missing == len(w.Containers) {
				c.Report(podSCPath(w, "appArmorProfile"), "neither the pod of "+o.Ref().String()+" nor its containers set an AppArmor profile")
				return
			}
			for i := range w.Containers {
				if ct := &w.Containers[i]; unset(ct) {
					c.Report(scPath(ct, "appArmorProfile"), describe(ct)+" sets no AppArmor profile and the pod sets none")
				}
			}
		},
	}
}
