// Command ferretdb runs FerretDB v1.24.2 (SQLite or PostgreSQL backend) for FlaskCart's local runs
// and tests.
//
// It uses FerretDB's embeddable package rather than building cmd/ferretdb: a binary whose main
// package is FerretDB's own panics at start-up without a generated version.txt that the
// published module lacks (upstream issue #2982). The embeddable package never starts telemetry
// or the debug listener. Flags mirror the subset of the real ones that FlaskCart needs.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listenAddr := flag.String("listen-addr", "127.0.0.1:27017", "TCP address to listen on")
	handler := flag.String("handler", "sqlite", "backend: sqlite or postgresql")
	sqliteURL := flag.String("sqlite-url", "", "SQLite data directory as file:/abs/dir/ (sqlite)")
	postgresqlURL := flag.String("postgresql-url", "",
		"PostgreSQL connection string, e.g. postgres://user@127.0.0.1:5432/db (postgresql)")
	logLevel := flag.String("log-level", "warn", "debug, info, warn or error")
	flag.Parse()

	switch {
	case *handler == "sqlite" && *sqliteURL == "":
		fmt.Fprintln(os.Stderr, "ferretdb: --sqlite-url is required with --handler=sqlite")
		os.Exit(2)
	case *handler == "postgresql" && *postgresqlURL == "":
		fmt.Fprintln(os.Stderr, "ferretdb: --postgresql-url is required with --handler=postgresql")
		os.Exit(2)
	case *handler != "sqlite" && *handler != "postgresql":
		fmt.Fprintf(os.Stderr, "ferretdb: unknown --handler %q (sqlite or postgresql)\n", *handler)
		os.Exit(2)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb: bad --log-level: %v\n", err)
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:      ferretdb.ListenerConfig{TCP: *listenAddr},
		Logger:        logger,
		Handler:       *handler,
		SQLiteURL:     *sqliteURL,
		PostgreSQLURL: *postgresqlURL,
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb: %v\n", err)
		os.Exit(1)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := f.Run(ctx); err != nil && ctx.Err() == nil {
		fmt.Fprintf(os.Stderr, "ferretdb: %v\n", err)
		os.Exit(1)
	}
}
