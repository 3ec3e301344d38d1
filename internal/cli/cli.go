// Package cli implements batchlens' subcommands, one file each.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"
)

// Version is the batchlens version; release builds set it with -ldflags.
var version = "dev"

const usage = `batchlens watches data-science batch models on Kubernetes (CronJobs → Jobs → Pods)
and serves Leadership and Engineering dashboards.

Usage:
  batchlens serve   [flags]   watch a cluster and serve the dashboards
  batchlens demo    [flags]   the same, fed by a built-in simulated fleet
  batchlens datadog export|apply [flags]   the dashboards and monitors for Datadog
  batchlens version           print the version

Run 'batchlens <command> -h' for the flags of a command.
`

// Main runs the subcommand named by args[0] and returns the exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(ctx, args[1:], stdout, stderr)
	case "demo":
		err = runDemo(ctx, args[1:], stdout, stderr)
	case "datadog":
		err = runDatadog(ctx, args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintf(stdout, "batchlens %s\n", version)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "batchlens: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	default:
		fmt.Fprintf(stderr, "batchlens: %v\n", err)
		return 1
	}
}

// errUsage marks a flag error already reported by the flag package.
var errUsage = errors.New("usage")

// flags is a FlagSet whose flags also read BATCHLENS_<NAME> environment
// variables (dashes become underscores); a flag on the command line wins.
type flags struct {
	*flag.FlagSet
	lists map[string]bool // repeatable flags, whose env var is comma-separated
}

func newFlags(name string, stderr io.Writer) *flags {
	fs := flag.NewFlagSet("batchlens "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return &flags{FlagSet: fs, lists: map[string]bool{}}
}

func envName(flagName string) string {
	return "BATCHLENS_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func (f *flags) string(p *string, name, def, help string) {
	f.StringVar(p, name, def, help+" (env "+envName(name)+")")
}

func (f *flags) duration(p *time.Duration, name string, def time.Duration, help string) {
	f.DurationVar(p, name, def, help+" (env "+envName(name)+")")
}

// days is a duration flag that also takes whole days ("7d").
func (f *flags) days(p *time.Duration, name string, def time.Duration, help string) {
	*p = def
	f.Func(name, help+" (env "+envName(name)+")", func(s string) error {
		d, err := parseDays(s)
		if err != nil {
			return err
		}
		*p = d
		return nil
	})
}

func (f *flags) strings(p *[]string, name, help string) {
	f.lists[name] = true
	f.Func(name, help+"; repeatable (env "+envName(name)+", comma-separated)", func(s string) error {
		*p = append(*p, s)
		return nil
	})
}

// parse applies environment variables, then the command line.
func (f *flags) parse(args []string) error {
	var envErr error
	f.VisitAll(func(fl *flag.Flag) {
		v, ok := os.LookupEnv(envName(fl.Name))
		if !ok || envErr != nil {
			return
		}
		for _, part := range f.split(fl.Name, v) {
			if err := fl.Value.Set(part); err != nil {
				envErr = fmt.Errorf("%s=%q: %w", envName(fl.Name), v, err)
			}
		}
	})
	if envErr != nil {
		return envErr
	}
	if err := f.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if f.NArg() > 0 {
		fmt.Fprintf(f.Output(), "unexpected arguments: %q\n", f.Args())
		return errUsage
	}
	return nil
}

// split returns an env value as the values of flag name: the
// comma-separated items of a repeatable flag, else the value itself.
func (f *flags) split(name, v string) []string {
	if !f.lists[name] {
		return []string{v}
	}
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// newLogger returns the process logger: text to stderr at the given level.
func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}
