package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/yianpay/payorder"
	"github.com/yianpay/payorder/pay"
	"github.com/yianpay/payorder/pay/ledger/internal/tokentest"
	"github.com/yianpay/payorder/pay/ledger/postgres"
	"github.com/yianpay/payorder/pay/ledger/postgres/pgtest"
)

var _ pay.TokenVerifier = (*postgres.TokenVerifier)(nil)

// djangoSchema is what Django's auth and rest_framework.authtoken
// migrations create, cut to the columns the verifier reads and a few others.
const djangoSchema = `
CREATE TABLE auth_user (
	id serial PRIMARY KEY, password varchar(128) NOT NULL DEFAULT '', username varchar(150) NOT NULL UNIQUE,
	is_active boolean NOT NULL, is_staff boolean NOT NULL DEFAULT false
);
CREATE TABLE authtoken_token (
	key varchar(40) PRIMARY KEY, created timestamptz NOT NULL DEFAULT now(),
	user_id integer NOT NULL UNIQUE REFERENCES auth_user (id) ON DELETE CASCADE
);
INSERT INTO auth_user (id, username, is_active) VALUES (1, '15201052252', true), (2, '13800138000', false);
INSERT INTO authtoken_token (key, user_id) VALUES
	('706a87288233ea2427cddb8a1bbce29369ac5073', 1), ('9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b', 2);
`

// customSchema holds the same users under names of the host's choosing, in
// schema %[1]s, outside the search_path.
const customSchema = `
CREATE SCHEMA %[1]s;
CREATE TABLE %[1]s."Members" (member_no bigint PRIMARY KEY, phone text NOT NULL, enabled boolean NOT NULL);
CREATE TABLE api_keys (secret text PRIMARY KEY, member bigint NOT NULL REFERENCES %[1]s."Members");
INSERT INTO %[1]s."Members" VALUES (7, '15201052252', true), (8, '13800138000', false);
INSERT INTO api_keys VALUES ('706a87288233ea2427cddb8a1bbce29369ac5073', 7), ('9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b', 8);
`

func TestVerifyToken(t *testing.T) {
	db := pgtest.Empty(t)
	pool := db.Pool(t)
	if _, err := pool.Exec(t.Context(), djangoSchema); err != nil {
		t.Fatal(err)
	}
	accounts := db.Config.ConnConfig.RuntimeParams["search_path"] + "_accounts"
	t.Cleanup(func() { pool.Exec(context.Background(), `DROP SCHEMA IF EXISTS `+accounts+` CASCADE`) })
	if _, err := pool.Exec(t.Context(), fmt.Sprintf(customSchema, accounts)); err != nil {
		t.Fatal(err)
	}
	tokentest.Run(t, accounts, func(cfg postgres.TokenConfig) (tokentest.Verifier, error) {
		return postgres.NewTokenVerifier(pool, cfg)
	})
}

func TestVerifyTokenDatabaseFailureIsPlainError(t *testing.T) {
	// The tables do not exist: a failure of the verifier, not of the token.
	pool := pgtest.Empty(t).Pool(t)
	v, err := postgres.NewTokenVerifier(pool, postgres.TokenConfig{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.VerifyToken(t.Context(), "706a87288233ea2427cddb8a1bbce29369ac5073")
	if err == nil || errors.Is(err, payorder.ErrInvalidToken) || errors.Is(err, payorder.ErrUserInactive) {
		t.Errorf("VerifyToken without tables = %v, want a plain error", err)
	}
	if err != nil && !strings.HasPrefix(err.Error(), "postgres: ") {
		t.Errorf("error %q lacks the package prefix", err)
	}
}

func TestNewTokenVerifierRejectsNonIdentifiers(t *testing.T) {
	// No database is needed: names are checked before any query.
	var pool *pgxpool.Pool
	tests := map[string]postgres.TokenConfig{
		"QuoteInTable":    {TokenTable: `authtoken_token"; DROP TABLE auth_user; --`},
		"SpaceInColumn":   {UsernameColumn: "user name"},
		"LeadingDigit":    {TokenKeyColumn: "1key"},
		"ThreePartTable":  {UserTable: "db.public.auth_user"},
		"EmptySchemaPart": {UserTable: ".auth_user"},
		"DotInColumn":     {UserIDColumn: "u.id"},
		"TooLong":         {ActiveColumn: strings.Repeat("a", 64)},
		"NonASCIILetter":  {TokenUserColumn: "用户"},
	}
	for name, cfg := range tests {
		t.Run(name, func(t *testing.T) {
			if v, err := postgres.NewTokenVerifier(pool, cfg); err == nil {
				t.Errorf("NewTokenVerifier(%+v) = %v, nil; want an error", cfg, v)
			}
		})
	}
}
