package rules

import (
	"fmt"
	"strings"

	"github.com/kubectl-secure/kubectl-secure/internal/engine"
	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

const (
	rbacGroup     = "rbac.authorization.k8s.io"
	rbacRef       = "https://kubernetes.io/docs/reference/access-authn-authz/rbac/"
	rbacGoodPract = "https://kubernetes.io/docs/concepts/security/rbac-good-practices/"
)

// roleHit is a risky permission of a role.
type roleHit struct {
	rule string
	path manifest.Path
	msg  string
}

// permCheck is a risky permission: some verbs on some resources of some
// API groups, matched with wildcards in any of the three. Rules narrowed by
// resourceNames are not reported.
type permCheck struct {
	rule      string
	groups    []string
	resources []string
	verbs     []string
	what      string
}

var permChecks = []permCheck{
	{"rbac-secrets-read", []string{""}, []string{"secrets"}, []string{"get", "list", "watch"}, "read Secrets"},
	{"rbac-pod-exec", []string{""}, []string{"pods/exec", "pods/attach", "pods/ephemeralcontainers", "pods/*"}, []string{"create", "get", "update", "patch"}, "run commands in or attach to running pods"},
	{"rbac-nodes-proxy", []string{""}, []string{"nodes/proxy", "nodes/*"}, []string{"get", "create", "update", "patch", "delete"}, "reach the kubelet API through nodes/proxy"},
	{"rbac-create-pods", []string{""}, []string{"pods", "replicationcontrollers"}, []string{"create"}, "create pods"},
	{"rbac-create-pods", []string{"apps"}, []string{"deployments", "daemonsets", "statefulsets", "replicasets"}, []string{"create"}, "create workload controllers"},
	{"rbac-create-pods", []string{"batch"}, []string{"jobs", "cronjobs"}, []string{"create"}, "create Jobs"},
	{"rbac-sa-token", []string{""}, []string{"serviceaccounts/token"}, []string{"create"}, "mint service account tokens"},
	{"rbac-csr-approval", []string{"certificates.k8s.io"}, []string{"certificatesigningrequests/approval"}, []string{"update", "patch"}, "approve certificate signing requests"},
	{"rbac-csr-approval", []string{"certificates.k8s.io"}, []string{"signers"}, []string{"approve"}, "approve certificates for signers"},
	{"rbac-webhook-config", []string{"admissionregistration.k8s.io"}, []string{"validatingwebhookconfigurations", "mutatingwebhookconfigurations", "validatingadmissionpolicies", "validatingadmissionpolicybindings", "mutatingadmissionpolicies", "mutatingadmissionpolicybindings"}, []string{"create", "update", "patch", "delete", "deletecollection"}, "change admission webhooks and policies"},
}

// roleHits evaluates every rule written in a Role or ClusterRole.
func roleHits(o *manifest.Object) []roleHit {
	if !isRole(o) {
		return nil
	}
	var hits []roleHit
	for _, r := range readRules(o) {
		hits = append(hits, ruleHits(&r)...)
	}
	return hits
}

// ruleHits evaluates one policy rule: one finding per wildcard field
// (rbac-wildcard, at the "*"), per escalation verb, and per risky
// permission rule at the resources item that grants it.
func ruleHits(r *PolicyRule) []roleHit {
	ref := "the built-in cluster-admin role"
	if r.Role != nil {
		ref = r.Role.Ref().String()
	}
	var hits []roleHit
	if len(r.resources) > 0 || len(r.nonResourceURLs) == 0 {
		for _, f := range []struct {
			name  string
			items []strItem
		}{{"apiGroups", r.apiGroups}, {"resources", r.resources}, {"verbs", r.verbs}} {
			if it, ok := has(f.items, "*"); ok {
				hits = append(hits, roleHit{"rbac-wildcard", r.Path(f.name, it.i), fmt.Sprintf("%s rule %d grants * in %s", ref, r.Index, f.name)})
			}
		}
	}
	for _, v := range r.verbs {
		if v.v == "escalate" || v.v == "bind" || v.v == "impersonate" {
			hits = append(hits, roleHit{"rbac-escalate-bind-impersonate", r.Path("verbs", v.i), fmt.Sprintf("%s grants the %s verb", ref, v.v)})
		}
	}
	if v, ok := has(r.verbs, "*"); ok {
		// Every verb includes escalate and bind on roles, and
		// impersonate on identities.
		for _, e := range []struct {
			groups, resources []string
			verbs             string
		}{
			{[]string{rbacGroup}, []string{"roles", "clusterroles"}, "escalate and bind"},
			{[]string{"", "authentication.k8s.io"}, []string{"users", "groups", "serviceaccounts", "uids", "userextras/scopes"}, "impersonate"},
		} {
			if ms := r.Grants(e.groups, e.resources, []string{"*"}); len(ms) > 0 {
				hits = append(hits, roleHit{"rbac-escalate-bind-impersonate", r.Path("verbs", v.i), fmt.Sprintf("%s grants every verb on %s, which includes %s", ref, ms[0].Resource, e.verbs)})
			}
		}
	}
	reported := map[string]bool{} // one finding per rule and resources item
	for _, pc := range permChecks {
		for _, m := range r.Grants(pc.groups, pc.resources, pc.verbs) {
			if reported[pc.rule+"\x00"+m.Resource] {
				continue
			}
			reported[pc.rule+"\x00"+m.Resource] = true
			v := m.Verb
			if v == "*" {
				v = "every verb"
			}
			hits = append(hits, roleHit{pc.rule, r.Path("resources", m.ResourceIndex), fmt.Sprintf("%s lets its subjects %s (%s on %s)", ref, pc.what, v, m.Resource)})
		}
	}
	return hits
}

func roleRule(ri finding.RuleInfo) *engine.Rule {
	id := ri.ID
	return &engine.Rule{
		RuleInfo: ri,
		Check: func(c *engine.Context, o *manifest.Object) {
			if !isRole(o) {
				return
			}
			for _, h := range roleHits(o) {
				if h.rule == id {
					c.Report(h.path, h.msg)
				}
			}
		},
	}
}

func rbacRoleRules() []*engine.Rule {
	return []*engine.Rule{
		roleRule(finding.RuleInfo{
			ID: "rbac-wildcard", Title: "Wildcard in RBAC rule", Severity: finding.High, Category: "rbac",
			Tags:        []string{"rbac", "cis:5.1.3"},
			Rationale:   "Each * in verbs, resources or apiGroups is reported where it is written. A * grants everything that exists now and everything added later (new resources, CRDs, subresources such as pods/exec), including Secrets: it defeats least privilege and is how roles silently become cluster-admin.",
			Remediation: "List the API groups, resources and verbs the subject needs explicitly.",
			Example:     "rules:\n  - apiGroups: [\"apps\"]\n    resources: [\"deployments\"]\n    verbs: [\"get\", \"list\", \"watch\"]\n",
			References:  []string{rbacGoodPract, cis("5.1.3", "Minimize wildcard use in Roles and ClusterRoles")},
		}),
		roleRule(finding.RuleInfo{
			ID: "rbac-secrets-read", Title: "Role can read Secrets", Severity: finding.High, Category: "rbac",
			Tags:        []string{"rbac", "cis:5.1.2"},
			Rationale:   "get, list or watch on Secrets reveals every credential in scope, including service account tokens of more privileged workloads; list and watch return all values at once.",
			Remediation: "Remove the permission, or narrow it with resourceNames to the specific Secrets the subject needs (get only).",
			Example:     "rules:\n  - apiGroups: [\"\"]\n    resources: [\"secrets\"]\n    resourceNames: [\"app-tls\"]\n    verbs: [\"get\"]\n",
			References:  []string{rbacGoodPract, cis("5.1.2", "Minimize access to secrets")},
		}),
		roleRule(finding.RuleInfo{
			ID: "rbac-escalate-bind-impersonate", Title: "Role grants escalate, bind or impersonate", Severity: finding.High, Category: "rbac",
			Tags:        []string{"rbac", "cis:5.1.8"},
			Rationale:   "escalate lets a subject grant itself permissions it does not have, bind lets it bind any role (including cluster-admin) to itself, and impersonate lets it act as any user, group or service account: each is a path to cluster-admin.",
			Remediation: "Remove these verbs; controllers that need bind should be limited with resourceNames to the roles they may bind.",
			Example:     "rules:\n  - apiGroups: [\"rbac.authorization.k8s.io\"]\n    resources: [\"rolebindings\"]\n    verbs: [\"get\", \"list\"]\n",
			References:  []string{rbacGoodPract, cis("5.1.8", "Limit use of the Bind, Impersonate and Escalate permissions in the Kubernetes cluster")},
		}),
		roleRule(finding.RuleInfo{
			ID: "rbac-pod-exec", Title: "Role can exec into or attach to pods", Severity: finding.High, Category: "rbac",
			Tags:        []string{"rbac"},
			Rationale:   "pods/exec, pods/attach and pods/ephemeralcontainers run commands inside other workloads' containers, with their service account tokens, mounted Secrets and network identity.",
			Remediation: "Remove the permission; give humans time-bound break-glass access instead of standing exec rights.",
			Example:     "rules:\n  - apiGroups: [\"\"]\n    resources: [\"pods\", \"pods/log\"]\n    verbs: [\"get\", \"list\"]\n",
			References:  []string{rbacGoodPract},
		}),
		roleRule(finding.RuleInfo{
			ID: "rbac-nodes-proxy", Title: "Role can use nodes/proxy", Severity: finding.High, Category: "rbac",
			Tags:        []string{"rbac", "cis:5.1.10"},
			Rationale:   "nodes/proxy reaches the kubelet API directly, which can run commands in any pod on the node, bypassing audit logging and admission control.",
			Remediation: "Remove nodes/proxy; monitoring agents should read metrics from nodes/metrics or the metrics endpoints instead.",
			Example:     "rules:\n  - apiGroups: [\"\"]\n    resources: [\"nodes/metrics\"]\n    verbs: [\"get\"]\n",
			References:  []string{rbacGoodPract, cis("5.1.10", "Minimize access to the proxy sub-resource of nodes")},
		}),
		roleRule(finding.RuleInfo{
			ID: "rbac-create-pods", Title: "Role can create pods or workload controllers", Severity: finding.Medium, Category: "rbac",
			Tags:        []string{"rbac", "cis:5.1.4"},
			Rationale:   "Whoever can create pods (directly or through Deployments, DaemonSets, Jobs, ...) can run them with any service account of the namespace and mount any of its Secrets; without restrictive Pod Security Admission they can also mount the host.",
			Remediation: "Grant create on pods and workload controllers only to deployment pipelines and controllers that need it, in namespaces enforcing the restricted Pod Security Standard.",
			Example:     "rules:\n  - apiGroups: [\"apps\"]\n    resources: [\"deployments\"]\n    verbs: [\"get\", \"list\", \"watch\"]\n",
			References:  []string{rbacGoodPract, cis("5.1.4", "Minimize access to create pods")},
		}),
		roleRule(finding.RuleInfo{
			ID: "rbac-sa-token", Title: "Role can create service account tokens", Severity: finding.High, Category: "rbac",
			Tags:        []string{"rbac", "cis:5.1.13"},
			Rationale:   "create on serviceaccounts/token mints tokens for any service account in scope, so the subject gains the permissions of all of them.",
			Remediation: "Remove the permission, or restrict it with resourceNames to the service accounts the subject must act as.",
			Example:     "rules:\n  - apiGroups: [\"\"]\n    resources: [\"serviceaccounts/token\"]\n    resourceNames: [\"build-bot\"]\n    verbs: [\"create\"]\n",
			References:  []string{rbacGoodPract, cis("5.1.13", "Minimize access to the service account token creation")},
		}),
		roleRule(finding.RuleInfo{
			ID: "rbac-csr-approval", Title: "Role can approve certificate signing requests", Severity: finding.High, Category: "rbac",
			Tags:        []string{"rbac", "cis:5.1.11"},
			Rationale:   "Approving CertificateSigningRequests lets a subject issue client certificates for any user or group the signer allows — with the kube-apiserver-client signer, system:masters.",
			Remediation: "Remove the approval permission; leave approval to the built-in approvers or a dedicated, audited controller.",
			Example:     "rules:\n  - apiGroups: [\"certificates.k8s.io\"]\n    resources: [\"certificatesigningrequests\"]\n    verbs: [\"get\", \"list\"]\n",
			References:  []string{rbacGoodPract, cis("5.1.11", "Minimize access to the approval sub-resource of certificatesigningrequests objects")},
		}),
		roleRule(finding.RuleInfo{
			ID: "rbac-webhook-config", Title: "Role can change admission webhooks", Severity: finding.High, Category: "rbac",
			Tags:        []string{"rbac", "cis:5.1.12"},
			Rationale:   "Whoever can create, change or delete admission webhook configurations or admission policies can disable policy enforcement, or register a webhook that reads (and mutates) every object sent to the API server, Secrets included.",
			Remediation: "Restrict write access to admission configuration to cluster administrators, or with resourceNames to the webhook a controller owns.",
			Example:     "rules:\n  - apiGroups: [\"admissionregistration.k8s.io\"]\n    resources: [\"validatingwebhookconfigurations\"]\n    resourceNames: [\"my-operator\"]\n    verbs: [\"get\", \"update\"]\n",
			References:  []string{rbacGoodPract, cis("5.1.12", "Minimize access to webhook configuration objects")},
		}),
	}
}

// builtinAdmin are default ClusterRoles that grant broad write access.
var builtinAdmin = map[string]bool{"cluster-admin": true, "admin": true, "edit": true}

// discoveryRoles are default ClusterRoles that only grant discovery and
// self-review, which every authenticated user has by default.
var discoveryRoles = map[string]bool{"system:discovery": true, "system:basic-user": true, "system:public-info-viewer": true, "system:service-account-issuer-discovery": true}

// riskLevel grades what a binding grants.
type riskLevel int

const (
	riskModest    riskLevel = iota
	riskDangerous           // a risky permission (rbac-secrets-read, a wildcard, ...)
	riskSuperuser           // everything: cluster-admin or its equivalent
)

// bindingRisk grades the role b binds and says why: the built-in
// cluster-admin, admin and edit roles by name, roles of the set by their
// rules (aggregated ones included). A role that is not in the set and not
// built-in is modest: nothing is known about it.
func bindingRisk(s *RBAC, b *Binding) (riskLevel, string) {
	g, ok := s.risk[b]
	if !ok {
		g.level, g.why = gradeBinding(s, b)
		s.risk[b] = g
	}
	return g.level, g.why
}

func gradeBinding(s *RBAC, b *Binding) (riskLevel, string) {
	if b.RoleKind == "ClusterRole" && b.RoleRef == "cluster-admin" {
		return riskSuperuser, "cluster-admin"
	}
	role := s.Role(b)
	if role == nil {
		if b.RoleKind == "ClusterRole" && builtinAdmin[b.RoleRef] {
			return riskDangerous, "the built-in " + b.RoleRef + " role"
		}
		return riskModest, ""
	}
	rules := s.RulesOf(role)
	for i := range rules {
		if rules[i].Superuser() {
			return riskSuperuser, fmt.Sprintf("%s, which grants every verb on every resource like cluster-admin", describeRule(role, &rules[i]))
		}
	}
	// A wildcard alone (get on every resource of one API group) is not
	// a risk: what it grants is, and the permission checks see through
	// wildcards.
	for i := range rules {
		for _, h := range ruleHits(&rules[i]) {
			if h.rule != "rbac-wildcard" {
				return riskDangerous, fmt.Sprintf("%s (%s)", describeRule(role, &rules[i]), h.rule)
			}
		}
	}
	return riskModest, ""
}

// describeRule names a bound role, and the aggregated role that holds
// the rule when it is another.
func describeRule(role *manifest.Object, r *PolicyRule) string {
	if r.Role == nil || r.Role == role {
		return role.Ref().String()
	}
	return fmt.Sprintf("%s (aggregating %s)", role.Ref(), r.Role.Ref())
}

func subjectNames(b *Binding) string {
	var names []string
	for _, s := range b.Subjects {
		names = append(names, s.Kind+" "+s.Name)
	}
	return strings.Join(names, ", ")
}

func bindingRules() []*engine.Rule {
	return []*engine.Rule{
		{
			RuleInfo: finding.RuleInfo{
				ID: "rbac-cluster-admin-binding", Title: "Binding to cluster-admin or an equivalent role", Severity: finding.High, Category: "rbac",
				Tags:        []string{"rbac", "cis:5.1.1"},
				Rationale:   "cluster-admin can do anything to any object in the cluster. A binding to it makes each subject a full administrator, and a compromise of any of them (a workload's service account, typically) a compromise of the cluster. A Role or ClusterRole of the linted set (aggregated ones included) with a rule granting every verb (* or each standard verb listed) on every resource (* anywhere in resources) is cluster-admin by another name and is reported the same way.",
				Remediation: "Bind a role that grants only what the subject needs; keep cluster-admin for break-glass human access.",
				Example:     "roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: my-operator\n",
				References:  []string{rbacGoodPract, cis("5.1.1", "Ensure that the cluster-admin role is only used where required")},
			},
			Reads: readsRBAC,
			CheckSet: func(c *engine.SetContext, objs []*manifest.Object) {
				s := NewRBAC(objs)
				for _, b := range s.Bindings {
					if level, why := bindingRisk(s, b); level == riskSuperuser {
						c.Reportf(b.Obj, manifest.ParsePath("roleRef.name"), "%s grants %s to %s", b.Obj.Ref(), why, subjectNames(b))
					}
				}
			},
		},
		{
			RuleInfo: finding.RuleInfo{
				ID: "rbac-system-masters", Title: "Binding to the system:masters group", Severity: finding.Critical, Category: "rbac",
				Tags:        []string{"rbac", "cis:5.1.7"},
				Rationale:   "Members of system:masters bypass RBAC and every authorization webhook entirely, and their access cannot be revoked by removing bindings. Binding roles to the group signals that credentials carrying it are being issued and relied on.",
				Remediation: "Remove the subject; give administrators a normal group bound to a role, and keep system:masters certificates for break-glass only.",
				Example:     "subjects:\n  - kind: Group\n    name: platform-admins\n    apiGroup: rbac.authorization.k8s.io\n",
				References:  []string{rbacGoodPract, cis("5.1.7", "Avoid use of system:masters group")},
			},
			Check: func(c *engine.Context, o *manifest.Object) {
				b := readBinding(o)
				if b == nil {
					return
				}
				for _, s := range b.Subjects {
					if s.Kind == "Group" && s.Name == "system:masters" {
						c.Reportf(b.SubjectPath(s), "%s binds %s %q to the system:masters group", o.Ref(), b.RoleKind, b.RoleRef)
					}
				}
			},
		},
		{
			RuleInfo: finding.RuleInfo{
				ID: "rbac-anonymous-binding", Title: "Binding grants access to anonymous users, or superuser to every user", Severity: finding.Critical, Category: "rbac",
				Tags:        []string{"rbac"},
				Rationale:   "Subjects system:anonymous and system:unauthenticated are every request without credentials: anything bound to them is public to whoever can reach the API server. cluster-admin (or a */* role) bound to system:authenticated or system:serviceaccounts is the same for any identity, including every pod's service account.",
				Remediation: "Remove the subject and bind the role to the specific users, groups or service accounts that need it.",
				Example:     "subjects:\n  - kind: ServiceAccount\n    name: reporter\n    namespace: monitoring\n",
				References:  []string{rbacGoodPract, "https://kubernetes.io/docs/reference/access-authn-authz/authentication/#anonymous-requests"},
			},
			Reads: readsRBAC,
			CheckSet: func(c *engine.SetContext, objs []*manifest.Object) {
				rs := NewRBAC(objs)
				for _, b := range rs.Bindings {
					o := b.Obj
					for _, s := range b.Subjects {
						switch {
						case (s.Kind == "User" && s.Name == "system:anonymous" || s.Kind == "Group" && s.Name == "system:unauthenticated") && b.RoleRef != "system:public-info-viewer":
							c.Reportf(o, b.SubjectPath(s), "%s grants %s %q to unauthenticated requests (%s)", o.Ref(), b.RoleKind, b.RoleRef, s.Name)
						case s.Kind == "Group" && broadGroup(s.Name) && isSuperuser(rs, b):
							c.Reportf(o, b.SubjectPath(s), "%s grants superuser %s %q to every member of %s", o.Ref(), b.RoleKind, b.RoleRef, s.Name)
						}
					}
				}
			},
		},
		{
			RuleInfo: finding.RuleInfo{
				ID: "rbac-authenticated-binding", Title: "Binding grants more than discovery to every authenticated user", Severity: finding.High, Category: "rbac",
				Tags:        []string{"rbac"},
				Rationale:   "system:authenticated contains every identity the API server accepts — on some managed clusters any account of the cloud provider — and system:serviceaccounts every pod's service account. Binding anything beyond the default discovery roles to them grants it to all.",
				Remediation: "Bind the role to specific users, groups or service accounts.",
				Example:     "subjects:\n  - kind: Group\n    name: dev-team\n    apiGroup: rbac.authorization.k8s.io\n",
				References:  []string{rbacGoodPract},
			},
			Reads: readsRBAC,
			CheckSet: func(c *engine.SetContext, objs []*manifest.Object) {
				rs := NewRBAC(objs)
				for _, b := range rs.Bindings {
					o := b.Obj
					if b.RoleKind == "ClusterRole" && discoveryRoles[b.RoleRef] {
						continue
					}
					for _, s := range b.Subjects {
						if s.Kind == "Group" && broadGroup(s.Name) && !isSuperuser(rs, b) {
							c.Reportf(o, b.SubjectPath(s), "%s grants %s %q to every member of %s", o.Ref(), b.RoleKind, b.RoleRef, s.Name)
						}
					}
				}
			},
		},
		{
			RuleInfo: finding.RuleInfo{
				ID: "rbac-default-sa-binding", Title: "Risky permissions granted to a default service account", Severity: finding.High, Category: "rbac",
				Tags:        []string{"rbac", "cis:5.1.5"},
				Rationale:   "Every pod that does not name a service account runs as its namespace's default one. Granting it admin-like or otherwise risky permissions hands them to every such pod, including ones added later by people unaware of the binding.",
				Remediation: "Create a dedicated service account for the workload that needs the permissions, bind the role to it, and set serviceAccountName on that workload only.",
				Example:     "subjects:\n  - kind: ServiceAccount\n    name: my-operator\n    namespace: operators\n",
				References:  []string{rbacGoodPract, cis("5.1.5", "Ensure that default service accounts are not actively used")},
			},
			Reads: readsRBAC,
			CheckSet: func(c *engine.SetContext, objs []*manifest.Object) {
				rs := NewRBAC(objs)
				for _, b := range rs.Bindings {
					o := b.Obj
					var why string
					for _, s := range b.Subjects {
						if s.Kind != "ServiceAccount" || s.Name != "default" {
							continue
						}
						if why == "" {
							var level riskLevel
							if level, why = bindingRisk(rs, b); level == riskModest {
								break
							}
						}
						c.Reportf(o, b.SubjectPath(s), "%s grants %s to the default service account of namespace %q", o.Ref(), why, b.SANamespace(s))
					}
				}
			},
		},
	}
}

func isSuperuser(s *RBAC, b *Binding) bool {
	level, _ := bindingRisk(s, b)
	return level == riskSuperuser
}

func broadGroup(g string) bool {
	return g == "system:authenticated" || g == "system:serviceaccounts"
}
