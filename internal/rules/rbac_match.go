package rules

// The RBAC permission matcher: who gets which PolicyRules of the linted
// set, through which binding → role → rule chain. Rules that judge one
// Role's permissions, bindings to powerful roles, and the tokens pods
// mount all read RBAC through it, so that wildcards, aggregated
// ClusterRoles and the built-in cluster-admin are understood the same way
// everywhere.
//
// Matching follows the Kubernetes RBAC authorizer
// (k8s.io/kubernetes/pkg/apis/rbac/v1 helpers): "*" in apiGroups,
// resources or verbs matches everything, "*/sub" matches the subresource
// sub of any resource, and resourceNames narrow a rule to named objects.
// Unlike the authorizer, "res/*" is also taken to mean every subresource
// of res: it grants nothing in Kubernetes, but it is written with that
// intent and is reported as such.
//
// Use:
//
//	rs := NewRBAC(objs) // Roles, ClusterRoles and bindings among objs
//	grants, unresolved := rs.Grants(func(b *Binding, s Subject) bool {
//		return s.Kind == "User" && s.Name == "alice"
//	})
//	for _, g := range grants {
//		// g.Binding → g.Rule.Role (nil: built-in cluster-admin) → g.Rule,
//		// in g.Namespace ("" = cluster-wide); g.Rule.Grants(groups,
//		// resources, verbs) says where it grants a permission.
//	}
//
// unresolved are the bindings to roles that are neither in objs nor
// cluster-admin. ServiceAccountGrants does the same for a service
// account's token, its groups included.

import (
	"strings"

	"gopkg.in/yaml.v3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

// strItem is one string of a YAML sequence with its index.
type strItem struct {
	v string
	i int
}

func strList(m *yaml.Node, key string) []strItem {
	_, seq := manifest.MapGet(m, key)
	if seq == nil || seq.Kind != yaml.SequenceNode {
		return nil
	}
	out := make([]strItem, 0, len(seq.Content))
	for i, n := range seq.Content {
		n = manifest.Resolve(n)
		if n != nil && n.Kind == yaml.ScalarNode {
			out = append(out, strItem{n.Value, i})
		}
	}
	return out
}

func has(items []strItem, vals ...string) (strItem, bool) {
	for _, it := range items {
		for _, v := range vals {
			if it.v == v {
				return it, true
			}
		}
	}
	return strItem{}, false
}

// PolicyRule is one entry of a Role's or ClusterRole's rules, read from
// the node tree so that every string keeps its position.
type PolicyRule struct {
	// Role holds the rule; nil for a built-in role that is not in the set.
	Role *manifest.Object
	// Index is the rule's index in Role's rules.
	Index int

	apiGroups, resources, verbs, resourceNames, nonResourceURLs []strItem
}

func values(items []strItem) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.v
	}
	return out
}

// APIGroups, Resources, Verbs, ResourceNames and NonResourceURLs are the
// rule's lists as written.
func (r *PolicyRule) APIGroups() []string       { return values(r.apiGroups) }
func (r *PolicyRule) Resources() []string       { return values(r.resources) }
func (r *PolicyRule) Verbs() []string           { return values(r.verbs) }
func (r *PolicyRule) ResourceNames() []string   { return values(r.resourceNames) }
func (r *PolicyRule) NonResourceURLs() []string { return values(r.nonResourceURLs) }

// Path is the path of item i of field (apiGroups, resources, verbs, …) of
// the rule inside its role.
func (r *PolicyRule) Path(field string, i int) manifest.Path {
	return manifest.Path{}.Key("rules").Item(r.Index, "").Key(field).Item(i, "")
}

// Unrestricted reports whether the rule applies to every object of its
// resources (no resourceNames).
func (r *PolicyRule) Unrestricted() bool { return len(r.resourceNames) == 0 }

// standardVerbs are the verbs of the built-in resources: a rule listing
// all of them grants what "*" grants on those resources.
var standardVerbs = []string{"get", "list", "watch", "create", "update", "patch", "delete"}

// AllVerbs reports whether the rule grants every verb: "*", or every
// standard verb listed one by one.
func (r *PolicyRule) AllVerbs() bool {
	if _, ok := has(r.verbs, "*"); ok {
		return true
	}
	for _, v := range standardVerbs {
		if _, ok := has(r.verbs, v); !ok {
			return false
		}
	}
	return true
}

// Superuser reports whether the rule grants every verb on every resource
// of every API group (in any order: "*" may sit among named resources or
// groups), which is what cluster-admin grants.
func (r *PolicyRule) Superuser() bool {
	_, res := has(r.resources, "*")
	_, groups := has(r.apiGroups, "*")
	return res && groups && r.AllVerbs() && r.Unrestricted()
}

// resourceMatches reports whether the resources item it grants
// resource, which may name a subresource ("pods/exec").
func resourceMatches(it, resource string) bool {
	if it == "*" || it == resource {
		return true
	}
	base, sub, isSub := strings.Cut(resource, "/")
	return isSub && (it == "*/"+sub || it == base+"/*")
}

// RuleMatch is where a rule grants a permission: the resources item (and
// its index in the rule's resources) and the verbs item that grant it.
type RuleMatch struct {
	Resource      string
	ResourceIndex int
	Verb          string
}

// Grants reports where the rule grants one of verbs on one of resources
// of one of groups: every resources item that does, with the first
// matching verbs item. Rules narrowed by resourceNames grant nothing here.
func (r *PolicyRule) Grants(groups, resources, verbs []string) []RuleMatch {
	if !r.Unrestricted() {
		return nil
	}
	_, allGroups := has(r.apiGroups, "*")
	if _, ok := has(r.apiGroups, groups...); !ok && !allGroups {
		return nil
	}
	verb, ok := has(r.verbs, "*")
	if !ok {
		if verb, ok = has(r.verbs, verbs...); !ok {
			return nil
		}
	}
	var out []RuleMatch
	for _, it := range r.resources {
		for _, rs := range resources {
			if resourceMatches(it.v, rs) {
				out = append(out, RuleMatch{Resource: it.v, ResourceIndex: it.i, Verb: verb.v})
				break
			}
		}
	}
	return out
}

// readRules reads the rules written in a Role or ClusterRole.
func readRules(o *manifest.Object) []PolicyRule {
	_, seq := manifest.MapGet(o.Node, "rules")
	if seq == nil || seq.Kind != yaml.SequenceNode {
		return nil
	}
	out := make([]PolicyRule, 0, len(seq.Content))
	for i, n := range seq.Content {
		n = manifest.Resolve(n)
		if n == nil || n.Kind != yaml.MappingNode {
			continue
		}
		out = append(out, PolicyRule{
			Role:            o,
			Index:           i,
			apiGroups:       strList(n, "apiGroups"),
			resources:       strList(n, "resources"),
			verbs:           strList(n, "verbs"),
			resourceNames:   strList(n, "resourceNames"),
			nonResourceURLs: strList(n, "nonResourceURLs"),
		})
	}
	return out
}

// clusterAdminRule is what the built-in cluster-admin ClusterRole grants.
var clusterAdminRule = PolicyRule{
	Index:           -1,
	apiGroups:       []strItem{{"*", 0}},
	resources:       []strItem{{"*", 0}},
	verbs:           []strItem{{"*", 0}},
	nonResourceURLs: nil,
}

// readsRBAC picks the objects the RBAC and service account rules read
// (engine.Rule.Reads): roles, bindings and service accounts.
func readsRBAC(o *manifest.Object) bool {
	return isRole(o) || isBinding(o) || o.Kind == "ServiceAccount" && o.Group() == ""
}

func isRole(o *manifest.Object) bool {
	return (o.Kind == "Role" || o.Kind == "ClusterRole") && o.Group() == rbacGroup
}

func isBinding(o *manifest.Object) bool {
	return (o.Kind == "RoleBinding" || o.Kind == "ClusterRoleBinding") && o.Group() == rbacGroup
}

// Subject is one subject of a binding.
type Subject struct {
	Kind, Name, Namespace string
	// Index is the subject's index in the binding's subjects.
	Index int
}

// Binding is a RoleBinding or ClusterRoleBinding.
type Binding struct {
	Obj               *manifest.Object
	RoleKind, RoleRef string
	Subjects          []Subject
}

// readBinding reads o, or returns nil when it is not a binding.
func readBinding(o *manifest.Object) *Binding {
	if !isBinding(o) {
		return nil
	}
	b := &Binding{Obj: o}
	_, rr := manifest.MapGet(o.Node, "roleRef")
	b.RoleKind, b.RoleRef = manifest.ScalarString(rr, "kind"), manifest.ScalarString(rr, "name")
	_, seq := manifest.MapGet(o.Node, "subjects")
	if seq != nil && seq.Kind == yaml.SequenceNode {
		for i, n := range seq.Content {
			n = manifest.Resolve(n)
			b.Subjects = append(b.Subjects, Subject{manifest.ScalarString(n, "kind"), manifest.ScalarString(n, "name"), manifest.ScalarString(n, "namespace"), i})
		}
	}
	return b
}

// SubjectPath is the path of s's name in the binding.
func (b *Binding) SubjectPath(s Subject) manifest.Path {
	return manifest.Path{}.Key("subjects").Item(s.Index, s.Name).Key("name")
}

// SANamespace is the namespace of a ServiceAccount subject (a
// RoleBinding's own namespace when unset).
func (b *Binding) SANamespace(s Subject) string {
	if s.Namespace != "" {
		return s.Namespace
	}
	return b.Obj.Namespace
}

// Namespaced reports a RoleBinding: it grants in one namespace, its own
// (in a manifest without a namespace, the one it is applied to), never
// cluster-wide.
func (b *Binding) Namespaced() bool { return b.Obj.Kind == "RoleBinding" }

// Scope is the namespace the binding grants in; "" for cluster-wide (and
// for a RoleBinding written without a namespace: see Namespaced).
func (b *Binding) Scope() string {
	if b.Obj.Kind == "RoleBinding" {
		return b.Obj.Namespace
	}
	return ""
}

// RBAC indexes the Roles, ClusterRoles and bindings of a linted set.
type RBAC struct {
	roles    map[string][]*manifest.Object // Kind/namespace/name
	cluster  []*manifest.Object            // ClusterRoles, for aggregation
	Bindings []*Binding
	rules    map[*manifest.Object][]PolicyRule
	risk     map[*Binding]bindingGrade // bindingRisk, memoized
}

type bindingGrade struct {
	level riskLevel
	why   string
}

// NewRBAC indexes objs.
func NewRBAC(objs []*manifest.Object) *RBAC {
	s := &RBAC{roles: map[string][]*manifest.Object{}, rules: map[*manifest.Object][]PolicyRule{}, risk: map[*Binding]bindingGrade{}}
	for _, o := range objs {
		switch {
		case isRole(o):
			ns := o.Namespace
			if o.Kind == "ClusterRole" {
				ns = ""
				s.cluster = append(s.cluster, o)
			}
			k := o.Kind + "/" + ns + "/" + o.Name
			s.roles[k] = append(s.roles[k], o)
		case isBinding(o):
			s.Bindings = append(s.Bindings, readBinding(o))
		}
	}
	return s
}

// Role returns the role b refers to when it is in the set. When several
// objects define it (install variants linted together, overlays of one
// base), the one of b's own render or file wins, else the last.
func (s *RBAC) Role(b *Binding) *manifest.Object {
	ns := ""
	if b.RoleKind == "Role" {
		ns = b.Obj.Namespace
	}
	cands := s.roles[b.RoleKind+"/"+ns+"/"+b.RoleRef]
	if len(cands) == 0 {
		return nil
	}
	if own := sameUnit(b.Obj, cands); len(own) > 0 {
		return own[len(own)-1]
	}
	return cands[len(cands)-1]
}

// sameUnit keeps the objects of o's deployment unit (unitOf): its render,
// or for plain YAML its file.
func sameUnit(o *manifest.Object, objs []*manifest.Object) []*manifest.Object {
	var out []*manifest.Object
	for _, c := range objs {
		if unitOf(c) == unitOf(o) {
			out = append(out, c)
		}
	}
	return out
}

// RulesOf returns the rules role grants: its own and, for a ClusterRole
// with an aggregationRule, those of every ClusterRole of the set its
// selectors match (transitively), each with the role that holds it.
func (s *RBAC) RulesOf(role *manifest.Object) []PolicyRule {
	if rs, ok := s.rules[role]; ok {
		return rs
	}
	var out []PolicyRule
	seen := map[*manifest.Object]bool{}
	var walk func(r *manifest.Object)
	walk = func(r *manifest.Object) {
		if seen[r] {
			return
		}
		seen[r] = true
		out = append(out, readRules(r)...)
		if r.Kind != "ClusterRole" {
			return
		}
		for _, sel := range aggregationSelectors(r) {
			for _, cr := range s.cluster {
				if cr != r && selects(sel, cr.Labels) {
					walk(cr)
				}
			}
		}
	}
	walk(role)
	s.rules[role] = out
	return out
}

func aggregationSelectors(o *manifest.Object) []*metav1.LabelSelector {
	_, seq := manifest.MapGet(o.Get(manifest.ParsePath("aggregationRule")), "clusterRoleSelectors")
	if seq == nil || seq.Kind != yaml.SequenceNode {
		return nil
	}
	var out []*metav1.LabelSelector
	for _, n := range seq.Content {
		sel := &metav1.LabelSelector{}
		if manifest.DecodeInto(manifest.Resolve(n), sel) == nil {
			out = append(out, sel)
		}
	}
	return out
}

// BoundRules returns the rules b grants and whether they are known: the
// role is in the set, or is the built-in cluster-admin.
func (s *RBAC) BoundRules(b *Binding) ([]PolicyRule, bool) {
	if r := s.Role(b); r != nil {
		return s.RulesOf(r), true
	}
	if b.RoleKind == "ClusterRole" && b.RoleRef == "cluster-admin" {
		return []PolicyRule{clusterAdminRule}, true
	}
	return nil, false
}

// Grant is one rule granted to one subject: subject → binding → role →
// rule.
type Grant struct {
	Subject Subject
	Binding *Binding
	Rule    PolicyRule
	// Namespace is where the rule applies; "" means cluster-wide.
	Namespace string
}

// Grants returns every rule granted to a subject for which match returns
// true, in binding order. Bindings whose role is neither in the set nor
// cluster-admin are returned as unresolved grants, without a rule.
func (s *RBAC) Grants(match func(b *Binding, sub Subject) bool) (grants, unresolved []Grant) {
	for _, b := range s.Bindings {
		for _, sub := range b.Subjects {
			if !match(b, sub) {
				continue
			}
			rules, ok := s.BoundRules(b)
			if !ok {
				unresolved = append(unresolved, Grant{Subject: sub, Binding: b, Rule: PolicyRule{Index: -1}, Namespace: b.Scope()})
				continue
			}
			for _, r := range rules {
				grants = append(grants, Grant{Subject: sub, Binding: b, Rule: r, Namespace: b.Scope()})
			}
		}
	}
	return grants, unresolved
}

// ServiceAccountGrants returns the rules the token of service account
// ns/name carries: bindings naming the account in that namespace, and
// bindings to the groups every service account token (of the namespace)
// belongs to. direct reports whether some binding names an account of
// that name in the namespace — or, when either namespace is unknown
// (objects without metadata.namespace), in any — which shows that the
// workload is meant to call the API.
func (s *RBAC) ServiceAccountGrants(ns, name string) (grants, unresolved []Grant, direct bool) {
	grants, unresolved = s.Grants(func(b *Binding, sub Subject) bool {
		switch sub.Kind {
		case "ServiceAccount":
			if sub.Name != name {
				return false
			}
			sns := b.SANamespace(sub)
			direct = direct || sns == ns || sns == "" || ns == ""
			return sns == ns
		case "Group":
			return sub.Name == "system:serviceaccounts" || sub.Name == "system:authenticated" || ns != "" && sub.Name == "system:serviceaccounts:"+ns
		}
		return false
	})
	return grants, unresolved, direct
}
