package rules

// Effective RBAC per subject: every binding of the set resolved (through
// the matcher of rbac_match.go: roles, aggregated ClusterRoles, wildcards)
// into what each user, group and service account can do, and which of it
// lets the subject escalate. The same resolution answers `kubectl secure
// who-can` (WhoCan).

import (
	"fmt"
	"sort"
	"strings"

	"github.com/kubectl-secure/kubectl-secure/internal/engine"
	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

// escalation is one way a subject can gain more than it was given.
type escalation struct {
	id   string // the role-level rule that names the permission
	what string
	sev  finding.Severity
}

// escalations in the order findings list them. Their IDs are those of
// ruleHits (rbac.go), which decides what a single policy rule grants;
// "superuser" is a rule granting every verb on every resource.
var escalations = []escalation{
	{"superuser", "do anything (* on *)", finding.Critical},
	{"rbac-escalate-bind-impersonate", "escalate, bind or impersonate", finding.High},
	{"rbac-secrets-read", "read Secrets", finding.High},
	{"rbac-nodes-proxy", "use nodes/proxy (the kubelet API)", finding.High},
	{"rbac-sa-token", "mint service account tokens", finding.High},
	{"rbac-csr-approval", "approve certificate signing requests", finding.High},
	{"rbac-webhook-config", "change admission webhooks", finding.High},
	{"rbac-pod-exec", "exec into pods", finding.High},
	{"rbac-create-pods", "create pods or workloads (and so run as any service account in scope)", finding.Medium},
}

// chainStep is one granted rule on the way to an escalation.
type chainStep struct {
	binding *Binding
	role    *manifest.Object // the bound role; nil for built-in cluster-admin
	rule    PolicyRule
}

// String renders binding → role → rule, naming the aggregated role that
// holds the rule and, in lint, where it is written.
func (s chainStep) String() string {
	var b strings.Builder
	b.WriteString(s.binding.Obj.Ref().String())
	b.WriteString(" → ")
	if s.role == nil {
		b.WriteString("ClusterRole " + s.binding.RoleRef + " (built-in)")
		return b.String()
	}
	b.WriteString(describeRule(s.role, &s.rule))
	fmt.Fprintf(&b, " → rules[%d]", s.rule.Index)
	if s.rule.Role != nil {
		if loc := s.rule.Role.Locate(manifest.Path{}.Key("rules").Item(s.rule.Index, "")); loc.File != "" {
			fmt.Fprintf(&b, " (%s:%d)", loc.File, loc.Line)
		}
	}
	return b.String()
}

// subjectKey identifies a subject across bindings; a service account's
// namespace is resolved.
type subjectKey struct{ kind, namespace, name string }

func (k subjectKey) String() string {
	if k.kind == "ServiceAccount" && k.namespace != "" {
		return "ServiceAccount " + k.namespace + "/" + k.name
	}
	return k.kind + " " + k.name
}

func keyOf(b *Binding, s Subject) subjectKey {
	if s.Kind == "ServiceAccount" {
		return subjectKey{s.Kind, b.SANamespace(s), s.Name}
	}
	return subjectKey{s.Kind, "", s.Name}
}

// defaultPolicy reports the API server's own bootstrap bindings, which
// every cluster has and which grant system components what they need.
func defaultPolicy(b *Binding) bool {
	return b.Obj.Labels["kubernetes.io/bootstrapping"] == "rbac-defaults"
}

// escalationsOf returns what a binding's rules let its subjects escalate
// to, each with the steps that grant it. Secrets read through a
// RoleBinding counts only for a service account of another namespace
// (for everyone else it is the namespace's own business); CSR approval
// needs both the approval subresource and approve on a signer.
func escalationsOf(rs *RBAC, b *Binding, sub Subject) map[string][]chainStep {
	rules, ok := rs.BoundRules(b)
	if !ok {
		return nil
	}
	role := rs.Role(b)
	out := map[string][]chainStep{}
	add := func(id string, r PolicyRule) {
		steps := out[id]
		for _, s := range steps {
			if s.rule.Role == r.Role && s.rule.Index == r.Index {
				return
			}
		}
		out[id] = append(steps, chainStep{b, role, r})
	}
	var csrApproval, csrSigners bool
	for _, r := range rules {
		if r.Superuser() {
			add("superuser", r)
			continue
		}
		for _, h := range ruleHits(&r) {
			switch h.rule {
			case "rbac-wildcard":
				continue // what the wildcard grants is matched below
			case "rbac-secrets-read":
				if b.Namespaced() && (sub.Kind != "ServiceAccount" || b.SANamespace(sub) == b.Scope()) {
					continue
				}
			case "rbac-csr-approval":
				csrApproval = csrApproval || len(r.Grants([]string{"certificates.k8s.io"}, []string{"certificatesigningrequests/approval"}, []string{"update", "patch"})) > 0
				csrSigners = csrSigners || len(r.Grants([]string{"certificates.k8s.io"}, []string{"signers"}, []string{"approve"})) > 0
			}
			add(h.rule, r)
		}
	}
	if !csrApproval || !csrSigners {
		delete(out, "rbac-csr-approval")
	}
	if _, ok := out["superuser"]; ok {
		return map[string][]chainStep{"superuser": out["superuser"]}
	}
	return out
}

// mountedServiceAccounts lists, per service account, the objects of the
// set that run pods with its token mounted (the pod's
// automountServiceAccountToken, else the ServiceAccount's, else true).
func mountedServiceAccounts(c *engine.SetContext, objs []*manifest.Object) map[subjectKey][]*manifest.Object {
	optOut := map[subjectKey]bool{}
	for _, o := range objs {
		if o.Kind == "ServiceAccount" && o.Group() == "" {
			if v := o.Get(manifest.ParsePath("automountServiceAccountToken")); v != nil && v.Value == "false" {
				optOut[subjectKey{"ServiceAccount", o.Namespace, o.Name}] = true
			}
		}
	}
	out := map[subjectKey][]*manifest.Object{}
	for _, o := range objs {
		w := c.Workload(o)
		if !runsPods(w, o) {
			continue
		}
		k := subjectKey{"ServiceAccount", o.Namespace, serviceAccountName(w)}
		if v := w.Spec.AutomountServiceAccountToken; v != nil && !*v || v == nil && optOut[k] {
			continue
		}
		out[k] = append(out[k], o)
	}
	return out
}

func rbacEscalationRule() *engine.Rule {
	return &engine.Rule{
		RuleInfo: finding.RuleInfo{
			ID: "rbac-subject-can-escalate", Title: "Subject can escalate its privileges", Severity: finding.High, Category: "rbac",
			Tags:        []string{"rbac", "cis:5.1.1", "cis:5.1.2", "cis:5.1.4", "cis:5.1.8"},
			Rationale:   "Resolving every RoleBinding and ClusterRoleBinding (aggregated ClusterRoles and wildcards included) gives each user, group and service account its effective permissions. Some are a path to more: * on * (critical), escalate, bind or impersonate, reading Secrets cluster-wide or (for a service account) in another namespace, nodes/proxy, minting service account tokens, approving CSRs (the approval subresource and approve on a signer), changing admission webhooks, exec into pods (high), creating pods or workloads, which run as any service account in scope (medium). A service account whose token is mounted by pods of the set ranks one grade higher: code execution in any of them is the escalation. The API server's own bootstrap bindings (label kubernetes.io/bootstrapping=rbac-defaults) are not reported.",
			Remediation: "Follow the chain in the message to the rule that grants the permission and narrow it (resourceNames, fewer verbs, a namespaced RoleBinding), or remove the subject from the binding; for service accounts, also stop mounting the token where the pod does not call the API.",
			Example:     "kind: RoleBinding\nmetadata:\n  name: ci-deploy\n  namespace: shop\nroleRef:\n  kind: Role\n  name: deploy-only\n",
			References:  []string{rbacGoodPract, "https://kubernetes.io/docs/reference/access-authn-authz/rbac/#privilege-escalation-prevention-and-bootstrapping"},
		},
		Reads: readsRBAC,
		CheckSet: func(c *engine.SetContext, objs []*manifest.Object) {
			rs := NewRBAC(objs)
			mounted := mountedServiceAccounts(c, objs)
			for _, b := range rs.Bindings {
				if defaultPolicy(b) {
					continue
				}
				for _, sub := range b.Subjects {
					found := escalationsOf(rs, b, sub)
					if len(found) == 0 {
						continue
					}
					sev := finding.Low
					var parts []string
					for _, e := range escalations {
						steps := found[e.id]
						if len(steps) == 0 {
							continue
						}
						if e.sev > sev {
							sev = e.sev
						}
						where := "in namespace " + b.Scope()
						switch {
						case !b.Namespaced():
							where = "cluster-wide"
						case b.Scope() == "":
							where = "in the namespace the binding is applied to"
						}
						var chains []string
						for _, s := range steps {
							chains = append(chains, s.String())
						}
						parts = append(parts, fmt.Sprintf("%s %s via %s", e.what, where, strings.Join(chains, "; ")))
					}
					k := keyOf(b, sub)
					who := k.String()
					pods := mounted[k]
					if own := sameUnit(b.Obj, pods); len(own) > 0 {
						pods = own // not another install variant's workloads
					}
					if k.kind == "ServiceAccount" && len(pods) > 0 {
						if sev < finding.Critical {
							sev++
						}
						names, more := distinctNames(pods), ""
						if len(names) > 3 {
							names, more = names[:3], fmt.Sprintf(" and %d more", len(names)-3)
						}
						who += fmt.Sprintf(" (token mounted by %s%s)", strings.Join(names, ", "), more)
					}
					c.ReportSeverity(b.Obj, b.SubjectPath(sub), sev, fmt.Sprintf("%s can %s", who, strings.Join(parts, "; and ")))
				}
			}
		},
	}
}

// WhoCanQuery is a who-can question: verb on resource (optionally
// "resource/subresource") of an API group, in a namespace ("" for any).
type WhoCanQuery struct {
	Verb, Group, Resource, Namespace string
}

// WhoCanAnswer is one subject that can, and how.
type WhoCanAnswer struct {
	SubjectKind string `json:"subjectKind"`
	Subject     string `json:"subject"`
	// SubjectNamespace is a service account's namespace.
	SubjectNamespace string `json:"subjectNamespace,omitempty"`
	// Scope is the namespace the permission holds in; "" cluster-wide.
	Scope string `json:"scope"`
	// Binding, Role and Rule make the chain; AggregatedFrom names the
	// aggregated ClusterRole that holds the rule, when it is another.
	Binding        finding.ObjectRef `json:"binding"`
	Role           string            `json:"role"`
	AggregatedFrom string            `json:"aggregatedFrom,omitempty"`
	Rule           int               `json:"rule"`
	// Location is where the binding is written (files only).
	Location finding.Location `json:"location,omitzero"`
	Chain    string           `json:"chain"`
}

// WhoCanUnresolved is a binding in scope whose role was not read: its
// subjects may be allowed too.
type WhoCanUnresolved struct {
	Binding finding.ObjectRef `json:"binding"`
	Role    string            `json:"role"`
}

// WhoCan answers q from the RBAC objects of objs: every subject granted
// verb on the resource by a ClusterRoleBinding or, in q.Namespace (any
// namespace when empty), a RoleBinding. Rules narrowed by resourceNames do
// not count (they grant named objects only). Bindings whose role is not in
// objs (nor cluster-admin) cannot be resolved: they are returned apart,
// so that an answer never looks more complete than it is.
func WhoCan(objs []*manifest.Object, q WhoCanQuery) ([]WhoCanAnswer, []WhoCanUnresolved) {
	rs := NewRBAC(objs)
	var out []WhoCanAnswer
	grants, unresolved := rs.Grants(func(b *Binding, _ Subject) bool {
		return b.Scope() == "" || q.Namespace == "" || b.Scope() == q.Namespace
	})
	var missing []WhoCanUnresolved
	seenBinding := map[*Binding]bool{}
	for _, g := range unresolved {
		if !seenBinding[g.Binding] {
			seenBinding[g.Binding] = true
			missing = append(missing, WhoCanUnresolved{Binding: g.Binding.Obj.Ref(), Role: g.Binding.RoleKind + "/" + g.Binding.RoleRef})
		}
	}
	seen := map[string]bool{}
	for _, g := range grants {
		if len(g.Rule.Grants([]string{q.Group}, []string{q.Resource}, []string{q.Verb})) == 0 {
			continue
		}
		k := keyOf(g.Binding, g.Subject)
		role := rs.Role(g.Binding)
		a := WhoCanAnswer{
			SubjectKind: k.kind, Subject: k.name, SubjectNamespace: k.namespace, Scope: g.Binding.Scope(),
			Binding: g.Binding.Obj.Ref(), Role: g.Binding.RoleKind + "/" + g.Binding.RoleRef, Rule: g.Rule.Index,
			Location: g.Binding.Obj.Locate(g.Binding.SubjectPath(g.Subject)),
			Chain:    chainStep{g.Binding, role, g.Rule}.String(),
		}
		if g.Rule.Role != nil && role != nil && g.Rule.Role != role {
			a.AggregatedFrom = g.Rule.Role.Kind + "/" + g.Rule.Role.Name
		}
		// One answer per subject and binding: the first rule that grants.
		id := a.SubjectKind + "\x00" + a.SubjectNamespace + "\x00" + a.Subject + "\x00" + a.Binding.String()
		if seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, a)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.SubjectKind != b.SubjectKind {
			return a.SubjectKind < b.SubjectKind
		}
		if a.SubjectNamespace != b.SubjectNamespace {
			return a.SubjectNamespace < b.SubjectNamespace
		}
		return a.Subject < b.Subject
	})
	return out, missing
}
