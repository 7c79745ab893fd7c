package rules

import (
	"testing"

	"github.com/kubectl-secure/kubectl-secure/internal/engine"
)

func TestKubernetesVersionSettings(t *testing.T) {
	max := pssTableOnce().maxMinor
	for v, want := range map[string]int{
		"": max, "1.24": 24, "v1.30": 30, "1.31.2": 31, "1.29.0-rc.1": 29, "1.99": max, "2.0": max, "garbage": max,
	} {
		if got := pssMinor(&engine.Settings{KubernetesVersion: v}); got != want {
			t.Errorf("pssMinor(%q) = %d, want %d", v, got, want)
		}
	}
	for v, ok := range map[string]bool{"": true, "1.34": true, "v1.34": true, "1.34.1": true, "1": false, "1.x": false, "1.034": false, "latest": false} {
		s := engine.Settings{KubernetesVersion: v}
		if err := s.Validate(); (err == nil) != ok {
			t.Errorf("Validate(%q) = %v", v, err)
		}
	}
}
