package mysql_test

import (
	"database/sql"
	"strings"
	"testing"
	"time"

	gomysql "github.com/go-sql-driver/mysql"
	"github.com/google/go-cmp/cmp"

	"github.com/yianpay/payorder/pay/ledger"
	"github.com/yianpay/payorder/pay/ledger/ledgertest"
	"github.com/yianpay/payorder/pay/ledger/mysql"
	"github.com/yianpay/payorder/pay/ledger/mysql/mysqltest"
)

func TestDSN(t *testing.T) {
	t.Parallel()
	type conf struct {
		User, Passwd, Addr, DBName string
		ParseTime, Interpolate     bool
		Loc                        string
		Params                     map[string]string
	}
	utc := map[string]string{"time_zone": "'+00:00'"}
	tests := []struct {
		name, url string
		want      conf
	}{
		{"DatabaseURL", "mysql://root@127.0.0.1:3306/test", conf{"root", "", "127.0.0.1:3306", "test", true, true, "UTC", utc}},
		{"MariaDBScheme", "mariadb://u:p@db.internal/shop", conf{"u", "p", "db.internal:3306", "shop", true, true, "UTC", utc}},
		{"EscapedPassword", "mysql://pay:p%40ss%3Aw%2Fd@[::1]:3307/pay", conf{"pay", "p@ss:w/d", "[::1]:3307", "pay", true, true, "UTC", utc}},
		{"NoHost", "mysql:///test", conf{"", "", "127.0.0.1:3306", "test", true, true, "UTC", utc}},
		{"ParamsKept", "mysql://root@h/test?timeout=5s&sql_mode=%27STRICT_ALL_TABLES%27",
			conf{"root", "", "h:3306", "test", true, true, "UTC", map[string]string{"time_zone": "'+00:00'", "sql_mode": "'STRICT_ALL_TABLES'"}}},
		{"DefaultsOverridden", "mysql://root@h/test?parseTime=false&interpolateParams=false&loc=Asia%2FShanghai&time_zone=%27%2B08%3A00%27",
			conf{"root", "", "h:3306", "test", false, false, "Asia/Shanghai", map[string]string{"time_zone": "'+08:00'"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dsn, err := mysql.DSN(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			c, err := gomysql.ParseDSN(dsn)
			if err != nil {
				t.Fatalf("ParseDSN(%q): %v", dsn, err)
			}
			got := conf{c.User, c.Passwd, c.Addr, c.DBName, c.ParseTime, c.InterpolateParams, c.Loc.String(), c.Params}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("DSN(%s) = %s (-want +got):\n%s", tt.url, dsn, d)
			}
		})
	}
}

func TestDSNErrorsHideThePassword(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"postgres://u:secret@h/db", "mysql://u:secret@h:port/db", "mysql://u:secret@h/db?timeout=never"} {
		_, err := mysql.DSN(u)
		if err == nil {
			t.Errorf("DSN(%s) succeeded", u)
		} else if strings.Contains(err.Error(), "secret") {
			t.Errorf("DSN(%s) = %v: shows the password", u, err)
		}
	}
}

func TestDSNSessionIsUTF8MB4AndUTC(t *testing.T) {
	t.Parallel()
	pool := mysqltest.Empty(t).Open(t)
	var charset, zone string
	var now time.Time
	if err := pool.QueryRow(`SELECT @@character_set_connection, @@time_zone, NOW(6)`).Scan(&charset, &zone, &now); err != nil {
		t.Fatal(err)
	}
	if charset != "utf8mb4" || zone != "+00:00" || now.Location() != time.UTC || time.Since(now).Abs() > time.Minute {
		t.Errorf("session: charset %s, time_zone %s, NOW() %s; want utf8mb4, +00:00, now in UTC", charset, zone, now)
	}
}

// TestLedgerWithAHostsDSN runs the conformance suite through a DSN unlike
// DSN's: prepared statements, times not parsed, the session and the driver
// in China's time zone. The ledger reads and writes times as UTC text, so
// none of that may change what it keeps or its clock.
func TestLedgerWithAHostsDSN(t *testing.T) {
	ledgertest.Run(t, func(t testing.TB) ledger.Ledger {
		db := mysqltest.New(t)
		cfg, err := gomysql.ParseDSN(db.DSN)
		if err != nil {
			t.Fatal(err)
		}
		cfg.ParseTime, cfg.InterpolateParams = false, false
		cfg.Loc = time.FixedZone("CST", 8*3600)
		cfg.Params = map[string]string{"time_zone": "'+08:00'"}
		connector, err := gomysql.NewConnector(cfg)
		if err != nil {
			t.Fatal(err)
		}
		pool := sql.OpenDB(connector)
		pool.SetMaxOpenConns(16)
		t.Cleanup(func() { pool.Close() })
		return mysql.New(pool, mysql.Config{})
	})
}
