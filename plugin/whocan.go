package plugin

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-secure/kubectl-secure/internal/cluster"
	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
	"github.com/kubectl-secure/kubectl-secure/internal/rules"
)

const whoCanExample = `  # Who can read Secrets in namespace shop, in the current cluster
  kubectl secure who-can get secrets -n shop

  # The same question, answered from the RBAC manifests of a repository
  kubectl secure who-can get secrets -n shop -f deploy/

  # Who can exec into pods anywhere, as JSON
  kubectl secure who-can create pods/exec -f rbac.yaml -o json

  # A resource outside the core group: RESOURCE.GROUP
  kubectl secure who-can delete certificates.cert-manager.io -f charts/`

// WhoCanOptions is `who-can`: the subjects whose bindings grant a verb on
// a resource, with the binding → role → rule chain, answered by the same
// RBAC resolution as the rbac-subject-can-escalate rule.
type WhoCanOptions struct {
	// Kube holds the kubectl connection flags (and -n).
	Kube   *genericclioptions.ConfigFlags
	Files  []string
	Format string
	Load   LoadFlags

	Verb, Resource string

	genericiooptions.IOStreams
	getenv Env

	query rules.WhoCanQuery
	// namespace is -n when given: only grants that hold there.
	namespace string
}

// NewCmdWhoCan builds `kubectl secure who-can`.
func NewCmdWhoCan(streams genericiooptions.IOStreams, getenv Env) *cobra.Command {
	if getenv == nil {
		getenv = os.Getenv
	}
	o := &WhoCanOptions{IOStreams: streams, getenv: getenv, Kube: genericclioptions.NewConfigFlags(true)}
	cmd := &cobra.Command{
		Use:   "who-can VERB RESOURCE[.GROUP][/SUBRESOURCE] -f PATH...",
		Short: "List the subjects RBAC allows to do something, and through which binding",
		Long: "List every user, group and service account whose RoleBindings and ClusterRoleBindings\n" +
			"grant VERB on RESOURCE, with the chain binding → role → rule (aggregated ClusterRoles\n" +
			"and wildcards resolved). With -n, only grants that hold in that namespace. Rules\n" +
			"narrowed by resourceNames are not counted. Members of system:masters bypass RBAC\n" +
			"altogether: they can do everything whether a binding lists them or not.\n\n" +
			"The RBAC objects (Roles, ClusterRoles and their bindings; nothing else) are listed\n" +
			"from the cluster of the kubeconfig, or read from files with -f (rendered like lint).\n" +
			"RBAC objects the caller may not list are reported as not evaluated: the answer may\n" +
			"then be incomplete, and says so.\n\n" +
			"Exit codes: 0 answered (even with no subject); 2 nothing could be read from the\n" +
			"cluster, an input file could not be read, or a usage error.",
		Example: whoCanExample,
		RunE:    runOptions(o),
	}
	o.Kube.AddFlags(cmd.Flags())
	cmd.Flags().Lookup("namespace").Usage = "only grants that hold in this namespace (ClusterRoleBindings and its RoleBindings)"
	cmd.Flags().StringSliceVarP(&o.Files, "filename", "f", nil, "read the RBAC objects from these files, directories, kustomizations or charts instead of the cluster (repeatable; - for standard input)")
	cmd.Flags().StringVarP(&o.Format, "output", "o", "text", "output format: text or json")
	o.Load.AddFlags(cmd.Flags())
	registerKubeconfigCompletions(cmd, o.Kube)
	return cmd
}

// Complete parses VERB and RESOURCE.
func (o *WhoCanOptions) Complete(args []string) error {
	if len(args) != 2 {
		return usageError("who-can needs VERB and RESOURCE, e.g. who-can get secrets\nSee 'kubectl secure who-can --help'.")
	}
	o.Verb, o.Resource = strings.ToLower(args[0]), strings.ToLower(args[1])
	group, resource, err := parseResource(o.Resource)
	if err != nil {
		return usageError("%v", err)
	}
	if o.Kube.Namespace != nil {
		o.namespace = *o.Kube.Namespace
	}
	o.query = rules.WhoCanQuery{Verb: o.Verb, Group: group, Resource: resource, Namespace: o.namespace}
	return nil
}

// Validate checks flags.
func (o *WhoCanOptions) Validate() error {
	if o.Format != "text" && o.Format != "json" {
		return usageError("--output must be text or json, not %q", o.Format)
	}
	if o.Load.MaxFileSize <= 0 {
		return usageError("--max-file-size must be positive")
	}
	return nil
}

// load reads the RBAC objects: from the files as lint does (rendering
// kustomizations and charts), or from the cluster.
func (o *WhoCanOptions) load(ctx context.Context) (*manifest.Result, []finding.NotEvaluated, error) {
	if len(o.Files) > 0 {
		lint := NewLintOptions(o.IOStreams, o.getenv)
		lint.Paths, lint.Load = o.Files, o.Load
		return lint.Source().Load(ctx, func(*manifest.Object) {}), nil, nil
	}
	cfg, err := o.Kube.ToRESTConfig()
	if err != nil {
		return nil, nil, usageError("%v", err)
	}
	client, err := cluster.New(cfg)
	if err != nil {
		return nil, nil, &ExitError{Code: ExitCodeError, Err: err}
	}
	var ns cluster.Namespaces
	if o.namespace != "" {
		ns.Only = []string{o.namespace}
	} else if def, _, err := o.Kube.ToRawKubeConfigLoader().Namespace(); err == nil && def != "" {
		ns.Fallback = []string{def}
	}
	objs, notRead, err := cluster.ListRBAC(ctx, client, ns)
	if err != nil {
		return nil, nil, &ExitError{Code: ExitCodeError, Err: fmt.Errorf("%s: %w", cfg.Host, err)}
	}
	return &manifest.Result{Objects: objs}, notRead, nil
}

// whoCanOutput is the JSON form.
type whoCanOutput struct {
	Verb      string               `json:"verb"`
	Group     string               `json:"group"`
	Resource  string               `json:"resource"`
	Namespace string               `json:"namespace,omitempty"`
	Subjects  []rules.WhoCanAnswer `json:"subjects"`
	// NotEvaluated lists the RBAC objects that could not be read: the
	// answer may miss subjects they grant.
	NotEvaluated []finding.NotEvaluated `json:"notEvaluated,omitempty"`
	// Unresolved are bindings in scope whose role was not read.
	Unresolved []rules.WhoCanUnresolved `json:"unresolved,omitempty"`
}

// Run answers the question.
func (o *WhoCanOptions) Run() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	res, notRead, err := o.load(ctx)
	if err != nil {
		return err
	}
	for _, e := range res.Errors {
		fmt.Fprintln(o.ErrOut, e.Error())
	}
	for _, n := range notRead {
		where := "everywhere"
		if n.Namespace != "" {
			where = "in namespace " + n.Namespace
		}
		fmt.Fprintf(o.ErrOut, "not evaluated: %s %s: %s\n", n.Resource, where, n.Reason)
	}
	answers, unresolved := rules.WhoCan(res.Objects, o.query)
	if answers == nil {
		answers = []rules.WhoCanAnswer{}
	}
	if o.Format == "json" {
		enc := json.NewEncoder(o.Out)
		enc.SetIndent("", "  ")
		err = enc.Encode(whoCanOutput{Verb: o.query.Verb, Group: o.query.Group, Resource: o.query.Resource, Namespace: o.namespace, Subjects: answers, NotEvaluated: notRead, Unresolved: unresolved})
	} else {
		err = writeWhoCanText(o.Out, o.query, answers, len(notRead) > 0)
		for _, u := range unresolved {
			if err == nil {
				_, err = fmt.Fprintf(o.Out, "Unresolved: %s refers to %s, which was not read; its subjects may be allowed too.\n", u.Binding, u.Role)
			}
		}
	}
	if err != nil {
		return &ExitError{Code: ExitCodeError, Err: err}
	}
	switch {
	case len(res.Errors) > 0:
		return &ExitError{Code: ExitCodeError, Err: fmt.Errorf("%d input error(s)", len(res.Errors)), quiet: true}
	case len(o.Files) == 0 && len(res.Objects) == 0 && len(notRead) > 0:
		return &ExitError{Code: ExitCodeError, Err: fmt.Errorf("no RBAC object could be read from the cluster")}
	}
	return nil
}

func writeWhoCanText(w io.Writer, q rules.WhoCanQuery, answers []rules.WhoCanAnswer, incomplete bool) error {
	what := q.Resource
	if q.Group != "" {
		what += "." + q.Group
	}
	where := "in any namespace"
	if q.Namespace != "" {
		where = "in namespace " + q.Namespace
	}
	if len(answers) == 0 {
		if incomplete {
			_, err := fmt.Fprintf(w, "No subject can %s %s %s through the RBAC objects read, but some could not be read (see \"not evaluated\"): the answer is incomplete.\n", q.Verb, what, where)
			return err
		}
		_, err := fmt.Fprintf(w, "No subject can %s %s %s through the RBAC objects read.\n", q.Verb, what, where)
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tSUBJECT\tSCOPE\tCHAIN")
	for _, a := range answers {
		name := a.Subject
		if a.SubjectNamespace != "" {
			name = a.SubjectNamespace + "/" + a.Subject
		}
		scope := a.Scope
		if scope == "" {
			scope = "cluster-wide"
		}
		chain := a.Chain
		if loc := a.Location; loc.File != "" {
			chain = fmt.Sprintf("%s:%d: %s", loc.File, loc.Line, chain)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", a.SubjectKind, name, scope, chain)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if incomplete {
		_, err := fmt.Fprintln(w, "Incomplete: some RBAC objects could not be read (see \"not evaluated\"); other subjects may be granted this too.")
		return err
	}
	return nil
}

// builtinGroups maps the resources of the built-in API groups to their
// group, so that `who-can get deployments` needs no ".apps".
var builtinGroups = map[string]string{
	"deployments": "apps", "daemonsets": "apps", "statefulsets": "apps", "replicasets": "apps", "controllerrevisions": "apps",
	"jobs": "batch", "cronjobs": "batch",
	"roles": "rbac.authorization.k8s.io", "clusterroles": "rbac.authorization.k8s.io", "rolebindings": "rbac.authorization.k8s.io", "clusterrolebindings": "rbac.authorization.k8s.io",
	"ingresses": "networking.k8s.io", "networkpolicies": "networking.k8s.io", "ingressclasses": "networking.k8s.io",
	"validatingwebhookconfigurations": "admissionregistration.k8s.io", "mutatingwebhookconfigurations": "admissionregistration.k8s.io",
	"validatingadmissionpolicies": "admissionregistration.k8s.io", "validatingadmissionpolicybindings": "admissionregistration.k8s.io",
	"certificatesigningrequests": "certificates.k8s.io", "signers": "certificates.k8s.io",
	"customresourcedefinitions": "apiextensions.k8s.io",
	"storageclasses":            "storage.k8s.io", "csidrivers": "storage.k8s.io", "volumeattachments": "storage.k8s.io",
	"poddisruptionbudgets": "policy", "horizontalpodautoscalers": "autoscaling",
	"leases": "coordination.k8s.io", "priorityclasses": "scheduling.k8s.io", "runtimeclasses": "node.k8s.io",
	"tokenreviews": "authentication.k8s.io", "subjectaccessreviews": "authorization.k8s.io", "selfsubjectaccessreviews": "authorization.k8s.io",
	"endpointslices": "discovery.k8s.io", "apiservices": "apiregistration.k8s.io",
}

// coreResources are the resources of the core ("") group.
var coreResources = map[string]bool{
	"pods": true, "services": true, "secrets": true, "configmaps": true, "serviceaccounts": true, "namespaces": true, "nodes": true,
	"persistentvolumes": true, "persistentvolumeclaims": true, "endpoints": true, "events": true, "limitranges": true, "resourcequotas": true,
	"replicationcontrollers": true, "podtemplates": true, "bindings": true, "componentstatuses": true, "users": true, "groups": true, "uids": true,
}

// parseResource splits RESOURCE[.GROUP][/SUBRESOURCE] as kubectl auth
// can-i does; a bare resource must be one of the built-in ones.
func parseResource(s string) (group, resource string, err error) {
	name, sub, hasSub := strings.Cut(s, "/")
	name, group, dotted := strings.Cut(name, ".")
	switch {
	case name == "":
		return "", "", fmt.Errorf("resource %q: empty name", s)
	case dotted:
	case coreResources[name]:
		group = ""
	case builtinGroups[name] != "":
		group = builtinGroups[name]
	default:
		return "", "", fmt.Errorf("resource %q is not a built-in resource: give its API group as RESOURCE.GROUP (e.g. certificates.cert-manager.io)", name)
	}
	if hasSub {
		name += "/" + sub
	}
	return group, name, nil
}
