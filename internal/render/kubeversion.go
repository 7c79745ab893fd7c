package render

import (
	"fmt"
	"strconv"
	"strings"

	"helm.sh/helm/v3/pkg/chartutil"
)

// NewestKubernetesMinor is the newest Kubernetes minor version (1.x) this
// build knows: the one its k8s.io/api module describes (a test keeps the
// two in step).
const NewestKubernetesMinor = 37

// DefaultKubeVersion is what charts are rendered for when no version is
// given: the newest supported, so version-gated templates take their
// current branch (Helm's own default, v1.20, selects APIs removed long
// ago).
var DefaultKubeVersion = "v1." + strconv.Itoa(NewestKubernetesMinor) + ".0"

// servedByEveryCluster are API versions every supported kube-apiserver
// serves that Helm's default .Capabilities.APIVersions lacks (it lists
// client-go's scheme, which has no aggregation API): without them a chart
// gated on `.Capabilities.APIVersions.Has "apiregistration.k8s.io/v1"`
// takes its v1beta1 branch, removed in 1.22, and fails removed-api, while
// `helm install` on any cluster takes the v1 branch.
var servedByEveryCluster = []string{"apiregistration.k8s.io/v1", "apiregistration.k8s.io/v1/APIService"}

// ParseKubernetesVersion checks a --kubernetes-version value ("1.34",
// "v1.34", "1.34.2") and returns it as a full version ("v1.34.2").
// Versions newer than this build knows (e.g. 1.99) are refused: nothing
// about them is known.
func ParseKubernetesVersion(s string) (string, error) {
	s = strings.TrimSpace(s)
	v := s
	if strings.Count(v, ".") == 1 {
		v += ".0" // "1.34" means v1.34.0, as the Pod Security Standards read it
	}
	kv, err := chartutil.ParseKubeVersion(v)
	if err != nil {
		return "", fmt.Errorf("%q is not a Kubernetes version (want MAJOR.MINOR, e.g. 1.%d)", s, NewestKubernetesMinor)
	}
	minor, _ := strconv.Atoi(kv.Minor)
	if kv.Major != "1" || minor > NewestKubernetesMinor {
		return "", fmt.Errorf("unknown Kubernetes version %s: this build supports 1.0 to 1.%d", s, NewestKubernetesMinor)
	}
	return kv.Version, nil
}
