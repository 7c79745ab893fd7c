package fix

import (
	"errors"
	"strings"
	"testing"
)

// Each case marks the key's position with ^ in the line (the finding's
// column) and gives the rewritten line, or "" when the rewrite must refuse.
func TestRewrite(t *testing.T) {
	for _, tc := range []struct {
		name, line, key string
		kind            kind
		to, want        string
	}{
		{"plain", "        ^privileged: true", "privileged", boolKind, "false", "        privileged: false"},
		{"comment column kept", "  ^privileged: true   # debug only", "privileged", boolKind, "false", "  privileged: false  # debug only"},
		{"comment right after", "  ^privileged: true # x", "privileged", boolKind, "false", "  privileged: false # x"},
		{"shorter value pads the comment", "  ^readOnlyRootFilesystem: false # y", "readOnlyRootFilesystem", boolKind, "true", "  readOnlyRootFilesystem: true  # y"},
		{"Title case", "  ^hostPID: True", "hostPID", boolKind, "false", "  hostPID: False"},
		{"upper case", "  ^hostPID: TRUE", "hostPID", boolKind, "false", "  hostPID: FALSE"},
		{"YAML 1.1 yes", "  ^hostIPC: yes", "hostIPC", boolKind, "false", "  hostIPC: false"},
		{"YAML 1.1 On", "  ^hostIPC: On", "hostIPC", boolKind, "false", "  hostIPC: false"},
		{"double-quoted bool in values", "  ^privileged: \"true\"", "privileged", boolKind, "false", "  privileged: false"},
		{"single-quoted bool in values", "  ^privileged: 'true'", "privileged", boolKind, "false", "  privileged: false"},
		{"sequence item", "    - ^privileged: true", "privileged", boolKind, "false", "    - privileged: false"},
		{"flow map first", "      securityContext: {^privileged: true, runAsNonRoot: true}", "privileged", boolKind, "false", "      securityContext: {privileged: false, runAsNonRoot: true}"},
		{"flow map last", "      securityContext: {runAsUser: 1, ^runAsNonRoot: false}", "runAsNonRoot", boolKind, "true", "      securityContext: {runAsUser: 1, runAsNonRoot: true}"},
		{"flow map no spaces", "  sc: {^privileged: true}", "privileged", boolKind, "false", "  sc: {privileged: false}"},
		{"flow map quoted key", "  sc: {^\"privileged\":true}", "privileged", boolKind, "false", "  sc: {\"privileged\":false}"},
		{"JSON", "          ^\"privileged\": true,", "privileged", boolKind, "false", "          \"privileged\": false,"},
		{"JSON last member", "          ^\"privileged\": true", "privileged", boolKind, "false", "          \"privileged\": false"},
		{"quoted key", "  ^'hostNetwork': true", "hostNetwork", boolKind, "false", "  'hostNetwork': false"},
		{"tab before comment", "  ^privileged: true\t# t", "privileged", boolKind, "false", "  privileged: false\t# t"},
		{"enum plain", "      ^imagePullPolicy: Never", "imagePullPolicy", enumKind, "Always", "      imagePullPolicy: Always"},
		{"enum double quotes", "      ^imagePullPolicy: \"Never\"  # why", "imagePullPolicy", enumKind, "IfNotPresent", "      imagePullPolicy: \"IfNotPresent\" # why"},
		{"enum single quotes", "      ^type: 'Unconfined'", "type", enumKind, "RuntimeDefault", "      type: 'RuntimeDefault'"},
		{"values key of another name", "  ^pullPolicy: Never", "pullPolicy", enumKind, "Always", "  pullPolicy: Always"},

		{"template expression", "        ^privileged: {{ .Values.privileged }}", "privileged", boolKind, "false", ""},
		{"template in comment", "        ^privileged: true # {{ x }}", "privileged", boolKind, "false", ""},
		{"field absent: ancestor key", "      ^securityContext:", "privileged", boolKind, "false", ""},
		{"field absent: container item", "    - ^name: app", "runAsNonRoot", boolKind, "true", ""},
		{"value on next line", "  ^privileged:", "privileged", boolKind, "false", ""},
		{"value on next line, comment", "  ^privileged: # later", "privileged", boolKind, "false", ""},
		{"block scalar", "  ^imagePullPolicy: |", "imagePullPolicy", enumKind, "Always", ""},
		{"anchor", "  ^privileged: &p true", "privileged", boolKind, "false", ""},
		{"alias", "  ^privileged: *p", "privileged", boolKind, "false", ""},
		{"tag", "  ^privileged: !!bool true", "privileged", boolKind, "false", ""},
		{"already fixed", "  ^privileged: false", "privileged", boolKind, "false", ""},
		{"already fixed enum", "  ^imagePullPolicy: Always", "imagePullPolicy", enumKind, "Always", ""},
		{"not a boolean", "  ^privileged: \"maybe\"", "privileged", boolKind, "false", ""},
		{"enum with odd characters", "  ^imagePullPolicy: \"Ne ver\"", "imagePullPolicy", enumKind, "Always", ""},
		{"unterminated quote", "  ^imagePullPolicy: \"Never", "imagePullPolicy", enumKind, "Always", ""},
		{"column on the value", "  privileged: ^true", "privileged", boolKind, "false", ""},
		{"nested flow value", "  ^securityContext: {privileged: true}", "securityContext", boolKind, "false", ""},
		{"text after value", "  ^privileged: true false", "privileged", boolKind, "false", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			at := strings.IndexByte(tc.line, '^')
			line := tc.line[:at] + tc.line[at+1:]
			got, err := rewrite(line, at, tc.key, tc.kind, tc.to)
			if tc.want == "" {
				if err == nil {
					t.Fatalf("rewrite(%q) = %q, want a refusal", line, got)
				}
				if !errors.Is(err, errNoFix) {
					t.Fatalf("refusal %v is not errNoFix", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("rewrite(%q): %v", line, err)
			}
			if got != tc.want {
				t.Fatalf("rewrite(%q)\n got %q\nwant %q", line, got, tc.want)
			}
		})
	}
}

func TestSplitLinesKeepsEndings(t *testing.T) {
	for _, src := range []string{"", "a", "a\n", "a\r\nb\r\n", "a\nb", "a\r\n\r\nb", "\ufeffa: 1\n"} {
		if got := string(joinLines(splitLines([]byte(src)))); got != src {
			t.Errorf("round trip of %q gave %q", src, got)
		}
	}
	ls := splitLines([]byte("a: 1\r\nb: 2\n"))
	if ls[0].text != "a: 1" || ls[0].eol != "\r\n" || ls[1].text != "b: 2" || ls[1].eol != "\n" {
		t.Fatalf("CRLF lines: %+v", ls)
	}
}

func TestValuesNote(t *testing.T) {
	for _, tc := range []struct {
		msg, key, file string
		cond           bool
	}{
		{`Pod p shares the host's network namespace (hostNetwork: true) (written under the condition net.host (set in web/values (prod).yaml))`, "net.host", "web/values (prod).yaml", true},
		{`x (a.tgz line 3 of packaged chart a.tgz; written under the condition on (set in v.yaml))`, "on", "v.yaml", true},
		{`container "web" runs privileged (securityContext.privileged from values-debug.yaml)`, "securityContext.privileged", "values-debug.yaml", false},
		{`x (templates/a.yaml line 3 of packaged chart web.tgz; image.tag from charts/web/values.yaml)`, "image.tag", "charts/web/values.yaml", false},
		{`x (containers[1].securityContext.privileged from values.yaml)`, "containers.1.securityContext.privileged", "values.yaml", false},
		{`container "web" runs privileged`, "", "", false},
		{`x (set by patch overlays/dev/patch.yaml)`, "", "", false},
		{`x (hostNetwork: true)`, "", "", false},
	} {
		ref, ok := valuesNote(tc.msg)
		if ok != (tc.key != "") {
			t.Errorf("valuesNote(%q) ok = %v", tc.msg, ok)
			continue
		}
		if ok && (strings.Join(ref.key, ".") != tc.key || ref.file != tc.file || ref.cond != tc.cond) {
			t.Errorf("valuesNote(%q) = %v from %s, want %s from %s", tc.msg, ref.key, ref.file, tc.key, tc.file)
		}
	}
}

func TestByteOffsetCountsRunes(t *testing.T) {
	line := "  {ñame: 1, privileged: true}"
	// Column 13 (1-based, in characters) is the p of privileged.
	if got := byteOffset(line, 13); line[got:got+10] != "privileged" {
		t.Fatalf("byteOffset gave %d (%q)", got, line[got:])
	}
}
