package mysql_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/yianpay/payorder"
	"github.com/yianpay/payorder/pay"
	"github.com/yianpay/payorder/pay/ledger/internal/tokentest"
	"github.com/yianpay/payorder/pay/ledger/mysql"
	"github.com/yianpay/payorder/pay/ledger/mysql/mysqltest"
)

var _ pay.TokenVerifier = (*mysql.TokenVerifier)(nil)

// djangoSchema is what Django's auth and rest_framework.authtoken
// migrations create on MySQL, cut to the columns the verifier reads and a
// few others, in Django's case-insensitive collation.
const djangoSchema = `
CREATE TABLE auth_user (
	id INT AUTO_INCREMENT PRIMARY KEY, password VARCHAR(128) NOT NULL DEFAULT '',
	username VARCHAR(150) NOT NULL UNIQUE, is_active TINYINT(1) NOT NULL, is_staff TINYINT(1) NOT NULL DEFAULT 0
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE authtoken_token (
	` + "`key`" + ` VARCHAR(40) NOT NULL PRIMARY KEY, created DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	user_id INT NOT NULL UNIQUE, FOREIGN KEY (user_id) REFERENCES auth_user (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
INSERT INTO auth_user (id, username, is_active) VALUES (1, '15201052252', 1), (2, '13800138000', 0);
INSERT INTO authtoken_token (` + "`key`" + `, user_id) VALUES
	('706a87288233ea2427cddb8a1bbce29369ac5073', 1), ('9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b', 2);
`

// customSchema holds the same users under names of the host's choosing, in
// database %[1]s, beside the connection's.
const customSchema = "CREATE DATABASE `%[1]s`;\n" +
	"CREATE TABLE `%[1]s`.`Members` (member_no BIGINT PRIMARY KEY, phone VARCHAR(20) NOT NULL, enabled BOOL NOT NULL);\n" +
	"CREATE TABLE api_keys (secret VARCHAR(40) PRIMARY KEY, member BIGINT NOT NULL);\n" +
	"INSERT INTO `%[1]s`.`Members` VALUES (7, '15201052252', TRUE), (8, '13800138000', FALSE);\n" +
	"INSERT INTO api_keys VALUES ('706a87288233ea2427cddb8a1bbce29369ac5073', 7), ('9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b', 8);\n"

// execAll runs the statements of script, one line-end semicolon apart.
func execAll(t testing.TB, db *sql.DB, script string) {
	t.Helper()
	for _, s := range mysql.Statements(script) {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func TestVerifyToken(t *testing.T) {
	t.Parallel()
	db := mysqltest.Empty(t)
	pool := db.Open(t)
	execAll(t, pool, djangoSchema)
	accounts := db.Name + "_accounts"
	t.Cleanup(func() { pool.Exec("DROP DATABASE IF EXISTS `" + accounts + "`") })
	execAll(t, pool, fmt.Sprintf(customSchema, accounts))
	tokentest.Run(t, accounts, func(cfg mysql.TokenConfig) (tokentest.Verifier, error) {
		return mysql.NewTokenVerifier(pool, cfg)
	},
		// The column's collation would find these; the verifier does not.
		tokentest.Case{Name: "ErrInvalidTokenUpperCase", Token: "706A87288233EA2427CDDB8A1BBCE29369AC5073", WantErr: payorder.ErrInvalidToken},
		tokentest.Case{Name: "ErrInvalidTokenTrailingSpace", Token: "706a87288233ea2427cddb8a1bbce29369ac5073 ", WantErr: payorder.ErrInvalidToken})
}

func TestVerifyTokenDatabaseFailureIsPlainError(t *testing.T) {
	t.Parallel()
	// The tables do not exist: a failure of the verifier, not of the token.
	pool := mysqltest.Empty(t).Open(t)
	v, err := mysql.NewTokenVerifier(pool, mysql.TokenConfig{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.VerifyToken(context.Background(), "706a87288233ea2427cddb8a1bbce29369ac5073")
	if err == nil || errors.Is(err, payorder.ErrInvalidToken) || errors.Is(err, payorder.ErrUserInactive) {
		t.Errorf("VerifyToken without tables = %v, want a plain error", err)
	}
	if err != nil && !strings.HasPrefix(err.Error(), "mysql: ") {
		t.Errorf("error %q lacks the package prefix", err)
	}
}

func TestNewTokenVerifierRejectsNonIdentifiers(t *testing.T) {
	t.Parallel()
	// No database is needed: names are checked before any query.
	var pool *sql.DB
	tests := map[string]mysql.TokenConfig{
		"BacktickInTable": {TokenTable: "authtoken_token`; DROP TABLE auth_user; --"},
		"SpaceInColumn":   {UsernameColumn: "user name"},
		"LeadingDigit":    {TokenKeyColumn: "1key"},
		"ThreePartTable":  {UserTable: "db.schema.auth_user"},
		"EmptyDBPart":     {UserTable: ".auth_user"},
		"DotInColumn":     {UserIDColumn: "u.id"},
		"TooLong":         {ActiveColumn: strings.Repeat("a", 65)},
		"NonASCIILetter":  {TokenUserColumn: "用户"},
	}
	for name, cfg := range tests {
		t.Run(name, func(t *testing.T) {
			if v, err := mysql.NewTokenVerifier(pool, cfg); err == nil {
				t.Errorf("NewTokenVerifier(%+v) = %v, nil; want an error", cfg, v)
			}
		})
	}
}
