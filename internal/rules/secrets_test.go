package rules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDetectCredential(t *testing.T) {
	for v, want := range map[string]string{
		"AKIAZ7XQ3KLP4RVN2WQE":     "an AWS access key ID",
		"id=ASIAZ7XQ3KLP4RVN2WQE;": "an AWS access key ID",
		// A credential-shaped value with EXAMPLE inside is still one (#13).
		"AKIAIOSFODNN7EXAMPLE":                                                                         "an AWS access key ID",
		"ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx":                                                     "",
		"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n":                              "a private key",
		"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----":                                 "",
		`{"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----\nMIIE"}`:              "a GCP service account key",
		"ghp_aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5":                                                     "a GitHub token",
		"github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123456789ABCD":                      "a GitHub token",
		"xoxb-123456789012-123456789012-abcdefABCDEF1234":                                              "a Slack token",
		"sk_live_4eC39HqLyjWDarjtT1zdp7dc":                                                             "a Stripe live key",
		"sk_test_4eC39HqLyjWDarjtT1zdp7dc":                                                             "",
		"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U": "a JSON Web Token",
		"postgres://app:Str0ngPassw0rd@db:5432/app":                                                    "a URL with an embedded password",
		"postgres://app:${DB_PASSWORD}@db:5432/app":                                                    "",
		"https://user@example.com/path":                                                                "",
		"glpat-abcdefghij0123456789":                                                                   "a GitLab token",
		"AIzaSyA1234567890abcdefghijklmnopqrstuv":                                                      "a Google API key",
		"plain configuration value":                                                                    "",
	} {
		if got := detectCredential(v); got != want {
			t.Errorf("detectCredential(%.30q) = %q, want %q", v, got, want)
		}
	}
}

func TestSensitiveKeyAndPlaceholders(t *testing.T) {
	for k, want := range map[string]bool{
		"DB_PASSWORD": true, "password": true, "apiKey": true, "API_KEY": true, "client-secret": true,
		"GITHUB_TOKEN": true, "AWS_SECRET_ACCESS_KEY": true, "SECRET_KEY": true, "token1": true,
		"PASSWORD_FILE": false, "secretName": false, "TOKEN_URL": false, "TOKEN_TTL": false,
		"SECRETS_MANAGER_REGION": false, "LOG_LEVEL": false, "keyId": false, "ACCESS_KEY_ID": false,
		// A sensitive word anywhere in the name (#13 item 19).
		"SECRET_KEY_BASE": true, "STRIPE_KEY": true, "SSH_KEY_CONTENT": true, "AUTH_BEARER_VALUE": true,
		"BEARER": true, "SMTP_PASS": true, "AZURE_CLIENT_SECRET": true, "GOOGLE_API_KEY": true,
		"DBPASSWORD": true, "xApiKey": true, "APIKey": true, "MINIO_ACCESS_KEY": true, "SIGNING_KEY": true,
		// Its false friends.
		"AWS_ACCESS_KEY_ID": false, "SSH_KEY_PATH": false, "GOOGLE_APPLICATION_CREDENTIALS_FILE": false,
		"KEYCLOAK_URL": false, "PUBLIC_KEY": false, "TOKENIZER": false, "MONKEY": false,
		// Names of the programs or sources that fetch credentials
		// (kyverno's --registryCredentialHelpers=default,google,amazon).
		"registryCredentialHelpers": false, "credHelpers": false, "CREDENTIAL_PROVIDERS": false,
	} {
		if got := sensitiveKey(k); got != want {
			t.Errorf("sensitiveKey(%q) = %v, want %v", k, got, want)
		}
	}
	for v, want := range map[string]bool{
		"": true, "changeme": true, "${PASSWORD}": true, "$(TOKEN)": true, "{{ .Values.pw }}": true,
		"<redacted>": true, "xxxxxxxx": true, "********": true, "example-password": true,
		"ENC[AES256_GCM,data:abc]": true, "ref+vault://secret/db#password": true,
		"hunter2hunter2": false, "s3cr3t-v4lue": false,
		// Numbered sample values (kyverno's test ConfigMaps: key1: value1),
		// but not numbered passwords.
		"value1": true, "example2": true, "foo3": true, "password1": false, "secret123": false, "test123": false,
		"your-api-key-here": true, "Bearer ${TOKEN}": true, "...": true, "example": true,
		// Containing a placeholder word is not being one (#13 item 10).
		"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY": false, "example-Xk29aLq81Zt": false,
		"changeme-9f8e7d6c5b4a3f2e": false, "Bearer c2VjcmV0LXRva2VuLXZhbHVl": false,
		// An instruction to the reader naming the service is one too
		// (kubeflow/manifests' model catalog: HF_API_KEY=your-huggingface-api-key-here),
		// but not when a word of it looks like key material.
		"your-huggingface-api-key-here": true, "insert_your_openai_key_here": true,
		"replace-with-your-github-token": true, "<your-slack-webhook>": true,
		"your-huggingface-key-hf8Xk29aLq81Zt-here": false, "correct-horse-battery-staple": false,
		// Fill-in-the-blank identifiers and bare variable references are
		// placeholders whatever nouns they name; digits, punctuation or a
		// credential shape make a value possibly real.
		"INSERT_DB_PASSWORD_HERE": true, "YOUR_MAILGUN_API_KEY": true, "REPLACE_WITH_SLACK_TOKEN": true,
		"enter-elastic-password": true, "my-db-password-here": true, "$DB_PASSWORD": true, "%DB_PASSWORD%": true,
		"your-token-9f8e7d6c": false, "Insert.Coin.Now!": false, "$ecret": false, "db-password": false,
		"<AKIAZ7XQ3KLP4RVN2WQE>": false, "${X} ghp_aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5": false,
	} {
		if got := isPlaceholder(v); got != want {
			t.Errorf("isPlaceholder(%q) = %v, want %v", v, got, want)
		}
	}
}

// TestSecretValuesNeverPrinted: no finding of any rule on the secret
// fixtures may contain a secret value, or a long piece of one.
func TestSecretValuesNeverPrinted(t *testing.T) {
	values := []string{
		"AKIAZ7XQ3KLP4RVN2WQE", "ghp_aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5", "Str0ngPassw0rd",
		"xoxb-123456789012-123456789012-abcdefABCDEF1234", "MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu",
		"hunter2hunter2", "q8Zr!x2Lw", "9f8e7d6c5b4a", "correct-horse-battery", "mailpass1234",
		"YWRtaW4=", "aHVudGVyMg==", "s3cr3t-v4lue-123", "hunter2",
	}
	root := repoRoot(t)
	var files []string
	for _, d := range []string{"hardcoded-credential", "hardcoded-password", "secret-in-manifest", "secret-in-env"} {
		fs, _ := filepath.Glob(filepath.Join(root, "testdata", "rules", d, "*.yaml"))
		files = append(files, fs...)
	}
	raws, _ := lint(t, testRegistry(t), testSettings(), nil, files...)
	if len(raws) == 0 {
		t.Fatal("no findings")
	}
	for _, r := range raws {
		text := r.Message + " " + r.Path + " " + r.Rule.Remediation
		for _, v := range values {
			if strings.Contains(text, v) {
				t.Errorf("%s %s leaks a secret value: %s", r.Location(), r.RuleID(), r.Message)
			}
		}
	}
	// And the fixtures really contain them.
	var all strings.Builder
	for _, f := range files {
		b, _ := os.ReadFile(f)
		all.Write(b)
	}
	for _, v := range values {
		if !strings.Contains(all.String(), v) {
			t.Errorf("fixture lacks %q", v)
		}
	}
}

// A name whose only sensitive word is key needs a key-like value; its
// compounds (ACCESS_KEY, PRIVATE_KEY) are sensitive on their own.
func TestKeyOnlyNames(t *testing.T) {
	for _, tc := range []struct {
		name, value string
		want        bool
	}{
		{"SORT_KEY", "created_at", false},
		{"STRIPE_KEY", "pk9Xr2LmQ7", true},
		{"MINIO_ACCESS_KEY", "minio", true},
		{"PRIVATE_KEY", "letmein", true},
		{"PARTITION_KEY", "tenantId", false},
		{"HMAC_KEY", "c2VjcmV0LWhtYWMta2V5LXZhbHVl", true},
	} {
		if got := weakSecret(tc.name, tc.value); got != tc.want {
			t.Errorf("weakSecret(%s, %s) = %v, want %v", tc.name, tc.value, got, tc.want)
		}
	}
}
