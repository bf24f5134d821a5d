package mysql

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// DSN converts a URL of the form mysql://user:password@host:port/database?params
// (or mariadb://…), as DATABASE_URL holds it, into a go-sql-driver DSN for
// sql.Open("mysql", dsn). The host defaults to 127.0.0.1 and the port to
// 3306; params are the driver's (tls=true, timeout=5s, …) or session
// variables. Unless params say otherwise, the DSN has:
//
//	parseTime=true, loc=UTC      times a host's own queries read come back as UTC time.Time
//	time_zone='+00:00'           NOW() and friends in UTC too
//	interpolateParams=true       one round trip per statement (no prepare)
//	collation utf8mb4_general_ci the utf8mb4 character set
//
// The ledger itself needs none of these but utf8mb4: it reads and writes
// times as UTC text.
func DSN(rawURL string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		// url's error repeats the URL, and with it the password.
		return "", errors.New("mysql: DSN: not a URL")
	}
	if u.Scheme != "mysql" && u.Scheme != "mariadb" {
		return "", fmt.Errorf("mysql: DSN: scheme %q, want mysql or mariadb", u.Scheme)
	}
	cfg, err := mysql.ParseDSN("/?" + u.RawQuery)
	if err != nil {
		return "", fmt.Errorf("mysql: DSN: parameters: %w", err)
	}
	q := u.Query()
	cfg.Net = "tcp"
	host, port := u.Hostname(), u.Port()
	if host == "" {
		host = "127.0.0.1"
	}
	if port == "" {
		port = "3306"
	}
	cfg.Addr = net.JoinHostPort(host, port)
	cfg.User = u.User.Username()
	cfg.Passwd, _ = u.User.Password()
	cfg.DBName = strings.TrimPrefix(u.Path, "/")
	if !q.Has("parseTime") {
		cfg.ParseTime = true
	}
	if !q.Has("loc") {
		cfg.Loc = time.UTC
	}
	if !q.Has("interpolateParams") {
		cfg.InterpolateParams = true
	}
	if !q.Has("time_zone") {
		if cfg.Params == nil {
			cfg.Params = map[string]string{}
		}
		cfg.Params["time_zone"] = "'+00:00'"
	}
	return cfg.FormatDSN(), nil
}
