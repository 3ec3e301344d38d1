package ui

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

func TestHandler(t *testing.T) {
	built := fstest.MapFS{
		"index.html":         {Data: []byte("<!doctype html><title>app</title>")},
		"assets/app-ABC.js":  {Data: []byte("console.log(1)")},
		"assets/app-ABC.css": {Data: []byte("body{}")},
		".gitignore":         {Data: []byte("*")},
	}
	f := func(files fstest.MapFS, target string, status int, body, cache string) {
		t.Helper()
		rec := httptest.NewRecorder()
		handler(files).ServeHTTP(rec, httptest.NewRequest("GET", target, nil))
		if rec.Code != status || !strings.Contains(rec.Body.String(), body) || rec.Header().Get("Cache-Control") != cache {
			t.Errorf("GET %s = %d %q cache %q; want %d containing %q cache %q", target, rec.Code, rec.Body, rec.Header().Get("Cache-Control"), status, body, cache)
		}
	}
	const year = "public, max-age=31536000, immutable"
	f(built, "/", 200, "<title>app", "no-cache")
	f(built, "/engineering", 200, "<title>app", "no-cache")
	f(built, "/pods/c1/%3Cscript%3E", 200, "<title>app", "no-cache")
	f(built, "/items/leadership/pods_oom?last=7d", 200, "<title>app", "no-cache")
	f(built, "/assets/app-ABC.js", 200, "console.log", year)
	f(built, "/assets/app-ABC.css", 200, "body{}", year)
	f(built, "/assets/../.gitignore", 200, "<title>app", "no-cache") // cleaned to /.gitignore: the app, not the file
	f(built, "/assets/app-OLD.js", 404, "not found", "")
	f(built, "/assets/x/", 404, "not found", "")

	unbuilt := fstest.MapFS{".gitignore": {Data: []byte("*")}}
	f(unbuilt, "/", 200, "make ui", "no-cache")
	f(unbuilt, "/runs/a/b", 200, "make ui", "no-cache")
}

// TestEmbedded checks the embedded dist: the real build when present, else
// the page that says how to build it.
func TestEmbedded(t *testing.T) {
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "<html") {
		t.Errorf("GET / = %d %q", rec.Code, rec.Body)
	}
}
