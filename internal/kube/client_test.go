package kube

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const kubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: prod
  cluster: {server: "https://prod.example:6443"}
- name: staging
  cluster: {server: "https://staging.example:6443"}
users:
- name: reader
  user: {token: "s3cret-token"}
contexts:
- name: prod
  context: {cluster: prod, user: reader}
- name: staging
  context: {cluster: staging, user: reader}
current-context: prod
`

func TestConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(path, []byte(kubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		opts    ClientOptions
		host    string
		wantErr string
	}{
		{"current context", ClientOptions{Kubeconfig: path}, "https://prod.example:6443", ""},
		{"explicit context", ClientOptions{Kubeconfig: path, Context: "staging"}, "https://staging.example:6443", ""},
		{"unknown context", ClientOptions{Kubeconfig: path, Context: "nope"}, "", `context "nope" does not exist`},
		{"missing file", ClientOptions{Kubeconfig: filepath.Join(t.TempDir(), "absent")}, "", "load kubeconfig"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Config(tc.opts)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Errorf("error leaks the token: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Host != tc.host || cfg.ContentType != "application/vnd.kubernetes.protobuf" || cfg.BearerToken != "s3cret-token" {
				t.Errorf("config = host %q, content type %q", cfg.Host, cfg.ContentType)
			}
			if s := cfg.String(); strings.Contains(s, "s3cret") {
				t.Errorf("config's String leaks the token: %s", s)
			}
		})
	}
}
