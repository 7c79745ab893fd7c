package rules

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/kubectl-secure/kubectl-secure/internal/engine"
	"github.com/kubectl-secure/kubectl-secure/internal/finding"
	"github.com/kubectl-secure/kubectl-secure/internal/manifest"
)

const (
	secretsGoodPractice = "https://kubernetes.io/docs/concepts/security/secrets-good-practices/"
	externalSecretsRef  = "https://external-secrets.io/"
	sealedSecretsRef    = "https://github.com/bitnami-labs/sealed-secrets"
	sopsRef             = "https://github.com/getsops/sops"
)

// credentialFormat is a credential with a recognisable shape. prefixes
// gate the (comparatively slow) regexp: it runs only when the value
// contains one of them.
type credentialFormat struct {
	what     string
	prefixes []string
	re       *regexp.Regexp
}

var credentialFormats = []credentialFormat{
	{"a private key", []string{"PRIVATE KEY"}, regexp.MustCompile(`-----BEGIN[ A-Z0-9]*PRIVATE KEY( BLOCK)?-----`)},
	{"an AWS access key ID", []string{"AKIA", "ASIA", "AGPA", "AIDA", "AROA", "AIPA", "ANPA", "ANVA", "APKA", "ABIA", "ACCA"},
		regexp.MustCompile(`(?:^|[^A-Z0-9])(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA|ABIA|ACCA)[A-Z0-9]{16}(?:$|[^A-Z0-9])`)},
	{"a GitHub token", []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"},
		regexp.MustCompile(`\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})\b`)},
	{"a GitLab token", []string{"glpat-"}, regexp.MustCompile(`glpat-[A-Za-z0-9_-]{20,}`)},
	{"a Slack token", []string{"xox"}, regexp.MustCompile(`\bxox[abposr]-[A-Za-z0-9-]{10,}`)},
	{"a Slack webhook URL", []string{"hooks.slack.com/services/"}, regexp.MustCompile(`hooks\.slack\.com/services/T[A-Za-z0-9]+/B[A-Za-z0-9]+/[A-Za-z0-9]{16,}`)},
	{"a Stripe live key", []string{"_live_"}, regexp.MustCompile(`\b(?:sk|rk)_live_[A-Za-z0-9]{20,}`)},
	{"a Google API key", []string{"AIza"}, regexp.MustCompile(`AIza[A-Za-z0-9_-]{35}`)},
	{"an npm token", []string{"npm_"}, regexp.MustCompile(`\bnpm_[A-Za-z0-9]{36}\b`)},
	{"a SendGrid API key", []string{"SG."}, regexp.MustCompile(`SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}`)},
	{"an Azure storage account key", []string{"AccountKey="}, regexp.MustCompile(`AccountKey=[A-Za-z0-9+/]{40,}={0,2}`)},
	{"a JSON Web Token", []string{"eyJ"}, regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`)},
}

// urlPassword matches credentials embedded in a URL; group 1 is the
// password, checked against placeholders.
var urlPassword = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@'"]+:([^/\s@'"]+)@`)

// detectCredential names the kind of credential s contains, or "".
func detectCredential(s string) string {
	if len(s) < 8 {
		return ""
	}
	if strings.Contains(s, "service_account") && strings.Contains(s, "private_key") && strings.Contains(s, "PRIVATE KEY") {
		return "a GCP service account key"
	}
	for i := range credentialFormats {
		f := &credentialFormats[i]
		hit := false
		for _, p := range f.prefixes {
			if strings.Contains(s, p) {
				hit = true
				break
			}
		}
		if !hit {
			continue
		}
		if m := f.re.FindString(s); m != "" && !isPlaceholder(m) && !longRun(m, 8) {
			return f.what
		}
	}
	if strings.Contains(s, "://") && strings.Contains(s, "@") {
		for _, m := range urlPassword.FindAllStringSubmatch(s, -1) {
			if !isPlaceholder(m[1]) {
				return "a URL with an embedded password"
			}
		}
	}
	return ""
}

// awsSecretKey is the shape of an AWS secret access key, recognised when
// the name says so (the shape alone is any 40-character base64 string).
var awsSecretKey = regexp.MustCompile(`^[A-Za-z0-9/+]{40}$`)

// detectNamedCredential is detectCredential, plus formats recognised by
// the name that holds the value (AWS_SECRET_ACCESS_KEY).
func detectNamedCredential(key, value string) string {
	if w := detectCredential(value); w != "" {
		return w
	}
	if key != "" && len(value) == 40 && awsSecretKey.MatchString(value) && !longRun(value, 8) {
		ws := words(key)
		if slices.Contains(ws, "aws") && (slices.Contains(ws, "secret") || slices.Contains(ws, "secretaccesskey")) {
			return "an AWS secret access key"
		}
	}
	return ""
}

// placeholderWords are the words placeholder values are made of:
// "changeme", "your-api-key-here", "<redacted>", "example". A value is a
// placeholder only when every word of it is one of these (or filler, or a
// short number): a real credential with EXAMPLE inside is not.
var placeholderWords = map[string]bool{
	"changeme": true, "change": true, "me": true, "changeit": true, "replaceme": true, "replace": true,
	"with": true, "example": true, "sample": true, "placeholder": true, "redacted": true, "dummy": true,
	"fake": true, "todo": true, "fixme": true, "tbd": true, "none": true, "null": true, "nil": true,
	"undefined": true, "secret": true, "password": true, "passwd": true, "pass": true, "token": true,
	"key": true, "api": true, "apikey": true, "access": true, "private": true, "client": true, "test": true,
	"n": true, "a": true, "true": true, "false": true, "yes": true, "no": true, "on": true, "off": true,
	"enabled": true, "disabled": true, "required": true, "optional": true, "default": true, "unset": true,
	"empty": true, "your": true, "yours": true, "my": true, "here": true, "insert": true, "put": true,
	"enter": true, "set": true, "value": true, "the": true, "goes": true, "string": true, "foo": true,
	"bar": true, "baz": true, "not": true, "real": true, "user": true, "username": true,
}

// templateExpr matches a template or variable reference: ${VAR},
// $(VAR), {{ ... }}, %(name)s, #{...}.
var templateExpr = regexp.MustCompile(`\$\{[^}]*\}|\$\([^)]*\)|\{\{.*?\}\}|%\([^)]*\)[sd]|#\{[^}]*\}`)

// varReference is a whole value that names an environment variable
// without braces: $DB_PASSWORD (shell) or %DB_PASSWORD% (Windows). Upper
// case only: "$ecret" is a password.
var varReference = regexp.MustCompile(`^(?:\$[A-Z_][A-Z0-9_]*|%[A-Z_][A-Z0-9_]*%)$`)

// instructionWords start a fill-in-the-blank value: INSERT_DB_PASSWORD_HERE,
// REPLACE_WITH_SLACK_TOKEN, YOUR_MAILGUN_API_KEY, enter-elastic-password.
var instructionWords = map[string]bool{
	"insert": true, "replace": true, "your": true, "enter": true, "put": true, "paste": true,
	"fill": true, "provide": true, "specify": true, "add": true, "set": true, "change": true,
}

// fillInBlank reports whether v is one identifier of letters joined by _
// or - (no digits, no other characters) that starts with an instruction
// word or ends with "here": it tells the reader what to put there. The
// nouns in between (DB, GITHUB, MAILGUN) may be anything; digits or
// punctuation make it a possible real value (your-token-9f8e7d6c).
func fillInBlank(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '-') {
			return false
		}
	}
	ws := strings.FieldsFunc(strings.ToLower(v), func(r rune) bool { return r == '_' || r == '-' })
	return len(ws) >= 2 && (instructionWords[ws[0]] || ws[len(ws)-1] == "here")
}

// credentialShaped reports whether v contains a value in a known
// credential format, placeholders around it or not: such a value is never
// a placeholder (<AKIA...> is a key in brackets).
func credentialShaped(v string) bool {
	for i := range credentialFormats {
		f := &credentialFormats[i]
		for _, p := range f.prefixes {
			if strings.Contains(v, p) {
				if m := f.re.FindString(v); m != "" && !longRun(m, 8) {
					return true
				}
				break
			}
		}
	}
	return false
}

// isPlaceholder reports whether v as a whole is obviously not a real
// secret: empty, made only of placeholder words ("changeme",
// "your-token-here", "<password>"), a fill-in-the-blank identifier
// (INSERT_DB_PASSWORD_HERE), a template or variable reference (with at
// most placeholder words around it: "Bearer ${TOKEN}"; $DB_PASSWORD), a
// reference to a secret store, an encrypted blob, or one repeated
// character. A value that merely contains such a word is not, and a
// value in a known credential format never is.
func isPlaceholder(v string) bool {
	v = strings.TrimSpace(v)
	if v == "" {
		return true
	}
	if credentialShaped(v) {
		return false
	}
	if varReference.MatchString(v) || fillInBlank(v) {
		return true
	}
	l := strings.ToLower(v)
	for _, p := range []string{"vault:", "ref+", "arn:aws:secretsmanager:", "arn:aws:ssm:", "projects/", "enc[", "sops:", "akv:", "azurekeyvault:", "op://", "secret://", "sm://"} {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	if rest := templateExpr.ReplaceAllString(l, " "); rest != l {
		// Around template expressions only placeholder words or short
		// glue ("Bearer ", "user:", "-prod") may remain.
		for _, w := range words(rest) {
			if len(w) > 6 && !placeholderWords[w] {
				return false
			}
		}
		return true
	}
	if l[0] == '<' && l[len(l)-1] == '>' || l[0] == '[' && l[len(l)-1] == ']' {
		return true
	}
	if repeated(v) {
		return true
	}
	ws := words(l)
	if len(ws) == 0 {
		return true // only punctuation: "...", "-"
	}
	for _, w := range ws {
		if !placeholderWords[w] && !repeated(w) && !(len(w) <= 3 && isNumber(w)) && !numberedSample(w) {
			return false
		}
	}
	return true
}

// sampleWords, numbered, make the sample values of examples and tests
// (value1, example2, foo3); a numbered password (password1, secret123,
// test123) may be a real weak one.
var sampleWords = []string{"value", "example", "sample", "dummy", "placeholder", "fake", "foo", "bar", "baz"}

func numberedSample(w string) bool {
	base := strings.TrimRight(w, "0123456789")
	return len(w)-len(base) > 0 && len(w)-len(base) <= 3 && slices.Contains(sampleWords, base)
}

// repeated reports whether s is one character repeated (xxxx, ****, 0000).
func repeated(s string) bool {
	if len(s) < 2 {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] != s[0] {
			return false
		}
	}
	return true
}

// longRun reports whether s holds a run of n identical characters: a
// token-shaped value filled in with x's or zeros.
func longRun(s string, n int) bool {
	run := 1
	for i := 1; i < len(s); i++ {
		if s[i] == s[i-1] {
			if run++; run >= n {
				return true
			}
		} else {
			run = 1
		}
	}
	return false
}

// words splits s into lower-case alphanumeric words, also at camelCase
// boundaries (apiKey, APIKey → api, key).
func words(s string) []string {
	var out []string
	start := -1
	isLower := func(c byte) bool { return c >= 'a' && c <= 'z' }
	isUpper := func(c byte) bool { return c >= 'A' && c <= 'Z' }
	isDigit := func(c byte) bool { return c >= '0' && c <= '9' }
	for i := 0; i <= len(s); i++ {
		alnum := i < len(s) && (isLower(s[i]) || isUpper(s[i]) || isDigit(s[i]))
		if alnum && start >= 0 && isUpper(s[i]) && (isLower(s[i-1]) || i+1 < len(s) && isLower(s[i+1]) && isUpper(s[i-1])) {
			out = append(out, strings.ToLower(s[start:i]))
			start = i
			continue
		}
		if alnum && start < 0 {
			start = i
		}
		if !alnum && start >= 0 {
			out = append(out, strings.ToLower(s[start:i]))
			start = -1
		}
	}
	return out
}

// sensitiveWords make a key name sensitive wherever they appear as a word
// (SECRET_KEY_BASE, STRIPE_KEY, SSH_KEY_CONTENT, AUTH_BEARER, SMTP_PASS);
// sensitiveEndings also when a compound word ends with them
// (DBPASSWORD, xapikey).
var (
	sensitiveWords = map[string]bool{
		"password": true, "passwd": true, "passphrase": true, "pwd": true, "pass": true, "secret": true,
		"token": true, "key": true, "bearer": true, "credential": true, "credentials": true, "creds": true,
		"dsn": true, "apikey": true, "accesskey": true, "secretkey": true, "privatekey": true,
	}
	sensitiveEndings = []string{
		"password", "passwd", "passphrase", "secret", "token", "apikey", "accesskey",
		"secretkey", "privatekey", "signingkey", "encryptionkey", "masterkey", "authkey",
		"accountkey", "storagekey", "sharedkey", "hmackey", "licensekey", "clientkey", "sshkey",
		"credential", "credentials", "connectionstring",
	}
	// notSecretLast are last words of names that refer to a secret, or
	// describe one, rather than hold it: ACCESS_KEY_ID (a public
	// identifier), PASSWORD_FILE and TOKEN_PATH (a mounted file),
	// TOKEN_URL, secretName, TOKEN_TTL, KEY_ALGORITHM, credHelpers (the
	// programs that fetch credentials), ...
	notSecretLast = map[string]bool{
		"id": true, "ids": true, "file": true, "files": true, "path": true, "paths": true, "dir": true,
		"directory": true, "url": true, "uri": true, "endpoint": true, "host": true, "name": true,
		"names": true, "ref": true, "header": true, "prefix": true, "type": true, "kind": true,
		"algorithm": true, "alg": true, "size": true, "length": true, "len": true, "bits": true,
		"ttl": true, "timeout": true, "expiry": true, "expiration": true, "lifetime": true, "duration": true,
		"enabled": true, "enable": true, "disabled": true, "required": true, "mode": true, "version": true,
		"format": true, "location": true, "policy": true, "field": true, "label": true, "region": true,
		"issuer": true, "audience": true, "scope": true, "scopes": true, "mount": true, "store": true,
		"provider": true, "providers": true, "helper": true, "helpers": true, "env": true, "var": true,
	}
)

// keySensitivity grades how strongly a key name suggests its value is a
// secret.
type keySensitivity int

const (
	notSensitive keySensitivity = iota
	// onlyKey: the word key alone (STRIPE_KEY, but also SORT_KEY,
	// CACHE_KEY): a secret only if the value looks like key material.
	onlyKey
	sensitive // password, secret, token, apikey, ...
)

// keySensitivityOf grades a key name: a sensitive word anywhere in it,
// unless its last word says it refers to or describes the secret
// (notSecretLast), or it names a public key.
func keySensitivityOf(k string) keySensitivity {
	ws := words(k)
	if len(ws) == 0 {
		return notSensitive
	}
	for i, w := range ws {
		ws[i] = strings.TrimRight(w, "0123456789")
	}
	if notSecretLast[ws[len(ws)-1]] || slices.Contains(ws, "public") {
		return notSensitive
	}
	grade := notSensitive
	for i, w := range ws {
		if w == "key" {
			grade = onlyKey
			if i == 0 || !compoundSensitive(ws[i-1]+w) {
				continue // ACCESS_KEY, PRIVATE_KEY are compounds: below
			}
			return sensitive
		}
		if sensitiveWords[w] || compoundSensitive(w) {
			return sensitive
		}
	}
	return grade
}

// compoundSensitive reports whether a compound word ends with a sensitive
// ending: DBPASSWORD, xapikey, or ACCESS_KEY joined.
func compoundSensitive(w string) bool {
	for _, e := range sensitiveEndings {
		if len(w) > len(e) && strings.HasSuffix(w, e) || w == e {
			return true
		}
	}
	return false
}

// sensitiveKey reports whether a key name suggests its value is a secret.
func sensitiveKey(k string) bool { return keySensitivityOf(k) != notSensitive }

// weakSecret reports whether value, held by a sensitively named key, looks
// like a real secret rather than a placeholder, a path, a number or a
// flag. Under a name whose only sensitive word is key, the value must
// also look like key material (letters and digits, or 20 characters or
// more without spaces), not an identifier such as created_at.
func weakSecret(key, value string) bool {
	grade := keySensitivityOf(key)
	if grade == notSensitive || isPlaceholder(value) {
		return false
	}
	v := strings.TrimSpace(value)
	if len(v) < 4 || strings.ContainsAny(v, "\n") || strings.HasPrefix(v, "/") || isNumber(v) {
		return false
	}
	return grade == sensitive || keyMaterial(v)
}

// keyMaterial reports whether v looks like a key rather than a word or an
// identifier.
func keyMaterial(v string) bool {
	if len(v) >= 20 && !strings.ContainsAny(v, " \t") {
		return true
	}
	return strings.ContainsAny(v, "0123456789") && strings.IndexFunc(v, func(r rune) bool { return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' }) >= 0
}

func isNumber(s string) bool {
	for i := 0; i < len(s); i++ {
		if (s[i] < '0' || s[i] > '9') && s[i] != '.' && s[i] != '-' {
			return false
		}
	}
	return true
}

// secretHit is a literal secret found in an object.
type secretHit struct {
	path   manifest.Path
	where  string // `env var "X" of container "y"`
	what   string // kind of credential, for strong hits
	strong bool
}

// scanLiterals finds literal secrets in container env values, args and
// commands, and in ConfigMap data: with strong, values in a known
// credential format (multi-line values, files and scripts, included);
// otherwise single-line values of sensitively named keys and flags that
// are not in a known format. Descriptions are built only for hits.
func scanLiterals(c *engine.Context, o *manifest.Object, strong bool) []secretHit {
	var hits []secretHit
	check := func(key, value string) (string, bool) {
		if strong {
			w := detectNamedCredential(key, value)
			return w, w != ""
		}
		if key == "" || !weakSecret(key, value) || detectNamedCredential(key, value) != "" {
			return "", false
		}
		return "", true
	}
	if o.Kind == "ConfigMap" && o.Group() == "" {
		_, data := manifest.MapGet(o.Node, "data")
		if data == nil || data.Kind != yaml.MappingNode {
			return nil
		}
		for i := 0; i+1 < len(data.Content); i += 2 {
			k, v := data.Content[i], manifest.Resolve(data.Content[i+1])
			if v == nil || v.Kind != yaml.ScalarNode {
				continue
			}
			if o.IsGenerated(manifest.Path{}.Key("data", k.Value)) {
				continue
			}
			if what, ok := check(k.Value, v.Value); ok {
				hits = append(hits, secretHit{manifest.Path{}.Key("data", k.Value), fmt.Sprintf("key %q of %s", k.Value, o.Ref()), what, strong})
			}
		}
		return hits
	}
	w := c.Workload()
	if w == nil {
		return nil
	}
	for i := range w.Containers {
		ct := &w.Containers[i]
		for j, e := range ct.Container.Env {
			if e.Value == "" || e.ValueFrom != nil || !strong && !sensitiveKey(e.Name) {
				continue
			}
			if len(o.Generated) > 0 && o.IsGenerated(ct.Path.Key("env").Item(j, e.Name).Key("value")) {
				continue
			}
			if what, ok := check(e.Name, e.Value); ok {
				hits = append(hits, secretHit{ct.Path.Key("env").Item(j, e.Name).Key("value"), fmt.Sprintf("env var %q of %s", e.Name, describe(ct)), what, strong})
			}
		}
		for _, list := range []struct {
			key  string
			args []string
		}{{"command", ct.Container.Command}, {"args", ct.Container.Args}} {
			for j, a := range list.args {
				at, key, val := j, "", a
				if !strong {
					if !strings.HasPrefix(a, "-") {
						continue
					}
					name, v, eq := strings.Cut(strings.TrimLeft(a, "-"), "=")
					switch {
					case eq:
						key, val = name, v
					case j+1 < len(list.args) && !strings.HasPrefix(list.args[j+1], "-"):
						at, key, val = j+1, name, list.args[j+1]
					default:
						continue
					}
				}
				if what, ok := check(key, val); ok {
					hits = append(hits, secretHit{ct.Path.Key(list.key).Item(at, ""), fmt.Sprintf("%s[%d] of %s", list.key, at, describe(ct)), what, strong})
				}
			}
		}
	}
	return hits
}

func hardcodedCredential() *engine.Rule {
	return &engine.Rule{
		RuleInfo: finding.RuleInfo{
			ID: "hardcoded-credential", Title: "Credential committed in a manifest", Severity: finding.High, Category: "secrets",
			Tags:        []string{"secrets", "cis:5.4.1"},
			Rationale:   "A value with the shape of a real credential (a private key, an AWS access key ID — or secret access key in a variable named so —, a GCP service account key, an Azure storage key, a Google API key, a GitHub, GitLab, Slack, Stripe, npm or SendGrid token, a JWT, a URL with a password) is in an env value, a command line or a ConfigMap, whatever its name: everyone who can read the repository, the rendered manifests or the object in the cluster has it, and it ends up in logs and process listings.",
			Remediation: "Revoke and rotate the credential now, then keep it in a Secret that is not committed in plain text (External Secrets, Sealed Secrets or SOPS) and reference it with secretKeyRef or a mounted volume.",
			Example:     "env:\n  - name: GITHUB_TOKEN\n    valueFrom:\n      secretKeyRef:\n        name: ci-credentials\n        key: github-token\n",
			References:  []string{secretsGoodPractice, externalSecretsRef, cis("5.4.1", "Prefer using secrets as files over secrets as environment variables")},
		},
		Check: func(c *engine.Context, o *manifest.Object) {
			for _, h := range scanLiterals(c, o, true) {
				c.Reportf(h.path, "%s holds %s in plain text", h.where, h.what)
			}
		},
	}
}

func hardcodedPassword() *engine.Rule {
	return &engine.Rule{
		RuleInfo: finding.RuleInfo{
			ID: "hardcoded-password", Title: "Literal value for a password, token or key", Severity: finding.Medium, Category: "secrets",
			Tags:        []string{"secrets", "cis:5.4.1"},
			Rationale:   "A setting named like a password, secret, token or key holds a literal value that is not a placeholder: the secret is committed with the manifest and readable by anyone who can read the object. A name is sensitive when a word of it (split at _, -, . and camelCase) is password, passwd, passphrase, pwd, pass, secret, token, key, bearer, credential(s), creds or dsn, or a compound word ends with one (DBPASSWORD, xApiKey) — anywhere in the name: SECRET_KEY_BASE, SSH_KEY_CONTENT; when key is the only such word (STRIPE_KEY, but also SORT_KEY) the value must look like key material (letters and digits, or 20 characters or more), not an identifier. Names whose last word says they refer to or describe a secret are not: …_ID (ACCESS_KEY_ID is a public identifier), …_FILE, …_PATH, …_DIR, …_URL, …_NAME, …_TTL, …_TYPE, …_ALGORITHM, …_HELPERS and similar, and names with the word public (JWT_PUBLIC_KEY). A value is a placeholder only as a whole: empty, made only of placeholder words (changeme, your-password-here, <redacted>) or numbered sample values (value1, example2; not password1), angle- or square-bracketed (<your-password>, [REDACTED]), a fill-in-the-blank identifier — letters joined by _ or - that start with insert, replace, your, enter, put, paste, fill, provide, specify, add, set or change, or end with here (INSERT_DB_PASSWORD_HERE, YOUR_MAILGUN_API_KEY) —, a template or variable reference ({{ .Values.x }}, ${TOKEN}, $(VAR), $DB_PASSWORD, %DB_PASSWORD%), a secret-store reference, or one repeated character. Digits or other punctuation in a fill-in-the-blank value (your-token-9f8e7d6c) make it a possible real value, and a value that merely contains EXAMPLE is reported. A default such as changeme discloses nothing and is not reported here. A value in a known credential format (see hardcoded-credential) is never a placeholder, whatever surrounds it (<AKIA…>).",
			Remediation: "Move the value into a Secret managed outside the repository (External Secrets, Sealed Secrets or SOPS) and reference it with secretKeyRef; rotate it if it was real.",
			Example:     "env:\n  - name: DB_PASSWORD\n    valueFrom:\n      secretKeyRef:\n        name: db\n        key: password\n",
			References:  []string{secretsGoodPractice, sealedSecretsRef, sopsRef},
		},
		Check: func(c *engine.Context, o *manifest.Object) {
			for _, h := range scanLiterals(c, o, false) {
				c.Reportf(h.path, "%s holds a literal value; sensitive settings belong in a Secret", h.where)
			}
		},
	}
}

// secretGrade is how much one Secret value discloses.
type secretGrade int

const (
	gradeNone    secretGrade = iota // a placeholder, or generated by the chart
	gradeConfig                     // configuration: usernames, hosts, certificates, files without credentials
	gradeOpaque                     // a random-looking value under a neutral name: possibly a credential
	gradeLiteral                    // a literal credential
)

// fileSetting matches a "key: value" or "key = value" line of a
// configuration file (YAML, JSON, INI, properties, env files).
var fileSetting = regexp.MustCompile(`^\s*(?:export\s+)?["']?([A-Za-z0-9_.-]+)["']?\s*[:=]\s*["']?([^"'\s,#]+)`)

// gradeSecretValue grades one value of a Secret and names the reason.
func gradeSecretValue(key, val string) (secretGrade, string) {
	if isPlaceholder(val) {
		return gradeNone, ""
	}
	if what := detectNamedCredential(key, val); what != "" {
		return gradeLiteral, what
	}
	// `echo pw | base64` leaves a final newline: one line is no file.
	if v := strings.TrimRight(val, "\r\n"); !strings.Contains(v, "\n") {
		val = v
	}
	if strings.Contains(val, "\n") || strings.Contains(key, ".") {
		// A file: credentials in its settings, or configuration.
		for _, line := range strings.Split(val, "\n") {
			if m := fileSetting.FindStringSubmatch(line); m != nil && weakSecret(m[1], m[2]) {
				return gradeLiteral, "a " + m[1] + " setting"
			}
		}
		if strings.HasSuffix(key, ".dockerconfigjson") || strings.HasSuffix(key, ".dockercfg") {
			if strings.Contains(val, `"auth"`) || strings.Contains(val, `"password"`) {
				return gradeLiteral, "registry credentials"
			}
		}
		if !strings.Contains(val, "\n") && weakSecret(key, val) {
			return gradeLiteral, "a literal value"
		}
		return gradeConfig, ""
	}
	if weakSecret(key, val) {
		return gradeLiteral, "a literal value"
	}
	if ws := words(key); randomLooking(val) && (len(ws) == 0 || !notSecretLast[ws[len(ws)-1]]) {
		return gradeOpaque, "" // not for cluster-id, bucket-name, ...
	}
	return gradeConfig, ""
}

// randomLooking reports whether a single-line value looks like key
// material rather than configuration: long, no spaces, and mixing
// character classes (or long hex).
func randomLooking(v string) bool {
	if len(v) < 16 || strings.ContainsAny(v, " \t") {
		return false
	}
	var upper, lower, digit, other bool
	hex := true
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c >= 'A' && c <= 'Z':
			upper = true
			hex = false
		case c >= 'a' && c <= 'z':
			lower = true
			hex = hex && c <= 'f'
		case c >= '0' && c <= '9':
			digit = true
		default:
			other = true
			hex = false
		}
	}
	if hex && len(v) >= 32 {
		return true
	}
	n := 0
	for _, b := range []bool{upper, lower, digit, other} {
		if b {
			n++
		}
	}
	return n >= 3 && digit
}

func secretInManifest() *engine.Rule {
	return &engine.Rule{
		RuleInfo: finding.RuleInfo{
			ID: "secret-in-manifest", Title: "Secret with data committed in a manifest", Severity: finding.High, Category: "secrets",
			Tags:        []string{"secrets", "cis:5.4.2"},
			Rationale:   "Secret data is only base64-encoded, not encrypted: a Secret manifest with data or stringData in a repository discloses the credentials to everyone with read access to it, its forks and its history. The finding is graded by what the values look like (decoded from base64): high for literal credentials — a value in a known credential format (private key, cloud key, token, JWT, URL with a password), a non-placeholder value under a sensitive key name (as hardcoded-password defines it), a configuration file holding such a setting, or registry credentials; medium for random-looking values under neutral names (16 or more characters mixing letters, digits and symbols, or long hex), which may be credentials; low for the rest (usernames, hosts, certificates, configuration files without credentials). Placeholders are ignored, and so are values the renderer generated (Helm's randAlphaNum, genCA, genPrivateKey, uuidv4, ..., also behind b64enc or a default for an empty values key): not committed, they disclose nothing.",
			Remediation: "Do not commit Secret values. Generate the Secret in the cluster from an external store with External Secrets, commit an encrypted SealedSecret, or encrypt the file with SOPS; rotate values that were committed.",
			Example:     "apiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata:\n  name: db\nspec:\n  secretStoreRef:\n    name: vault\n    kind: ClusterSecretStore\n  target:\n    name: db\n  data:\n    - secretKey: password\n      remoteRef:\n        key: prod/db\n        property: password\n",
			References:  []string{secretsGoodPractice, externalSecretsRef, sealedSecretsRef, sopsRef, cis("5.4.2", "Consider external secret storage")},
		},
		Check: func(c *engine.Context, o *manifest.Object) {
			if o.Kind != "Secret" || o.Group() != "" {
				return
			}
			for _, field := range []string{"stringData", "data"} {
				k, m := manifest.MapGet(o.Node, field)
				if k == nil || m == nil || m.Kind != yaml.MappingNode {
					continue
				}
				best := gradeNone
				var keys, why []string
				for i := 0; i+1 < len(m.Content); i += 2 {
					v := manifest.Resolve(m.Content[i+1])
					if v == nil || v.Kind != yaml.ScalarNode {
						continue
					}
					key, val := m.Content[i].Value, v.Value
					if field == "data" {
						if b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(val)); err == nil {
							val = string(b)
						}
					}
					if o.IsGenerated(manifest.Path{}.Key(field, key)) {
						continue // made by the renderer: nothing committed
					}
					g, reason := gradeSecretValue(key, val)
					if g == gradeNone {
						continue
					}
					keys = append(keys, key)
					if g > best {
						best, why = g, nil
					}
					if g == best && reason != "" {
						why = append(why, fmt.Sprintf("%s in %q", reason, key))
					}
				}
				if best == gradeNone {
					continue
				}
				sort.Strings(keys)
				shown := keys
				if len(shown) > 5 {
					shown = append(shown[:5:5], "…")
				}
				msg := fmt.Sprintf("%s commits %d value(s) in %s (keys: %s)", o.Ref(), len(keys), field, strings.Join(shown, ", "))
				sev := finding.Low
				switch best {
				case gradeLiteral:
					sev = finding.High
					sort.Strings(why)
					if len(why) > 3 {
						why = append(why[:3:3], "…")
					}
					msg += ": literal credentials (" + strings.Join(why, ", ") + ")"
				case gradeOpaque:
					sev = finding.Medium
					msg += ": random-looking values that may be credentials"
				default:
					msg += ": configuration values, no credential recognised"
				}
				c.ReportSeverity(manifest.Path{}.Key(field), sev, msg)
				return
			}
		},
	}
}

func secretInEnv() *engine.Rule {
	return &engine.Rule{
		RuleInfo: finding.RuleInfo{
			ID: "secret-in-env", Title: "Secret exposed through environment variables", Severity: finding.Low, Category: "secrets",
			Tags:        []string{"secrets", "cis:5.4.1"},
			Rationale:   "Environment variables leak: they are inherited by every child process, dumped in crash reports and debug endpoints, and visible in /proc to processes of the same user. Secrets mounted as files can be rotated without a restart and are not inherited.",
			Remediation: "Mount the Secret as a volume and have the application read the file.",
			Example:     "volumeMounts:\n  - name: db\n    mountPath: /var/run/secrets/db\n    readOnly: true\nvolumes:\n  - name: db\n    secret:\n      secretName: db\n",
			References:  []string{secretsGoodPractice, cis("5.4.1", "Prefer using secrets as files over secrets as environment variables")},
		},
		Check: func(c *engine.Context, o *manifest.Object) {
			w := c.Workload()
			if w == nil {
				return
			}
			for i := range w.Containers {
				ct := &w.Containers[i]
				for j, e := range ct.Container.Env {
					if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
						c.Reportf(ct.Path.Key("env").Item(j, e.Name).Key("valueFrom", "secretKeyRef"), "%s reads Secret %q into env var %q", describe(ct), e.ValueFrom.SecretKeyRef.Name, e.Name)
					}
				}
				for j, e := range ct.Container.EnvFrom {
					if e.SecretRef != nil {
						c.Reportf(ct.Path.Key("envFrom").Item(j, e.SecretRef.Name).Key("secretRef"), "%s loads every key of Secret %q into its environment", describe(ct), e.SecretRef.Name)
					}
				}
			}
		},
	}
}
