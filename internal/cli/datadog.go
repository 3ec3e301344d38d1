package cli

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/batchlens/batchlens/internal/datadog"
)

const datadogUsage = `Usage:
  batchlens datadog export [--out DIR] [--metrics kubernetes|batchlens]
  batchlens datadog apply  [--metrics kubernetes|batchlens] [--dry-run]

export writes the Leadership and Engineering dashboards and the monitors as
Datadog v1 API JSON. apply creates or updates them in the organisation of
DD_API_KEY and DD_APP_KEY on DD_SITE (default datadoghq.com), finding them
again by the tag batchlens sets; --dry-run only reports what would change.
`

func runDatadog(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "export" && args[0] != "apply") {
		fmt.Fprint(stderr, datadogUsage)
		return errUsage
	}
	cmd := args[0]
	f := newFlags("datadog "+cmd, stderr)
	var (
		metrics string
		out     string
		dryRun  bool
	)
	f.string(&metrics, "metrics", string(datadog.Kubernetes), "metric source of the widgets: kubernetes (the Agent's Kubernetes checks) or batchlens (batchlens' exact counters)")
	if cmd == "export" {
		f.string(&out, "out", "datadog", "directory to write the JSON files to")
	} else {
		f.BoolVar(&dryRun, "dry-run", false, "only report what would be created or updated (env "+envName("dry-run")+")")
	}
	if err := f.parse(args[1:]); err != nil {
		return err
	}
	m, err := datadog.ParseMetrics(metrics)
	if err != nil {
		return fmt.Errorf("--metrics: %w", err)
	}
	if cmd == "export" {
		files, err := datadog.Export(out, m)
		if err != nil {
			return err
		}
		for _, file := range files {
			fmt.Fprintln(stdout, file)
		}
		return nil
	}
	t := datadog.Target{APIKey: os.Getenv("DD_API_KEY"), AppKey: os.Getenv("DD_APP_KEY"), Site: os.Getenv("DD_SITE"), MaxRetries: 3}
	changes, err := datadog.Apply(ctx, t, m, dryRun)
	prefix := ""
	if dryRun {
		prefix = "would "
	}
	for _, c := range changes {
		fmt.Fprintln(stdout, prefix+c.String())
	}
	return err
}
