// Command dist builds a release into a directory (`make dist`): the
// archive of each platform, checksums.txt and the filled krew manifest
// secure.yaml. Version, commit and date come from git unless given.
//
//	go run ./hack/dist [-out dist] [-platforms linux/amd64,…] [-version v1.2.3]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"

	"github.com/kubectl-secure/kubectl-secure/internal/release"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "dist:", err)
		os.Exit(1)
	}
}

func run() error {
	var o release.Options
	var platforms string
	flag.StringVar(&o.Root, "root", ".", "module root")
	flag.StringVar(&o.Out, "out", "dist", "output directory")
	flag.StringVar(&platforms, "platforms", "", "comma-separated os/arch list (default: every release platform)")
	flag.StringVar(&o.Version, "version", "", "release version (default: from git)")
	flag.StringVar(&o.Commit, "commit", "", "commit (default: HEAD)")
	flag.StringVar(&o.Date, "date", "", "build date, RFC 3339 UTC (default: the commit time)")
	flag.StringVar(&o.Go, "go", "go", "go command")
	flag.Parse()
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", flag.Args())
	}
	if platforms != "" {
		for _, s := range strings.Split(platforms, ",") {
			p, err := release.ParsePlatform(strings.TrimSpace(s))
			if err != nil {
				return err
			}
			o.Platforms = append(o.Platforms, p)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if o.Version == "" || o.Commit == "" || o.Date == "" {
		stamp, err := release.FromGit(ctx, o.Root)
		if err != nil {
			return err
		}
		o.Version = orDefault(o.Version, stamp.Version)
		o.Commit = orDefault(o.Commit, stamp.Commit)
		o.Date = orDefault(o.Date, stamp.Date)
	}
	o.Log = func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }
	arts, err := release.Dist(ctx, o)
	if err != nil {
		return err
	}
	fmt.Printf("%s %s (commit %s, %s): %d archives, %s and %s in %s\n", release.Name, o.Version, o.Commit, o.Date, len(arts), release.ChecksumsFile, release.ManifestFile, o.Out)
	return nil
}

func orDefault(v, def string) string {
	if v != "" {
		return v
	}
	return def
}
