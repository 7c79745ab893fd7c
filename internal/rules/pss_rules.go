package rules

import (
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-secure/kubectl-secure/internal/engine"
	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

const (
	pssBaselineRef   = "https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline"
	pssRestrictedRef = "https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted"
	securityCtxRef   = "https://kubernetes.io/docs/tasks/configure-pod-container/security-context/"
	pspRef           = "https://kubernetes.io/docs/concepts/security/pod-security-policy/"
)

// cis renders a CIS Kubernetes Benchmark reference.
func cis(section, title string) string {
	return "CIS Kubernetes Benchmark v1.9 " + section + ": " + title
}

// Check IDs of k8s.io/pod-security-admission/policy.
const (
	chkPrivileged          = "privileged"
	chkHostNamespaces      = "hostNamespaces"
	chkHostPathVolumes     = "hostPathVolumes"
	chkHostPorts           = "hostPorts"
	chkCapsBaseline        = "capabilities_baseline"
	chkAppArmor            = "appArmorProfile"
	chkProcMount           = "procMount"
	chkSELinux             = "seLinuxOptions"
	chkSeccompBaseline     = "seccompProfile_baseline"
	chkSysctls             = "sysctls"
	chkWindowsHostProcess  = "windowsHostProcess"
	chkHostProbes          = "hostProbesAndHostLifecycle"
	chkAllowPrivEsc        = "allowPrivilegeEscalation"
	chkCapsRestricted      = "capabilities_restricted"
	chkProcMountRestricted = "procMount_restricted"
	chkRestrictedVolumes   = "restrictedVolumes"
	chkRunAsNonRoot        = "runAsNonRoot"
	chkRunAsUser           = "runAsUser"
	chkSeccompRestricted   = "seccompProfile_restricted"
)

// pssControls maps every Pod Security Admission check to rules. The
// baseline ones come first.
func pssControls() []*pssControl {
	return []*pssControl{
		{check: chkPrivileged, rules: []string{"privileged-container"}, locate: locatePrivileged},
		{check: chkHostNamespaces, rules: []string{"host-network", "host-pid", "host-ipc"}, locate: locateHostNamespaces},
		{check: chkHostPathVolumes, rules: []string{"host-path-volume", "host-path-sensitive"}, locate: locateHostPathVolumes},
		{check: chkHostPorts, rules: []string{"host-port"}, locate: locateHostPorts},
		{check: chkCapsBaseline, rules: []string{"non-default-capabilities", "dangerous-capabilities"}, locate: locateCapsBaseline},
		{check: chkAppArmor, rules: []string{"apparmor-unconfined"}, locate: locateAppArmor},
		{check: chkProcMount, rules: []string{"proc-mount-unmasked"}, locate: locateProcMount},
		{check: chkSELinux, rules: []string{"selinux-custom-options"}, locate: locateSELinux},
		{check: chkSeccompBaseline, rules: []string{"seccomp-unconfined"}, locate: locateSeccompBaseline},
		{check: chkSysctls, rules: []string{"unsafe-sysctls"}, locate: locateSysctls},
		{check: chkWindowsHostProcess, rules: []string{"windows-host-process"}, locate: locateWindowsHostProcess},
		{check: chkHostProbes, rules: []string{"probe-host"}, locate: locateHostProbes},
		{check: chkAllowPrivEsc, rules: []string{"allow-privilege-escalation"}, locate: locateAllowPrivEsc},
		{check: chkCapsRestricted, rules: []string{"capabilities-drop-all", "restricted-capabilities"}, locate: locateCapsRestricted},
		{check: chkProcMountRestricted, rules: []string{"proc-mount-restricted"}, locate: locateProcMountRestricted},
		{check: chkRestrictedVolumes, rules: []string{"restricted-volume-types"}, locate: locateRestrictedVolumes},
		{check: chkRunAsNonRoot, rules: []string{"run-as-non-root"}, locate: locateRunAsNonRoot},
		{check: chkRunAsUser, rules: []string{"run-as-root"}, locate: locateRunAsUser},
		{check: chkSeccompRestricted, rules: []string{"seccomp-profile-missing"}, locate: locateSeccompRestricted},
	}
}

// pssRules builds the rules of every control.
func pssRules() []*engine.Rule {
	infos := pssInfos()
	var out []*engine.Rule
	for _, ctrl := range pssControls() {
		for _, id := range ctrl.rules {
			ri, ok := infos[id]
			if !ok {
				panic("rules: no documentation for PSS rule " + id)
			}
			out = append(out, pssRule(ri, ctrl))
		}
	}
	return out
}

func scPath(ct *engine.ContainerRef, keys ...string) manifest.Path {
	return subPath2(ct.Path, 0, "securityContext", keys...)
}

func podSCPath(w *engine.Workload, keys ...string) manifest.Path {
	return subPath2(w.SpecPath, 0, "securityContext", keys...)
}

func locatePrivileged(e *pssEval) {
	for i := range e.w.Containers {
		ct := &e.w.Containers[i]
		sc := ct.Container.SecurityContext
		if sc != nil && sc.Privileged != nil && *sc.Privileged {
			if e.hit("privileged-container") {
				e.report(scPath(ct, "privileged"), describe(ct)+" in "+e.o.Ref().String()+" runs privileged")
			}
		}
	}
}

func locateHostNamespaces(e *pssEval) {
	s := e.w.Spec
	for _, h := range []struct {
		on          bool
		rule, field string
		what        string
	}{
		{s.HostNetwork, "host-network", "hostNetwork", "network"},
		{s.HostPID, "host-pid", "hostPID", "PID"},
		{s.HostIPC, "host-ipc", "hostIPC", "IPC"},
	} {
		if h.on {
			if e.hit(h.rule) {
				e.report(e.w.SpecPath.Key(h.field), e.o.Ref().String()+" shares the host's "+h.what+" namespace ("+h.field+": true)")
			}
		}
	}
}

// locateHostPathVolumes reports each hostPath volume once: a sensitive
// path as host-path-sensitive (at the path, graded by the host-path
// table), any other as host-path-volume (high, or the table's lower grade
// for a known low-risk path such as /dev/log).
func locateHostPathVolumes(e *pssEval) {
	for i, v := range e.w.Spec.Volumes {
		if v.HostPath == nil {
			continue
		}
		cl := classifyHostPath(e.s, v.HostPath.Path)
		if cl.sensitive() {
			if e.hit("host-path-sensitive") {
				var what string
				if path.Clean("/"+strings.TrimSpace(v.HostPath.Path)) != cl.entry {
					what = fmt.Sprintf("%q, which is or contains the sensitive host path %s (%s)", v.HostPath.Path, cl.entry, cl.gives)
				} else {
					what = fmt.Sprintf("the sensitive host path %q (%s)", v.HostPath.Path, cl.gives)
				}
				e.reportSeverity(volPath(e.w, i, "hostPath", "path"), cl.sev, fmt.Sprintf("volume %q mounts %s into %s (a hostPath volume, which the baseline Pod Security Standard forbids)", v.Name, what, e.o.Ref()))
			}
			continue
		}
		if e.hit("host-path-volume") {
			msg := "volume " + strconv.Quote(v.Name) + " mounts the host path " + strconv.Quote(v.HostPath.Path) + " into " + e.o.Ref().String()
			if cl.entry != "" {
				e.reportSeverity(volPath(e.w, i, "hostPath"), cl.sev, msg+" ("+cl.gives+")")
				continue
			}
			e.report(volPath(e.w, i, "hostPath"), msg)
		}
	}
}

func locateHostPorts(e *pssEval) {
	for i := range e.w.Containers {
		ct := &e.w.Containers[i]
		for j, p := range ct.Container.Ports {
			if p.HostPort != 0 {
				if e.hit("host-port") {
					e.report(ct.Path.Key("ports").Item(j, p.Name).Key("hostPort"), describe(ct)+" binds host port "+strconv.Itoa(int(p.HostPort)))
				}
			}
		}
	}
}

func capsPath(ct *engine.ContainerRef, list string, k int, name string) manifest.Path {
	return append(subPath2(ct.Path, 1, "securityContext", "capabilities", list), manifest.PathElem{Index: k, Name: name})
}

func locateCapsBaseline(e *pssEval) {
	dangerous := dangerousCapSet(e.s)
	for i := range e.w.Containers {
		ct := &e.w.Containers[i]
		sc := ct.Container.SecurityContext
		if sc == nil || sc.Capabilities == nil {
			continue
		}
		for k, c := range sc.Capabilities.Add {
			probe := e.probeContainer(corev1.Container{Name: ct.Container.Name, SecurityContext: &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: []corev1.Capability{c}}}})
			if !e.fails(chkCapsBaseline, nil, probe) {
				continue
			}
			if dangerous[normCap(string(c))] {
				if e.hit("dangerous-capabilities") {
					e.report(capsPath(ct, "add", k, string(c)), fmt.Sprintf("%s adds the dangerous capability %s", describe(ct), c))
				}
			} else {
				if e.hit("non-default-capabilities") {
					e.report(capsPath(ct, "add", k, string(c)), fmt.Sprintf("%s adds the capability %s, which is not in the default set", describe(ct), c))
				}
			}
		}
	}
}

const (
	appArmorAnnotationPrefix   = "container.apparmor.security.beta.kubernetes.io/"
	seccompPodAnnotation       = "seccomp.security.alpha.kubernetes.io/pod"
	seccompContainerAnnotation = "container.seccomp.security.alpha.kubernetes.io/"
)

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func locateAppArmor(e *pssEval) {
	const rule = "apparmor-unconfined"
	if sc := e.w.Spec.SecurityContext; sc != nil && sc.AppArmorProfile != nil {
		s := e.probe()
		s.SecurityContext = &corev1.PodSecurityContext{AppArmorProfile: sc.AppArmorProfile}
		if e.fails(chkAppArmor, nil, s) {
			if e.hit(rule) {
				e.report(podSCPath(e.w, "appArmorProfile", "type"), fmt.Sprintf("the pod of %s sets the AppArmor profile type %q", e.o.Ref(), sc.AppArmorProfile.Type))
			}
		}
	}
	for i := range e.w.Containers {
		ct := &e.w.Containers[i]
		sc := ct.Container.SecurityContext
		if sc == nil || sc.AppArmorProfile == nil {
			continue
		}
		s := e.probeContainer(corev1.Container{Name: ct.Container.Name, SecurityContext: &corev1.SecurityContext{AppArmorProfile: sc.AppArmorProfile}})
		if e.fails(chkAppArmor, nil, s) {
			if e.hit(rule) {
				e.report(scPath(ct, "appArmorProfile", "type"), fmt.Sprintf("%s sets the AppArmor profile type %q", describe(ct), sc.AppArmorProfile.Type))
			}
		}
	}
	for _, k := range sortedKeys(e.w.Meta.Annotations) {
		if !strings.HasPrefix(k, appArmorAnnotationPrefix) {
			continue
		}
		meta := &metav1.ObjectMeta{Annotations: map[string]string{k: e.w.Meta.Annotations[k]}}
		if e.fails(chkAppArmor, meta, e.probe()) {
			if e.hit(rule) {
				e.report(e.w.MetaPath.Key("annotations", k), fmt.Sprintf("annotation %s sets the AppArmor profile %q", k, e.w.Meta.Annotations[k]))
			}
		}
	}
}

func locateProcMount(e *pssEval) {
	for i := range e.w.Containers {
		ct := &e.w.Containers[i]
		sc := ct.Container.SecurityContext
		if sc == nil || sc.ProcMount == nil {
			continue
		}
		s := e.probeContainer(corev1.Container{Name: ct.Container.Name, SecurityContext: &corev1.SecurityContext{ProcMount: sc.ProcMount}})
		if e.fails(chkProcMount, nil, s) {
			if e.hit("proc-mount-unmasked") {
				e.report(scPath(ct, "procMount"), fmt.Sprintf("%s sets procMount: %s, exposing the host's /proc paths the runtime masks", describe(ct), *sc.ProcMount))
			}
		}
	}
}

func locateSELinux(e *pssEval) {
	const rule = "selinux-custom-options"
	try := func(opts *corev1.SELinuxOptions, base manifest.Path, who string) {
		if opts == nil {
			return
		}
		found := false
		for _, f := range []struct {
			key string
			o   corev1.SELinuxOptions
			val string
		}{
			{"type", corev1.SELinuxOptions{Type: opts.Type}, opts.Type},
			{"user", corev1.SELinuxOptions{User: opts.User}, opts.User},
			{"role", corev1.SELinuxOptions{Role: opts.Role}, opts.Role},
		} {
			s := e.probe()
			o := f.o
			s.SecurityContext = &corev1.PodSecurityContext{SELinuxOptions: &o}
			if e.fails(chkSELinux, nil, s) {
				found = true
				if e.hit(rule) {
					e.report(base.Key("seLinuxOptions", f.key), fmt.Sprintf("%s sets the SELinux %s %q", who, f.key, f.val))
				}
			}
		}
		if !found {
			s := e.probe()
			s.SecurityContext = &corev1.PodSecurityContext{SELinuxOptions: opts}
			if e.fails(chkSELinux, nil, s) {
				if e.hit(rule) {
					e.report(base.Key("seLinuxOptions"), fmt.Sprintf("%s sets forbidden SELinux options", who))
				}
			}
		}
	}
	if sc := e.w.Spec.SecurityContext; sc != nil {
		try(sc.SELinuxOptions, e.w.SpecPath.Key("securityContext"), "the pod of "+e.o.Ref().String())
	}
	for i := range e.w.Containers {
		ct := &e.w.Containers[i]
		if sc := ct.Container.SecurityContext; sc != nil {
			try(sc.SELinuxOptions, ct.Path.Key("securityContext"), describe(ct))
		}
	}
}

func validSeccomp(p *corev1.SeccompProfile) bool {
	return p != nil && (p.Type == corev1.SeccompProfileTypeRuntimeDefault || p.Type == corev1.SeccompProfileTypeLocalhost)
}

func locateSeccompBaseline(e *pssEval) {
	const rule = "seccomp-unconfined"
	if sc := e.w.Spec.SecurityContext; sc != nil && sc.SeccompProfile != nil {
		s := e.probe()
		s.SecurityContext = &corev1.PodSecurityContext{SeccompProfile: sc.SeccompProfile}
		if e.fails(chkSeccompBaseline, nil, s) {
			if e.hit(rule) {
				e.report(podSCPath(e.w, "seccompProfile", "type"), fmt.Sprintf("the pod of %s sets the seccomp profile type %q", e.o.Ref(), sc.SeccompProfile.Type))
			}
		}
	}
	for i := range e.w.Containers {
		ct := &e.w.Containers[i]
		sc := ct.Container.SecurityContext
		if sc == nil || sc.SeccompProfile == nil {
			continue
		}
		s := e.probeContainer(corev1.Container{Name: ct.Container.Name, SecurityContext: &corev1.SecurityContext{SeccompProfile: sc.SeccompProfile}})
		if e.fails(chkSeccompBaseline, nil, s) {
			if e.hit(rule) {
				e.report(scPath(ct, "seccompProfile", "type"), fmt.Sprintf("%s sets the seccomp profile type %q", describe(ct), sc.SeccompProfile.Type))
			}
		}
	}
	// Policy versions before 1.19 read the alpha annotations instead.
	names := e.probe()
	for i := range e.w.Containers {
		names.Containers = append(names.Containers, corev1.Container{Name: e.w.Containers[i].Container.Name})
	}
	for _, k := range sortedKeys(e.w.Meta.Annotations) {
		if k != seccompPodAnnotation && !strings.HasPrefix(k, seccompContainerAnnotation) {
			continue
		}
		meta := &metav1.ObjectMeta{Annotations: map[string]string{k: e.w.Meta.Annotations[k]}}
		if e.fails(chkSeccompBaseline, meta, names) {
			if e.hit(rule) {
				e.report(e.w.MetaPath.Key("annotations", k), fmt.Sprintf("annotation %s sets the seccomp profile %q", k, e.w.Meta.Annotations[k]))
			}
		}
	}
}

func locateSysctls(e *pssEval) {
	sc := e.w.Spec.SecurityContext
	if sc == nil {
		return
	}
	for i, sy := range sc.Sysctls {
		s := e.probe()
		s.SecurityContext = &corev1.PodSecurityContext{Sysctls: []corev1.Sysctl{sy}}
		if e.fails(chkSysctls, nil, s) {
			if e.hit("unsafe-sysctls") {
				e.report(podSCPath(e.w, "sysctls").Item(i, sy.Name).Key("name"), fmt.Sprintf("the pod of %s sets the unsafe sysctl %s", e.o.Ref(), sy.Name))
			}
		}
	}
}

func locateWindowsHostProcess(e *pssEval) {
	const rule = "windows-host-process"
	if sc := e.w.Spec.SecurityContext; sc != nil && sc.WindowsOptions != nil && sc.WindowsOptions.HostProcess != nil && *sc.WindowsOptions.HostProcess {
		if e.hit(rule) {
			e.report(podSCPath(e.w, "windowsOptions", "hostProcess"), fmt.Sprintf("the pod of %s runs as a Windows HostProcess pod", e.o.Ref()))
		}
	}
	for i := range e.w.Containers {
		ct := &e.w.Containers[i]
		sc := ct.Container.SecurityContext
		if sc != nil && sc.WindowsOptions != nil && sc.WindowsOptions.HostProcess != nil && *sc.WindowsOptions.HostProcess {
			if e.hit(rule) {
				e.report(scPath(ct, "windowsOptions", "hostProcess"), fmt.Sprintf("%s runs as a Windows HostProcess container", describe(ct)))
			}
		}
	}
}

func locateHostProbes(e *pssEval) {
	const rule = "probe-host"
	for i := range e.w.Containers {
		ct := &e.w.Containers[i]
		c := ct.Container
		for _, p := range []struct {
			key   string
			probe *corev1.Probe
		}{{"livenessProbe", c.LivenessProbe}, {"readinessProbe", c.ReadinessProbe}, {"startupProbe", c.StartupProbe}} {
			if p.probe == nil {
				continue
			}
			if g := p.probe.HTTPGet; g != nil && g.Host != "" {
				if e.hit(rule) {
					e.report(ct.Path.Key(p.key, "httpGet", "host"), fmt.Sprintf("%s's %s targets the host %q", describe(ct), p.key, g.Host))
				}
			}
			if t := p.probe.TCPSocket; t != nil && t.Host != "" {
				if e.hit(rule) {
					e.report(ct.Path.Key(p.key, "tcpSocket", "host"), fmt.Sprintf("%s's %s targets the host %q", describe(ct), p.key, t.Host))
				}
			}
		}
		if c.Lifecycle == nil {
			continue
		}
		for _, h := range []struct {
			key string
			h   *corev1.LifecycleHandler
		}{{"postStart", c.Lifecycle.PostStart}, {"preStop", c.Lifecycle.PreStop}} {
			if h.h == nil {
				continue
			}
			if g := h.h.HTTPGet; g != nil && g.Host != "" {
				if e.hit(rule) {
					e.report(ct.Path.Key("lifecycle", h.key, "httpGet", "host"), fmt.Sprintf("%s's %s hook targets the host %q", describe(ct), h.key, g.Host))
				}
			}
			if t := h.h.TCPSocket; t != nil && t.Host != "" {
				if e.hit(rule) {
					e.report(ct.Path.Key("lifecycle", h.key, "tcpSocket", "host"), fmt.Sprintf("%s's %s hook targets the host %q", describe(ct), h.key, t.Host))
				}
			}
		}
	}
}

func locateAllowPrivEsc(e *pssEval) {
	for i := range e.w.Containers {
		ct := &e.w.Containers[i]
		sc := ct.Container.SecurityContext
		switch {
		case sc == nil || sc.AllowPrivilegeEscalation == nil:
			if e.hit("allow-privilege-escalation") {
				e.report(scPath(ct, "allowPrivilegeEscalation"), describe(ct)+" does not set securityContext.allowPrivilegeEscalation: false")
			}
		case *sc.AllowPrivilegeEscalation:
			if e.hit("allow-privilege-escalation") {
				e.report(scPath(ct, "allowPrivilegeEscalation"), describe(ct)+" allows privilege escalation (allowPrivilegeEscalation: true)")
			}
		}
	}
}

func locateCapsRestricted(e *pssEval) {
	for i := range e.w.Containers {
		ct := &e.w.Containers[i]
		sc := ct.Container.SecurityContext
		var caps *corev1.Capabilities
		if sc != nil {
			caps = sc.Capabilities
		}
		dropsAll := false
		if caps != nil {
			for _, c := range caps.Drop {
				if c == "ALL" {
					dropsAll = true
					break
				}
			}
		}
		if !dropsAll {
			if e.hit("capabilities-drop-all") {
				e.report(scPath(ct, "capabilities", "drop"), describe(ct)+" does not drop ALL capabilities")
			}
		}
		if caps == nil {
			continue
		}
		for k, c := range caps.Add {
			if c == "NET_BIND_SERVICE" {
				continue
			}
			probe := e.probeContainer(corev1.Container{Name: ct.Container.Name, SecurityContext: &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: []corev1.Capability{c}}}})
			if e.fails(chkCapsBaseline, nil, probe) {
				continue // reported by non-default-capabilities or dangerous-capabilities
			}
			if e.hit("restricted-capabilities") {
				e.report(capsPath(ct, "add", k, string(c)), fmt.Sprintf("%s adds the capability %s; the restricted profile allows adding only NET_BIND_SERVICE", describe(ct), c))
			}
		}
	}
}

func locateProcMountRestricted(e *pssEval) {
	for i := range e.w.Containers {
		ct := &e.w.Containers[i]
		sc := ct.Container.SecurityContext
		if sc == nil || sc.ProcMount == nil {
			continue
		}
		s := e.probeContainer(corev1.Container{Name: ct.Container.Name, SecurityContext: &corev1.SecurityContext{ProcMount: sc.ProcMount}})
		if !e.fails(chkProcMountRestricted, nil, s) || e.fails(chkProcMount, nil, s) {
			continue // allowed, or reported by proc-mount-unmasked
		}
		if e.hit("proc-mount-restricted") {
			e.report(scPath(ct, "procMount"), fmt.Sprintf("%s sets procMount: %s; the restricted profile forbids it even in a user namespace", describe(ct), *sc.ProcMount))
		}
	}
}

func locateRestrictedVolumes(e *pssEval) {
	for i, v := range e.w.Spec.Volumes {
		if v.HostPath != nil {
			continue // reported by host-path-volume
		}
		s := e.probe()
		s.Volumes = []corev1.Volume{v}
		if !e.fails(chkRestrictedVolumes, nil, s) {
			continue
		}
		p := e.w.VolumePath(i)
		typ := ""
		if n := e.o.Get(p); n != nil {
			if n = manifest.Resolve(n); n.Kind == yaml.MappingNode {
				for j := 0; j+1 < len(n.Content); j += 2 {
					if k := n.Content[j].Value; k != "name" {
						typ = k
						break
					}
				}
			}
		}
		if typ != "" {
			p = p.Key(typ)
		} else {
			typ = "unknown"
		}
		if e.hit("restricted-volume-types") {
			e.report(p, "volume "+strconv.Quote(v.Name)+" uses the "+typ+" volume type, which the restricted profile forbids")
		}
	}
}

func locateRunAsNonRoot(e *pssEval) {
	const rule = "run-as-non-root"
	podTrue, podFalse := false, false
	if sc := e.w.Spec.SecurityContext; sc != nil && sc.RunAsNonRoot != nil {
		podTrue, podFalse = *sc.RunAsNonRoot, !*sc.RunAsNonRoot
	}
	if podFalse {
		if e.hit(rule) {
			e.report(podSCPath(e.w, "runAsNonRoot"), fmt.Sprintf("the pod of %s sets runAsNonRoot: false", e.o.Ref()))
		}
	}
	for i := range e.w.Containers {
		ct := &e.w.Containers[i]
		sc := ct.Container.SecurityContext
		switch {
		case sc != nil && sc.RunAsNonRoot != nil:
			if !*sc.RunAsNonRoot {
				if e.hit(rule) {
					e.report(scPath(ct, "runAsNonRoot"), describe(ct)+" sets runAsNonRoot: false")
				}
			}
		case !podTrue && !podFalse:
			if e.hit(rule) {
				e.report(scPath(ct, "runAsNonRoot"), runAsNonRootMissing(e.w, ct))
			}
		}
	}
}

// runAsNonRootMissing says what is missing for a container that neither
// it nor its pod marks runAsNonRoot: with a non-zero runAsUser the
// container does not run as root, but nothing makes the kubelet refuse
// UID 0 should the user setting go away, and the Pod Security Standard
// requires the explicit flag.
func runAsNonRootMissing(w *engine.Workload, ct *engine.ContainerRef) string {
	var uid *int64
	if sc := ct.Container.SecurityContext; sc != nil {
		uid = sc.RunAsUser
	}
	if uid == nil && w.Spec.SecurityContext != nil {
		uid = w.Spec.SecurityContext.RunAsUser
	}
	if uid != nil && *uid != 0 {
		return fmt.Sprintf("%s runs as user %d but neither it nor the pod sets runAsNonRoot: true, which the restricted Pod Security Standard requires so that the kubelet refuses to start it as root", describe(ct), *uid)
	}
	return describe(ct) + " may run as root: neither it nor the pod sets runAsNonRoot: true"
}

func locateRunAsUser(e *pssEval) {
	const rule = "run-as-root"
	if sc := e.w.Spec.SecurityContext; sc != nil && sc.RunAsUser != nil && *sc.RunAsUser == 0 {
		if e.hit(rule) {
			e.report(podSCPath(e.w, "runAsUser"), fmt.Sprintf("the pod of %s runs as root (runAsUser: 0)", e.o.Ref()))
		}
	}
	for i := range e.w.Containers {
		ct := &e.w.Containers[i]
		if sc := ct.Container.SecurityContext; sc != nil && sc.RunAsUser != nil && *sc.RunAsUser == 0 {
			if e.hit(rule) {
				e.report(scPath(ct, "runAsUser"), fmt.Sprintf("%s runs as root (runAsUser: 0)", describe(ct)))
			}
		}
	}
}

func locateSeccompRestricted(e *pssEval) {
	if sc := e.w.Spec.SecurityContext; sc != nil && sc.SeccompProfile != nil {
		// Valid at pod level: containers inherit it. Invalid: reported by
		// seccomp-unconfined, and fixing it fixes the containers too.
		return
	}
	for i := range e.w.Containers {
		ct := &e.w.Containers[i]
		if sc := ct.Container.SecurityContext; sc == nil || sc.SeccompProfile == nil {
			if e.hit("seccomp-profile-missing") {
				e.report(scPath(ct, "seccompProfile"), describe(ct)+" has no seccomp profile and the pod sets none")
			}
		}
	}
}

// pssInfos documents the PSS rules; pssRule prepends the level tag.
func pssInfos() map[string]finding.RuleInfo {
	list := []finding.RuleInfo{
		{
			ID: "privileged-container", Title: "Privileged container", Severity: finding.Critical, Category: "pod-security",
			Tags:        []string{"psp:privileged", "cis:5.2.2"},
			Rationale:   "A privileged container runs with all Linux capabilities and with access to every host device: it is root on the node, and a compromise of it is a compromise of the node.",
			Remediation: "Remove securityContext.privileged or set it to false; grant only the specific capabilities the workload needs.",
			Example:     "securityContext:\n  privileged: false\n",
			References:  []string{pssBaselineRef, cis("5.2.2", "Minimize the admission of privileged containers")},
		},
		{
			ID: "host-network", Title: "Pod uses the host network", Severity: finding.High, Category: "pod-security",
			Tags:        []string{"psp:host-namespaces", "cis:5.2.5"},
			Rationale:   "A pod on the host network can bind to any host port, sniff node traffic and reach services bound to the node's loopback, bypassing NetworkPolicy.",
			Remediation: "Remove spec.hostNetwork or set it to false; expose the workload through a Service instead.",
			Example:     "spec:\n  hostNetwork: false\n",
			References:  []string{pssBaselineRef, cis("5.2.5", "Minimize the admission of containers wishing to share the host network namespace")},
		},
		{
			ID: "host-pid", Title: "Pod shares the host PID namespace", Severity: finding.High, Category: "pod-security",
			Tags:        []string{"psp:host-namespaces", "cis:5.2.3"},
			Rationale:   "A pod in the host PID namespace sees every process on the node and, with ptrace or /proc access, can read their memory and environment, including secrets.",
			Remediation: "Remove spec.hostPID or set it to false.",
			Example:     "spec:\n  hostPID: false\n",
			References:  []string{pssBaselineRef, cis("5.2.3", "Minimize the admission of containers wishing to share the host process ID namespace")},
		},
		{
			ID: "host-ipc", Title: "Pod shares the host IPC namespace", Severity: finding.High, Category: "pod-security",
			Tags:        []string{"psp:host-namespaces", "cis:5.2.4"},
			Rationale:   "A pod in the host IPC namespace can read and write the shared memory of every process on the node.",
			Remediation: "Remove spec.hostIPC or set it to false.",
			Example:     "spec:\n  hostIPC: false\n",
			References:  []string{pssBaselineRef, cis("5.2.4", "Minimize the admission of containers wishing to share the host IPC namespace")},
		},
		{
			ID: "host-path-volume", Title: "HostPath volume", Severity: finding.High, Category: "pod-security",
			Tags:        []string{"psp:volumes", "cis:5.2.12"},
			Rationale:   "A hostPath volume gives the pod direct access to the node's filesystem: it can read other pods' data and credentials and, when writable, plant files the node executes. The baseline profile forbids hostPath volumes of any kind. A volume whose path is sensitive is reported once, as host-path-sensitive, not by this rule as well; a known low-risk path (the syslog socket /dev/log, the journal socket, the time zone) is reported here at low severity (see host-path-sensitive for the table).",
			Remediation: "Replace the hostPath volume with an emptyDir, a ConfigMap/Secret, a PersistentVolumeClaim or a CSI volume. Node agents that truly need host access belong in a dedicated namespace with a privileged Pod Security level.",
			Example:     "volumes:\n  - name: cache\n    emptyDir: {}\n",
			References:  []string{pssBaselineRef, cis("5.2.12", "Minimize the admission of HostPath volumes")},
		},
		{
			ID: "host-path-sensitive", Title: "HostPath volume exposes a sensitive host path", Severity: finding.Critical, Category: "pod-security",
			Tags:        []string{"psp:allowed-host-paths", "cis:5.2.12"},
			Rationale:   "A hostPath volume on one of these paths hands the pod part of the node, graded by what the path gives: " + hostPathTableDoc() + " Paths are compared after cleaning (/etc/../etc, trailing slashes) by prefix — the most specific entry wins for a path below one (/dev/log is the syslog socket, not a device) and a directory is graded by the most dangerous path it contains (/var holds /var/lib/kubelet, /run the runtime socket) — and runtime sockets by name wherever they are. Such a volume is reported here only, not also as host-path-volume (the message says it is a hostPath volume the baseline Pod Security Standard forbids). sensitiveHostPaths in the configuration replaces the table; its entries are critical.",
			Remediation: "Remove the volume. Talk to the Kubernetes API instead of the runtime socket; use a CSI driver, a projected volume or a dedicated node agent for what the pod needs from the node.",
			Example:     "volumes:\n  - name: scratch\n    emptyDir: {}\n",
			References:  []string{pssBaselineRef, pspRef, cis("5.2.12", "Minimize the admission of HostPath volumes")},
		},
		{
			ID: "host-port", Title: "Container binds a host port", Severity: finding.Medium, Category: "pod-security",
			Tags:        []string{"psp:host-ports", "cis:5.2.13"},
			Rationale:   "A hostPort exposes the container on every address of the node, bypassing Services and NetworkPolicy, and limits scheduling to one such pod per node.",
			Remediation: "Remove ports[].hostPort and expose the container through a Service (ClusterIP, or LoadBalancer with source ranges).",
			Example:     "ports:\n  - containerPort: 8080\n",
			References:  []string{pssBaselineRef, cis("5.2.13", "Minimize the admission of containers which use HostPorts")},
		},
		{
			ID: "non-default-capabilities", Title: "Container adds a capability beyond the default set", Severity: finding.Medium, Category: "pod-security",
			Tags:        []string{"psp:capabilities", "cis:5.2.9"},
			Rationale:   "Capabilities beyond the container runtime's default set (for example NET_RAW, which allows packet spoofing) widen the kernel attack surface and help container breakouts. The baseline profile forbids adding them. Capabilities that amount to root on the node are reported by dangerous-capabilities instead.",
			Remediation: "Remove the capability from securityContext.capabilities.add; run the workload without it or redesign the part that needs it.",
			Example:     "securityContext:\n  capabilities:\n    drop: [\"ALL\"]\n    add: [\"NET_BIND_SERVICE\"]\n",
			References:  []string{pssBaselineRef, cis("5.2.9", "Minimize the admission of containers with added capabilities"), cis("5.2.8", "Minimize the admission of containers with the NET_RAW capability")},
		},
		{
			ID: "dangerous-capabilities", Title: "Container adds a dangerous capability", Severity: finding.High, Category: "pod-security",
			Tags:        []string{"psp:capabilities", "cis:5.2.9"},
			Rationale:   "Capabilities such as SYS_ADMIN, NET_ADMIN, SYS_PTRACE, SYS_MODULE, DAC_READ_SEARCH or BPF each allow known container escapes or control of the node's network, kernel or other processes. The baseline profile forbids adding them.",
			Remediation: "Remove the capability from securityContext.capabilities.add. If a node agent really needs it, run it in a dedicated namespace with a privileged Pod Security level and document why.",
			Example:     "securityContext:\n  capabilities:\n    drop: [\"ALL\"]\n",
			References:  []string{pssBaselineRef, cis("5.2.9", "Minimize the admission of containers with added capabilities"), "https://man7.org/linux/man-pages/man7/capabilities.7.html"},
		},
		{
			ID: "apparmor-unconfined", Title: "AppArmor profile disabled or overridden", Severity: finding.Medium, Category: "pod-security",
			Tags:        []string{"psp:apparmor"},
			Rationale:   "The runtime's default AppArmor profile blocks mounts, writes to /proc and /sys and other breakout primitives. Setting the profile to Unconfined (or to an unknown value) removes that layer. The baseline profile allows only RuntimeDefault and Localhost profiles.",
			Remediation: "Set appArmorProfile.type to RuntimeDefault, or to Localhost with a reviewed profile; remove unconfined AppArmor annotations.",
			Example:     "securityContext:\n  appArmorProfile:\n    type: RuntimeDefault\n",
			References:  []string{pssBaselineRef, "https://kubernetes.io/docs/tutorials/security/apparmor/"},
		},
		{
			ID: "proc-mount-unmasked", Title: "Container unmasks /proc", Severity: finding.High, Category: "pod-security",
			Tags:        []string{"psp:proc-mount"},
			Rationale:   "procMount: Unmasked disables the masking of sensitive /proc paths (such as /proc/kcore and /proc/sysrq-trigger) that the runtime applies; outside a user namespace that exposes the host kernel.",
			Remediation: "Remove securityContext.procMount or set it to Default.",
			Example:     "securityContext:\n  procMount: Default\n",
			References:  []string{pssBaselineRef},
		},
		{
			ID: "selinux-custom-options", Title: "Custom SELinux type, user or role", Severity: finding.Medium, Category: "pod-security",
			Tags:        []string{"psp:selinux"},
			Rationale:   "The SELinux type confines a container; setting an unconfined or host type (spc_t, unconfined_t, ...) or a custom user or role lifts that confinement. The baseline profile allows only the container types (container_t, container_init_t, container_kvm_t, container_engine_t) and no user or role.",
			Remediation: "Remove seLinuxOptions.user and .role, and leave .type unset or set it to container_t.",
			Example:     "securityContext:\n  seLinuxOptions:\n    level: \"s0:c123,c456\"\n",
			References:  []string{pssBaselineRef},
		},
		{
			ID: "seccomp-unconfined", Title: "Seccomp profile set to Unconfined", Severity: finding.Medium, Category: "pod-security",
			Tags:        []string{"psp:seccomp", "cis:5.7.2"},
			Rationale:   "Seccomp filters the system calls a container may make; the runtime default profile blocks dozens used in kernel exploits. An Unconfined profile turns the filter off. The baseline profile allows only RuntimeDefault and Localhost.",
			Remediation: "Set seccompProfile.type to RuntimeDefault (or Localhost with a reviewed profile).",
			Example:     "securityContext:\n  seccompProfile:\n    type: RuntimeDefault\n",
			References:  []string{pssBaselineRef, "https://kubernetes.io/docs/tutorials/security/seccomp/", cis("5.7.2", "Ensure that the seccomp profile is set to docker/default in your pod definitions")},
		},
		{
			ID: "unsafe-sysctls", Title: "Unsafe sysctl", Severity: finding.High, Category: "pod-security",
			Tags:        []string{"psp:sysctls"},
			Rationale:   "Sysctls outside the namespaced, isolated safe set change kernel parameters for the whole node or disable security mechanisms. The baseline profile allows only the safe set.",
			Remediation: "Remove the sysctl from spec.securityContext.sysctls; tune the node itself if the setting is really needed.",
			Example:     "securityContext:\n  sysctls:\n    - name: net.ipv4.ip_local_port_range\n      value: \"32768 60999\"\n",
			References:  []string{pssBaselineRef, "https://kubernetes.io/docs/tasks/administer-cluster/sysctl-cluster/"},
		},
		{
			ID: "windows-host-process", Title: "Windows HostProcess container", Severity: finding.Critical, Category: "pod-security",
			Tags:        []string{"psp:host-process", "cis:5.2.11"},
			Rationale:   "A Windows HostProcess container runs directly on the Windows node with the privileges of a host process: it is the Windows equivalent of a privileged container.",
			Remediation: "Remove windowsOptions.hostProcess or set it to false.",
			Example:     "securityContext:\n  windowsOptions:\n    hostProcess: false\n",
			References:  []string{pssBaselineRef, cis("5.2.11", "Minimize the admission of Windows HostProcess containers")},
		},
		{
			ID: "probe-host", Title: "Probe or lifecycle hook targets another host", Severity: finding.Medium, Category: "pod-security",
			Tags:        []string{},
			Rationale:   "The kubelet runs HTTP and TCP probes and hooks from the node; a host field lets the pod make the kubelet connect to arbitrary addresses, including ones only the node can reach (a server-side request forgery). The baseline profile forbids setting host.",
			Remediation: "Remove the host field so the probe targets the pod's own IP.",
			Example:     "livenessProbe:\n  httpGet:\n    path: /healthz\n    port: 8080\n",
			References:  []string{pssBaselineRef},
		},
		{
			ID: "allow-privilege-escalation", Title: "Privilege escalation allowed", Severity: finding.Medium, Category: "pod-security",
			Tags:        []string{"psp:privilege-escalation", "cis:5.2.6"},
			Rationale:   "Unless allowPrivilegeEscalation is false, a process can gain more privileges than its parent through setuid binaries or file capabilities (no_new_privs is not set). The restricted profile requires false.",
			Remediation: "Set securityContext.allowPrivilegeEscalation: false on every container.",
			Example:     "securityContext:\n  allowPrivilegeEscalation: false\n",
			References:  []string{pssRestrictedRef, cis("5.2.6", "Minimize the admission of containers with allowPrivilegeEscalation")},
		},
		{
			ID: "capabilities-drop-all", Title: "Container does not drop ALL capabilities", Severity: finding.Medium, Category: "pod-security",
			Tags:        []string{"psp:capabilities", "cis:5.2.10"},
			Rationale:   "Containers start with the runtime's default capability set (CHOWN, DAC_OVERRIDE, FOWNER, SETUID, NET_RAW with some runtimes, ...), most of which applications never use and attackers do. The restricted profile requires dropping ALL.",
			Remediation: "Add ALL to securityContext.capabilities.drop, then add back only NET_BIND_SERVICE if the process binds a port below 1024.",
			Example:     "securityContext:\n  capabilities:\n    drop: [\"ALL\"]\n",
			References:  []string{pssRestrictedRef, cis("5.2.10", "Minimize the admission of containers with capabilities assigned")},
		},
		{
			ID: "restricted-capabilities", Title: "Container adds a capability the restricted profile forbids", Severity: finding.Medium, Category: "pod-security",
			Tags:        []string{"psp:capabilities", "cis:5.2.9"},
			Rationale:   "The restricted profile allows adding back only NET_BIND_SERVICE after dropping ALL; default-set capabilities such as CHOWN, SETUID or DAC_OVERRIDE are not needed by well-built images and help privilege escalation inside the container.",
			Remediation: "Remove the capability from securityContext.capabilities.add (fix file ownership in the image instead of adding CHOWN or DAC_OVERRIDE).",
			Example:     "securityContext:\n  capabilities:\n    drop: [\"ALL\"]\n    add: [\"NET_BIND_SERVICE\"]\n",
			References:  []string{pssRestrictedRef, cis("5.2.9", "Minimize the admission of containers with added capabilities")},
		},
		{
			ID: "proc-mount-restricted", Title: "Unmasked /proc in a user-namespaced pod", Severity: finding.Medium, Category: "pod-security",
			Tags:        []string{"psp:proc-mount"},
			Rationale:   "The baseline profile tolerates procMount: Unmasked in pods with their own user namespace (hostUsers: false); the restricted profile does not, because unmasked /proc still exposes kernel interfaces.",
			Remediation: "Remove securityContext.procMount or set it to Default.",
			Example:     "securityContext:\n  procMount: Default\n",
			References:  []string{pssRestrictedRef},
		},
		{
			ID: "restricted-volume-types", Title: "Volume type not allowed by the restricted profile", Severity: finding.Medium, Category: "pod-security",
			Tags:        []string{"psp:volumes"},
			Rationale:   "Inline network and cloud volumes (nfs, iscsi, rbd, gitRepo, awsElasticBlockStore, ...) bypass PersistentVolume access control and some, like gitRepo, have had node-level exploits. The restricted profile allows only configMap, csi, downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim, projected and secret.",
			Remediation: "Provision the storage as a PersistentVolume and mount it through a PersistentVolumeClaim (or a CSI volume); replace gitRepo with an init container that clones into an emptyDir.",
			Example:     "volumes:\n  - name: data\n    persistentVolumeClaim:\n      claimName: data\n",
			References:  []string{pssRestrictedRef},
		},
		{
			ID: "run-as-non-root", Title: "Container may run as root", Severity: finding.Medium, Category: "pod-security",
			Tags:        []string{"psp:users-groups", "cis:5.2.7"},
			Rationale:   "Without runAsNonRoot: true the kubelet starts the container as whatever user the image declares, often root; root in a container is one kernel bug or misconfiguration away from root on the node. The restricted profile requires runAsNonRoot: true (unless the pod has its own user namespace).",
			Remediation: "Set securityContext.runAsNonRoot: true on the pod (or every container) and give the image a non-root USER (or set runAsUser).",
			Example:     "securityContext:\n  runAsNonRoot: true\n  runAsUser: 10001\n",
			References:  []string{pssRestrictedRef, cis("5.2.7", "Minimize the admission of root containers")},
		},
		{
			ID: "run-as-root", Title: "Container runs as UID 0", Severity: finding.Medium, Category: "pod-security",
			Tags:        []string{"psp:users-groups", "cis:5.2.7"},
			Rationale:   "runAsUser: 0 explicitly runs the process as root. The restricted profile forbids it (unless the pod has its own user namespace).",
			Remediation: "Set runAsUser to a non-zero UID the image supports, and runAsNonRoot: true.",
			Example:     "securityContext:\n  runAsUser: 10001\n  runAsNonRoot: true\n",
			References:  []string{pssRestrictedRef, cis("5.2.7", "Minimize the admission of root containers")},
		},
		{
			ID: "seccomp-profile-missing", Title: "No seccomp profile", Severity: finding.Medium, Category: "pod-security",
			Tags:        []string{"psp:seccomp", "cis:5.7.2"},
			Rationale:   "Without a seccomp profile the container runs Unconfined unless the kubelet's SeccompDefault is on: every system call, including those used in kernel exploits, is available. The restricted profile requires RuntimeDefault or Localhost.",
			Remediation: "Set spec.securityContext.seccompProfile.type: RuntimeDefault on the pod (containers inherit it).",
			Example:     "spec:\n  securityContext:\n    seccompProfile:\n      type: RuntimeDefault\n",
			References:  []string{pssRestrictedRef, "https://kubernetes.io/docs/tutorials/security/seccomp/", cis("5.7.2", "Ensure that the seccomp profile is set to docker/default in your pod definitions")},
		},
	}
	m := make(map[string]finding.RuleInfo, len(list))
	for _, ri := range list {
		m[ri.ID] = ri
	}
	return m
}
