package pgtest

import (
	"fmt"
	"os"
	osexec "os/exec"
	"os/user"
	"path/filepath"
	"testing"

	"github.com/yianpay/payorder/internal/testport"
)

// Server is a PostgreSQL server of one test's own, in a temporary data
// directory, that the test may stop and start (a database restart) without
// disturbing the tests that share the machine's server.
type Server struct {
	// URL connects to its database postgres.
	URL    string
	ctl    string
	data   string
	port   int
	asUser []string // the command prefix that runs as the postgres user
}

// Private starts a Server, stopped when t ends. It skips t when
// PostgreSQL's server programs are not installed, and fails it when they
// are but cannot start.
func Private(t testing.TB) *Server {
	t.Helper()
	if os.Getenv(EnvVar) == "" {
		t.Skip(EnvVar + " not set: the PostgreSQL tests are off")
	}
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	if len(bins) == 0 {
		t.Skip("no PostgreSQL server programs (/usr/lib/postgresql/*/bin) to start a private server with")
	}
	bin := filepath.Dir(bins[len(bins)-1])
	dir, err := os.MkdirTemp("", "payorder-pg-")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{ctl: filepath.Join(bin, "pg_ctl"), data: filepath.Join(dir, "data"), port: testport.Free(t)}
	if u, err := user.Current(); err == nil && u.Uid == "0" {
		// PostgreSQL refuses to run as root.
		s.asUser = []string{"runuser", "-u", "postgres", "--"}
		if out, err := osexec.Command("chown", "postgres", dir).CombinedOutput(); err != nil {
			t.Fatalf("chown %s: %v: %s", dir, err, out)
		}
	}
	s.run(t, filepath.Join(bin, "initdb"), "-D", s.data, "-U", "postgres", "-A", "trust", "--no-sync")
	s.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.port)
	s.Start(t)
	t.Cleanup(func() {
		osexec.Command(s.asUser[0], append(s.asUser[1:], s.ctl, "-D", s.data, "-m", "immediate", "stop")...).Run()
		os.RemoveAll(dir)
	})
	return s
}

// Start starts the server and waits until it accepts connections.
func (s *Server) Start(t testing.TB) {
	t.Helper()
	s.run(t, s.ctl, "-D", s.data, "-w", "-l", filepath.Join(s.data, "log"),
		"-o", fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off", s.port, s.data), "start")
}

// Stop stops the server at once, as a crash would: connections break and
// transactions in flight are lost.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	s.run(t, s.ctl, "-D", s.data, "-m", "immediate", "stop")
}

func (s *Server) run(t testing.TB, name string, args ...string) {
	t.Helper()
	cmd := osexec.Command(name, args...)
	if s.asUser != nil {
		cmd = osexec.Command(s.asUser[0], append(s.asUser[1:], append([]string{name}, args...)...)...)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", filepath.Base(name), err, out)
	}
}
