package finding

import "testing"

func TestValuesNoteRoundTrip(t *testing.T) {
	for _, v := range []ValuesSource{
		{Key: "securityContext.privileged", File: "chart/values.yaml"},
		{Key: "env[0].value", File: "--set"},
		{Key: "hostNetwork", File: "values-prod.yaml", Condition: true},
	} {
		for _, msg := range []string{
			"container \"app\" runs privileged (" + v.Note() + ")",
			"x (templates/d.yaml line 3 of packaged chart c.tgz; " + v.Note() + ")",
		} {
			got, ok := ParseValuesNote(msg)
			if !ok || got != v {
				t.Errorf("%q: got %+v, %v; want %+v", msg, got, ok, v)
			}
		}
	}
	for _, msg := range []string{
		"no note",
		"set by patch (overlays/dev/p.yaml)",
		"unbalanced (a from b",
		"a note (with words from somewhere)",
	} {
		if v, ok := ParseValuesNote(msg); ok {
			t.Errorf("%q: unexpected %+v", msg, v)
		}
	}
}
