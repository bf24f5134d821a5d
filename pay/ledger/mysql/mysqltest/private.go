package mysqltest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	osexec "os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/yianpay/payorder/internal/testport"
	"github.com/yianpay/payorder/pay/ledger/mysql"
)

// Server is a MariaDB server of one test's own, in a temporary directory,
// that the test may crash and start again (a database restart) without
// disturbing the tests that share the machine's server.
//
// It keeps MariaDB's durability defaults (innodb_flush_log_at_trx_commit=1):
// what a test checks across Stop is that a committed transaction survives
// a crash, so nothing here trades that for speed.
type Server struct {
	// URL is a mysql:// URL selecting its database payorder, for other
	// processes and for mysql.DSN.
	URL string
	// DSN is the go-sql-driver DSN of that database, as mysql.DSN makes it.
	DSN string

	dir      string
	mariadbd string
	port     int
	asUser   []string      // --user=mysql when the test runs as root
	cmd      *osexec.Cmd   // the running server, nil when stopped
	exited   chan struct{} // closed when cmd has exited
}

// Private starts a Server, killed and removed when t ends. Like New, it
// skips t when PAYORDER_TEST_MYSQL_URL is unset; it also skips t when
// MariaDB's server programs (mariadbd, mariadb-install-db) are not
// installed, and fails it when they are but cannot start.
func Private(t testing.TB) *Server {
	t.Helper()
	if os.Getenv(EnvVar) == "" {
		t.Skip(EnvVar + " not set: the MySQL tests are off")
	}
	mariadbd, install := serverPrograms()
	if mariadbd == "" || install == "" {
		t.Skip("no MariaDB server programs (mariadbd, mariadb-install-db) to start a private server with")
	}
	dir, err := os.MkdirTemp("", "payorder-mysql-")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{dir: dir, mariadbd: mariadbd, port: testport.Free(t)}
	t.Cleanup(func() {
		s.kill()
		os.RemoveAll(dir)
	})
	if u, err := user.Current(); err == nil && u.Uid == "0" {
		// mariadbd refuses to run as root unless told whom to run as; the
		// directory must then be that user's, for the socket, pid and log.
		s.asUser = []string{"--user=mysql"}
		if out, err := osexec.Command("chown", "mysql", dir).CombinedOutput(); err != nil {
			t.Fatalf("chown %s: %v: %s", dir, err, out)
		}
	}
	// --no-defaults (first, as it must be) keeps the machine's my.cnf, and
	// with it the shared server's datadir, socket and port, out of it.
	args := append([]string{"--no-defaults", "--datadir=" + s.data(), "--auth-root-authentication-method=normal",
		"--skip-test-db", "--skip-name-resolve"}, s.asUser...)
	if out, err := osexec.Command(install, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", filepath.Base(install), err, out)
	}
	s.URL = fmt.Sprintf("mysql://root@127.0.0.1:%d/payorder", s.port)
	if s.DSN, err = mysql.DSN(s.URL); err != nil {
		t.Fatal(err)
	}
	s.Start(t)
	db, err := sql.Open("mysql", s.rootDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE DATABASE payorder CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"); err != nil {
		t.Fatalf("creating database payorder: %v", err)
	}
	return s
}

// serverPrograms returns the paths of mariadbd and mariadb-install-db, or
// "" for one that is not installed. mariadbd is in /usr/sbin, which a
// user's PATH often lacks.
func serverPrograms() (mariadbd, install string) {
	for _, p := range []string{"/usr/sbin/mariadbd", "mariadbd"} {
		if path, err := osexec.LookPath(p); err == nil {
			mariadbd = path
			break
		}
	}
	for _, p := range []string{"mariadb-install-db", "mysql_install_db"} {
		if path, err := osexec.LookPath(p); err == nil {
			install = path
			break
		}
	}
	return mariadbd, install
}

func (s *Server) data() string { return filepath.Join(s.dir, "data") }
func (s *Server) log() string  { return filepath.Join(s.dir, "mariadbd.err") }

// startTimeout bounds how long Start waits for the server to accept
// connections, crash recovery included.
const startTimeout = 30 * time.Second

// Start starts the server and waits until it accepts connections.
func (s *Server) Start(t testing.TB) {
	t.Helper()
	if s.cmd != nil {
		t.Fatal("mysqltest: Start of a running server")
	}
	// What mariadbd writes before it opens its log goes here.
	out, err := os.OpenFile(filepath.Join(s.dir, "mariadbd.out"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	args := append([]string{"--no-defaults", "--datadir=" + s.data(),
		"--bind-address=127.0.0.1", "--port=" + strconv.Itoa(s.port), "--skip-name-resolve",
		"--socket=" + filepath.Join(s.dir, "mariadbd.sock"), "--pid-file=" + filepath.Join(s.dir, "mariadbd.pid"),
		"--log-error=" + s.log()}, s.asUser...)
	cmd := osexec.Command(s.mariadbd, args...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting mariadbd: %v", err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	s.cmd, s.exited = cmd, exited
	if err := s.waitReady(); err != nil {
		s.kill()
		t.Fatalf("mysqltest: %v\n%s", err, s.logTail())
	}
}

// waitReady polls the server until it answers a ping, it exits or
// startTimeout passes.
func (s *Server) waitReady() error {
	db, err := sql.Open("mysql", s.rootDSN())
	if err != nil {
		return err
	}
	defer db.Close()
	deadline := time.Now().Add(startTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := db.PingContext(ctx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("mariadbd exited before it accepted connections (%v)", s.cmd.ProcessState)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("mariadbd does not accept connections after %v: %w", startTimeout, err)
		}
	}
}

// Stop kills the server (SIGKILL), as a crash would: connections break,
// transactions in flight are lost and committed ones stay, to be recovered
// by the next Start. It returns once the process has exited.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	if s.cmd == nil {
		t.Fatal("mysqltest: Stop of a stopped server")
	}
	if err := s.kill(); err != nil {
		t.Fatalf("mysqltest: killing mariadbd: %v", err)
	}
}

// kill kills the server unless it is stopped, and waits for its exit.
func (s *Server) kill() error {
	if s.cmd == nil {
		return nil
	}
	err := s.cmd.Process.Kill()
	if errors.Is(err, os.ErrProcessDone) {
		err = nil
	}
	<-s.exited
	s.cmd, s.exited = nil, nil
	return err
}

// rootDSN selects no database, as root; dials time out after a second.
func (s *Server) rootDSN() string {
	return fmt.Sprintf("root@tcp(127.0.0.1:%d)/?timeout=1s", s.port)
}

// logTail is the end of the server's log, for a failure message.
func (s *Server) logTail() string {
	var tail []byte
	for _, name := range []string{filepath.Join(s.dir, "mariadbd.out"), s.log()} {
		b, _ := os.ReadFile(name)
		tail = append(tail, b...)
	}
	if len(tail) > 4000 {
		tail = tail[len(tail)-4000:]
	}
	return string(tail)
}
