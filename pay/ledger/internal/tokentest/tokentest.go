// Package tokentest is the suite both SQL ledgers' Django token verifiers
// pass, over fixtures each test creates in its own dialect: the Django
// tables with a buyer (token 706a…5073, user 15201052252, active) and an
// inactive user (token 9944…ee4b), and the same under custom names (tables
// api_keys and <accounts>.Members, columns secret, member, member_no,
// phone, enabled).
package tokentest

import (
	"context"
	"errors"
	"testing"

	"github.com/yianpay/payorder"
	"github.com/yianpay/payorder/pay/ledger/internal/sqlshared"
)

// Verifier is what the suite checks: pay.TokenVerifier.
type Verifier interface {
	VerifyToken(ctx context.Context, token string) (string, error)
}

// Case is one token and what verifying it must give.
type Case struct {
	Name      string
	Token     string
	WantBuyer string
	WantErr   error
}

// cases are what every verifier answers alike.
var cases = []Case{
	{"Buyer", "706a87288233ea2427cddb8a1bbce29369ac5073", "15201052252", nil},
	{"ErrUserInactive", "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b", "", payorder.ErrUserInactive},
	{"ErrInvalidTokenUnknown", "0000000000000000000000000000000000000000", "", payorder.ErrInvalidToken},
	{"ErrInvalidTokenEmpty", "", "", payorder.ErrInvalidToken},
	{"ErrInvalidTokenPrefix", "706a87288233ea2427cddb8a1bbce29369ac507", "", payorder.ErrInvalidToken},
	{"ErrInvalidTokenNUL", "706a87288233ea2427cddb8a1bbce29369ac5073\x00", "", payorder.ErrInvalidToken},
	{"ErrInvalidTokenBadUTF8", "706a87288233ea2427cddb8a1bbce29369ac\xff", "", payorder.ErrInvalidToken},
	{"ErrInvalidTokenInjection", "' OR '1'='1", "", payorder.ErrInvalidToken},
}

// Run checks the verifiers newVerifier returns for Django's default names
// and for the custom names (the users' table in database or schema
// accounts) against the suite's cases and extra.
func Run(t *testing.T, accounts string, newVerifier func(cfg sqlshared.TokenConfig) (Verifier, error), extra ...Case) {
	t.Helper()
	configs := map[string]sqlshared.TokenConfig{
		"DjangoDefaults": {},
		"CustomNames": {
			TokenTable: "api_keys", TokenKeyColumn: "secret", TokenUserColumn: "member",
			UserTable: accounts + ".Members", UserIDColumn: "member_no", UsernameColumn: "phone", ActiveColumn: "enabled",
		},
	}
	for cname, cfg := range configs {
		v, err := newVerifier(cfg)
		if err != nil {
			t.Fatalf("%s: NewTokenVerifier: %v", cname, err)
		}
		for _, tt := range append(cases[:len(cases):len(cases)], extra...) {
			t.Run(cname+"/"+tt.Name, func(t *testing.T) {
				buyer, err := v.VerifyToken(t.Context(), tt.Token)
				if buyer != tt.WantBuyer || !errors.Is(err, tt.WantErr) || (tt.WantErr == nil) != (err == nil) {
					t.Errorf("VerifyToken(%q) = %q, %v; want %q, %v", tt.Token, buyer, err, tt.WantBuyer, tt.WantErr)
				}
			})
		}
	}
}
