package mysqltest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/yianpay/payorder/pay/ledger/mysql"
)

// EnvVar names the environment variable holding the test server's URL.
const EnvVar = "PAYORDER_TEST_MYSQL_URL"

// DB is a database of one test.
type DB struct {
	// Name is the database's name.
	Name string
	// DSN is a go-sql-driver DSN selecting the database, as mysql.DSN makes it.
	DSN string
	// URL is a mysql:// URL selecting the database, for other processes.
	URL string
}

// New creates and migrates a fresh database, dropped when t ends.
func New(t testing.TB) *DB {
	t.Helper()
	db := Empty(t)
	if err := mysql.Migrate(context.Background(), db.Open(t)); err != nil {
		t.Fatalf("migrating: %v", err)
	}
	return db
}

// Empty creates a fresh database without tables, dropped when t ends: for
// tests of the migrations themselves.
func Empty(t testing.TB) *DB {
	t.Helper()
	base := os.Getenv(EnvVar)
	if base == "" {
		t.Skip(EnvVar + " not set: set it to a MySQL or MariaDB URL, e.g. mysql://root@127.0.0.1:3306/test, to run the MySQL tests")
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s is not a URL", EnvVar)
	}
	// Databases are created and dropped from no database at all, so that
	// the one the URL names need not exist.
	server := *u
	server.Path = "/"
	serverDSN, err := mysql.DSN(server.String())
	if err != nil {
		t.Fatalf("%s: %v", EnvVar, err)
	}
	var b [8]byte
	rand.Read(b[:])
	name := "payorder_test_" + hex.EncodeToString(b[:])
	exec(t, serverDSN, "CREATE DATABASE `"+name+"` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
	t.Cleanup(func() { exec(t, serverDSN, "DROP DATABASE IF EXISTS `"+name+"`") })

	u.Path = "/" + name
	dsn, err := mysql.DSN(u.String())
	if err != nil {
		t.Fatalf("%s: %v", EnvVar, err)
	}
	return &DB{Name: name, DSN: dsn, URL: u.String()}
}

// Open opens a pool of at most 16 connections on the database, closed when
// t ends (before the database is dropped: cleanups run last-registered
// first).
func (db *DB) Open(t testing.TB) *sql.DB {
	t.Helper()
	pool, err := sql.Open("mysql", db.DSN)
	if err != nil {
		t.Fatalf("opening %s: %v", db.Name, err)
	}
	// The server's connections are shared by every test running at once.
	pool.SetMaxOpenConns(16)
	t.Cleanup(func() { pool.Close() })
	return pool
}

// Count returns the number of rows of table in the database.
func (db *DB) Count(t testing.TB, table string) int {
	t.Helper()
	pool, err := sql.Open("mysql", db.DSN)
	if err != nil {
		t.Fatalf("opening %s: %v", db.Name, err)
	}
	defer pool.Close()
	var n int
	if err := pool.QueryRow("SELECT COUNT(*) FROM `" + table + "`").Scan(&n); err != nil {
		t.Fatalf("counting %s: %v", table, err)
	}
	return n
}

func exec(t testing.TB, dsn, query string) {
	t.Helper()
	pool, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatalf("opening %s: %v", EnvVar, err)
	}
	defer pool.Close()
	if _, err := pool.Exec(query); err != nil {
		t.Errorf("%s: %v", query, err)
	}
}
