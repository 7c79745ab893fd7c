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

// hostPathEntry is one row of the host-path table: a pattern, the
// severity of mounting what it matches, and what that gives the pod.
//
// A pattern matches itself and its ancestors (mounting /var exposes
// /var/lib/kubelet); a "/**" suffix also matches everything below it; a
// "**/" prefix matches that file name anywhere (runtime sockets at
// non-standard paths).
type hostPathEntry struct {
	pattern string
	sev     finding.Severity
	gives   string
}

const runtimeSocket = "the container runtime socket: it starts privileged containers"

// hostPathTable grades host paths by what they give. Critical and high
// entries are sensitive (host-path-sensitive); low and medium ones are
// known harmless-ish paths below a sensitive one (the syslog socket under
// /dev), reported as host-path-volume at their own grade. Order does not
// matter: see classifyHostPath.
var hostPathTable = []hostPathEntry{
	{"/", finding.Critical, "the node's whole filesystem"},
	{"**/docker.sock", finding.Critical, runtimeSocket},
	{"**/containerd.sock", finding.Critical, runtimeSocket},
	{"**/crio.sock", finding.Critical, runtimeSocket},
	{"**/cri-dockerd.sock", finding.Critical, runtimeSocket},
	{"**/dockershim.sock", finding.Critical, runtimeSocket},
	{"**/podman.sock", finding.Critical, runtimeSocket},
	// The standard socket paths, so that their directories (/run, /var)
	// are graded by them.
	{"/var/run/docker.sock", finding.Critical, runtimeSocket},
	{"/run/docker.sock", finding.Critical, runtimeSocket},
	{"/var/run/containerd/containerd.sock", finding.Critical, runtimeSocket},
	{"/run/containerd/containerd.sock", finding.Critical, runtimeSocket},
	{"/var/run/crio/crio.sock", finding.Critical, runtimeSocket},
	{"/run/crio/crio.sock", finding.Critical, runtimeSocket},
	{"/var/run/cri-dockerd.sock", finding.Critical, runtimeSocket},
	{"/run/cri-dockerd.sock", finding.Critical, runtimeSocket},
	{"/run/k3s/containerd/containerd.sock", finding.Critical, runtimeSocket},
	{"/var/run/dockershim.sock", finding.Critical, runtimeSocket},
	{"/proc/**", finding.Critical, "every host process, kernel memory and tunables"},
	{"/sys/**", finding.Critical, "kernel and cgroup controls: cgroup escapes"},
	{"/dev/**", finding.Critical, "the node's devices: disks, kernel memory"},
	{"/etc", finding.Critical, "the node's configuration and credentials"},
	{"/etc/kubernetes/**", finding.Critical, "kubeconfigs, the cluster PKI and static pod manifests"},
	{"/var/lib/kubelet/**", finding.Critical, "every pod's secrets and volumes and the kubelet's credentials"},
	{"/var/lib/etcd/**", finding.Critical, "the cluster's whole state, secrets included"},
	{"/root/**", finding.Critical, "root's home: kubeconfigs, SSH keys, shell profile"},
	{"/boot/**", finding.High, "the kernel and boot loader"},
	{"/etc/shadow", finding.High, "password hashes"},
	{"/etc/gshadow", finding.High, "password hashes"},
	{"/etc/sudoers", finding.High, "root rights, when written"},
	{"/etc/sudoers.d/**", finding.High, "root rights, when written"},
	{"/etc/crontab", finding.High, "code the host runs as root, when written"},
	{"/etc/cron.d/**", finding.High, "code the host runs as root, when written"},
	{"/etc/systemd/**", finding.High, "services the host runs, when written"},
	{"/etc/ssh/**", finding.High, "SSH host keys and login configuration"},
	{"/etc/cni/**", finding.High, "the node's pod network configuration"},
	{"/etc/containerd/**", finding.High, "the container runtime's configuration"},
	{"/usr/**", finding.High, "host binaries and libraries, rewritten when written"},
	{"/lib/**", finding.High, "host libraries and kernel modules, rewritten when written"},
	{"/lib64/**", finding.High, "host libraries, rewritten when written"},
	{"/bin/**", finding.High, "host binaries, rewritten when written"},
	{"/sbin/**", finding.High, "host binaries, rewritten when written"},
	{"/opt/cni/bin/**", finding.High, "CNI plugins the kubelet runs as root, rewritten when written"},
	{"/home/kubernetes/bin/**", finding.High, "GKE's CNI plugins and node binaries, run as root, rewritten when written"},
	{"/var/run/netns/**", finding.High, "other pods' network namespaces"},
	{"/run/netns/**", finding.High, "other pods' network namespaces"},
	{"/var/lib/docker/**", finding.High, "other containers' filesystems"},
	{"/var/lib/containerd/**", finding.High, "other containers' filesystems"},
	{"/var/lib/containers/**", finding.High, "other containers' filesystems"},
	{"/dev/log", finding.Low, "the syslog socket: the pod can write to the node's log"},
	{"/run/systemd/journal/**", finding.Low, "the journal's sockets: the pod can write to the node's log"},
	{"/var/run/systemd/journal/**", finding.Low, "the journal's sockets: the pod can write to the node's log"},
	{"/etc/localtime", finding.Low, "the node's time zone"},
	{"/usr/share/zoneinfo/**", finding.Low, "time zone data"},
}

// hostPathTableDoc describes the table for the rule's rationale, so that
// the documentation is the table: entries that give the same are listed
// together, standard socket paths by their name.
func hostPathTableDoc() string {
	var parts []string
	for _, sev := range []finding.Severity{finding.Critical, finding.High, finding.Medium, finding.Low} {
		var gives []string
		paths := map[string][]string{}
		for _, e := range hostPathTable {
			if e.sev != sev || e.gives == runtimeSocket && !strings.HasPrefix(e.pattern, "**/") {
				continue
			}
			if paths[e.gives] == nil {
				gives = append(gives, e.gives)
			}
			paths[e.gives] = append(paths[e.gives], strings.TrimPrefix(strings.TrimSuffix(e.pattern, "/**"), "**/"))
		}
		if len(gives) == 0 {
			continue
		}
		items := make([]string, len(gives))
		for i, g := range gives {
			items[i] = strings.Join(paths[g], ", ") + " (" + g + ")"
		}
		head := strings.ToUpper(sev.String()[:1]) + sev.String()[1:]
		if sev < finding.High {
			head += ", not sensitive: reported by host-path-volume at this severity"
		}
		parts = append(parts, head+" — "+strings.Join(items, "; ")+".")
	}
	return strings.Join(parts, " ")
}

// hostPathClass is what the table says about one host path.
type hostPathClass struct {
	entry string // the matching entry's base path (p itself for a **/name entry); "" when none matches
	sev   finding.Severity
	gives string
}

// sensitive reports whether the path is for host-path-sensitive.
func (c hostPathClass) sensitive() bool { return c.entry != "" && c.sev >= finding.High }

// classifyHostPath grades hostPath p. p is cleaned first (/etc/../etc,
// trailing slashes, duplicate slashes). Among the entries p is or lies
// under, the most specific (longest) wins: /dev/log is the syslog socket,
// not a device. A directory is also graded by what it contains: /run holds
// the runtime socket. The grade is the stronger of the two. Settings'
// SensitiveHostPaths replace the table; their entries are critical.
func classifyHostPath(s *engine.Settings, p string) hostPathClass {
	if strings.TrimSpace(p) == "" {
		return hostPathClass{}
	}
	p = path.Clean("/" + strings.TrimSpace(p))
	table := defaultHostPaths
	if s != nil && s.SensitiveHostPaths != nil {
		entries := make([]hostPathEntry, len(s.SensitiveHostPaths))
		for i, e := range s.SensitiveHostPaths {
			entries[i] = hostPathEntry{e, finding.Critical, "a path the configuration names sensitive"}
		}
		table = compileHostPaths(entries)
	}
	var own, inside hostPathClass
	ownLen := -1
	for i := range table {
		e := &table[i]
		if e.name != "" {
			// Matched by name: the path itself is the sensitive one.
			if path.Base(p) == e.name && len(p) > ownLen {
				own, ownLen = hostPathClass{p, e.sev, e.gives}, len(p)
			}
			continue
		}
		switch {
		case p == e.base, e.subtree && strings.HasPrefix(p, e.prefix):
			if len(e.base) > ownLen {
				own, ownLen = hostPathClass{e.base, e.sev, e.gives}, len(e.base)
			}
		case p == "/" || len(e.base) > len(p) && e.base[len(p)] == '/' && strings.HasPrefix(e.base, p):
			if inside.entry == "" || e.sev > inside.sev {
				inside = hostPathClass{e.base, e.sev, e.gives}
			}
		}
	}
	if inside.entry != "" && (own.entry == "" || inside.sev > own.sev) {
		return inside
	}
	return own
}

// compiledHostPath is a hostPathEntry ready to match: its cleaned base
// path (and the prefix of paths below it), or the name a **/ pattern
// matches anywhere.
type compiledHostPath struct {
	hostPathEntry
	name         string // for **/name
	base, prefix string
	subtree      bool // pattern ends in /**
}

// defaultHostPaths is hostPathTable compiled once: paths are classified
// for every hostPath volume of every workload.
var defaultHostPaths = compileHostPaths(hostPathTable)

func compileHostPaths(entries []hostPathEntry) []compiledHostPath {
	out := make([]compiledHostPath, len(entries))
	for i, e := range entries {
		c := compiledHostPath{hostPathEntry: e}
		if name, ok := strings.CutPrefix(e.pattern, "**/"); ok {
			c.name = name
		} else {
			base, subtree := strings.CutSuffix(e.pattern, "/**")
			c.base, c.subtree = path.Clean("/"+base), subtree
			c.prefix = strings.TrimSuffix(c.base, "/") + "/"
		}
		out[i] = c
	}
	return out
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
