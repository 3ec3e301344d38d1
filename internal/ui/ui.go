// Package ui serves the browser UI that `make ui` builds from ../../ui into
// dist, embedded in the binary. A binary built without it (plain `go build`
// on a machine without Node) serves a page that says how to build it.
package ui

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:embed all:dist
var dist embed.FS

// notBuilt is the page served when dist holds no index.html.
const notBuilt = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>batchlens: UI not built</title></head>
<body><h1>batchlens: the UI is not built into this binary</h1>
<p>Run <code>make ui</code> (needs Node and npm), then build or run batchlens again:
<code>make demo</code> does both.</p>
<p>The JSON API works without it: <a href="/api/v1/dashboards">/api/v1/dashboards</a>.</p>
</body></html>
`

// Handler serves the UI: files under /assets/ (content-hashed, cached for a
// year), and index.html for every other path, which the app routes itself
// (/, /engineering, /items/…, /cronjobs/…, /runs/…, /pods/…). Mount it for
// GET only; the API and probes are served before it.
func Handler() http.Handler {
	files, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // dist is embedded at build time; it is always there
	}
	return handler(files)
}

func handler(files fs.FS) http.Handler {
	index, err := fs.ReadFile(files, "index.html")
	if err != nil {
		index = []byte(notBuilt)
	}
	assets := http.FileServerFS(files)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := path.Clean("/" + r.URL.Path)
		if strings.HasPrefix(p, "/assets/") {
			if _, err := fs.Stat(files, strings.TrimPrefix(p, "/")); err != nil {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
			assets.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(index)
	})
}
