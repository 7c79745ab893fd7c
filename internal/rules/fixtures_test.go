package rules

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/kubectl-secure/kubectl-secure/internal/engine"
)

// The fixture convention is documented in testdata/rules/README.md.

var (
	wantRE     = regexp.MustCompile(`#\s*want:\s*(.*)$`)
	settingsRE = regexp.MustCompile(`^#\s*settings:\s*(\{.*\})\s*$`)
	rulesRE    = regexp.MustCompile(`^#\s*rules:\s*(.*)$`)
)

type want struct {
	line, col int
	rule      string
	// sev, when given (rule=high), is the severity the finding must have.
	sev string
}

func (w want) String() string {
	s := fmt.Sprintf("%d:%d %s", w.line, w.col, w.rule)
	if w.sev != "" {
		s += "=" + w.sev
	}
	return s
}

// keyColumn is the 1-based column of the first token on a line: after the
// indentation and any "- " sequence indicators.
func keyColumn(line string) int {
	i := 0
	for {
		for i < len(line) && line[i] == ' ' {
			i++
		}
		if i < len(line) && line[i] == '-' && (i+1 == len(line) || line[i+1] == ' ') {
			i++
			continue
		}
		return i + 1
	}
}

type fixture struct {
	path      string
	settings  engine.Settings
	underTest map[string]bool
	wants     []want
}

func parseFixture(t *testing.T, path, dirRule string) fixture {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fx := fixture{path: path, underTest: map[string]bool{dirRule: true}}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if m := settingsRE.FindStringSubmatch(line); m != nil {
			if err := json.Unmarshal([]byte(m[1]), &fx.settings); err != nil {
				t.Fatalf("%s:%d: settings: %v", path, n, err)
			}
			continue
		}
		if m := rulesRE.FindStringSubmatch(line); m != nil {
			for _, id := range strings.FieldsFunc(m[1], func(r rune) bool { return r == ',' || r == ' ' }) {
				fx.underTest[id] = true
			}
			continue
		}
		m := wantRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		for _, tok := range strings.FieldsFunc(m[1], func(r rune) bool { return r == ',' || r == ' ' }) {
			tok, sev, _ := strings.Cut(tok, "=")
			id, colStr, hasCol := strings.Cut(tok, "@")
			col := keyColumn(line)
			if hasCol {
				if col, err = strconv.Atoi(colStr); err != nil {
					t.Fatalf("%s:%d: bad column in %q", path, n, tok)
				}
			}
			fx.wants = append(fx.wants, want{n, col, id, sev})
			fx.underTest[id] = true
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return fx
}

// TestRuleFixtures lints every file under testdata/rules/<rule-id>/ on its
// own and compares the findings of the rules under test with the
// expectations written in the file.
func TestRuleFixtures(t *testing.T) {
	root := filepath.Join(repoRoot(t), "testdata", "rules")
	reg := testRegistry(t)
	dirs, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	fired := map[string]int{}  // rule → expected findings over all fixtures
	quiet := map[string]bool{} // rule → under test in some file with no expected finding of it
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		if _, ok := reg.Get(d.Name()); !ok {
			t.Errorf("testdata/rules/%s: no such rule", d.Name())
			continue
		}
		files, _ := filepath.Glob(filepath.Join(root, d.Name(), "*.yaml"))
		for _, file := range files {
			fx := parseFixture(t, file, d.Name())
			for id := range fx.underTest {
				if _, ok := reg.Get(id); !ok {
					t.Errorf("%s: unknown rule %q", file, id)
				}
			}
			raws, errs := lint(t, reg, fx.settings, nil, file)
			for _, e := range errs {
				t.Errorf("%s: input error: %s", file, e.Error())
			}
			rel, _ := filepath.Rel(repoRoot(t), file)
			graded := map[want]bool{} // positions whose severity is checked
			for _, w := range fx.wants {
				if w.sev != "" {
					graded[want{w.line, w.col, w.rule, ""}] = true
				}
			}
			var got []string
			for _, r := range raws {
				if fx.underTest[r.RuleID()] {
					w := want{r.Location().Line, r.Location().Column, r.RuleID(), ""}
					if graded[w] {
						w.sev = r.Severity.String()
					}
					got = append(got, w.String())
				}
			}
			var exp []string
			count := map[string]int{}
			for _, w := range fx.wants {
				exp = append(exp, w.String())
				count[w.rule]++
				fired[w.rule]++
			}
			for id := range fx.underTest {
				if count[id] == 0 {
					quiet[id] = true
				}
			}
			sort.Strings(got)
			sort.Strings(exp)
			if strings.Join(got, "\n") != strings.Join(exp, "\n") {
				var msgs []string
				for _, r := range raws {
					if fx.underTest[r.RuleID()] {
						msgs = append(msgs, fmt.Sprintf("  %s %s: %s", r.Location(), r.RuleID(), r.Message))
					}
				}
				t.Errorf("%s:\n missing: %v\n unexpected: %v\n findings:\n%s", rel, diff(exp, got), diff(got, exp), strings.Join(msgs, "\n"))
			}
		}
	}
	for _, r := range reg.Rules() {
		if fired[r.ID] == 0 {
			t.Errorf("rule %s has no failing fixture (a # want: %s line under testdata/rules)", r.ID, r.ID)
		}
		if !quiet[r.ID] {
			t.Errorf("rule %s has no passing fixture (a file under test for it without # want: %s)", r.ID, r.ID)
		}
	}
}

// diff returns the items of a not in b (multisets).
func diff(a, b []string) []string {
	m := map[string]int{}
	for _, s := range b {
		m[s]++
	}
	var out []string
	for _, s := range a {
		if m[s] > 0 {
			m[s]--
			continue
		}
		out = append(out, s)
	}
	return out
}

func TestKeyColumn(t *testing.T) {
	for line, col := range map[string]int{
		"apiVersion: v1":          1,
		"  hostNetwork: true":     3,
		"    - name: app":         7,
		"      - - SYS_ADMIN":     11,
		"- x":                     3,
		`          - "NET_ADMIN"`: 13,
	} {
		if got := keyColumn(line); got != col {
			t.Errorf("keyColumn(%q) = %d, want %d", line, got, col)
		}
	}
}
