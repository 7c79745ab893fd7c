package githubfake

import "testing"

func TestOpenAPIRejects(t *testing.T) {
	api := OpenAPIFromEnv(t)
	path := "/repos/acme/shop/pulls/7/reviews"
	if err := api.Validate("POST", path, []byte(`{"commit_id":"abc","event":"COMMENT","body":"x","comments":[{"path":"a.yaml","line":3,"side":"RIGHT","body":"b"}]}`)); err != nil {
		t.Fatalf("valid review refused: %v", err)
	}
	for _, bad := range []string{
		`{"event":"SHOUT"}`,
		`{"comments":[{"path":"a.yaml","line":"three","body":"b"}]}`,
		`{"comments":[{"line":3,"side":"RIGHT","body":"no path"}]}`,
	} {
		if err := api.Validate("POST", path, []byte(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
	if err := api.Validate("POST", "/repos/acme/shop/pulls/7/comments/5/replies", []byte(`{}`)); err == nil {
		t.Errorf("reply without body accepted")
	}
	if err := api.Validate("DELETE", "/repos/acme/shop/pulls/comments/5", nil); err != nil {
		t.Errorf("delete: %v", err)
	}
	if err := api.Validate("GET", "/repos/acme/shop/pulls/7/nonsense", nil); err == nil {
		t.Errorf("unknown path accepted")
	}
}
