package pingxx

import "testing"

// TestRouteOf: a route keeps Ping++'s resource names and hides every id, so
// that metrics by route stay few and name no charge.
func TestRouteOf(t *testing.T) {
	for _, tc := range []struct{ method, path, want string }{
		{"POST", "/charges", "POST /v1/charges"},
		{"GET", "/charges", "GET /v1/charges"},
		{"GET", "/charges/ch_L8qn10mLmr1GS8e5OODmHaL4", "GET /v1/charges/{id}"},
		{"POST", "/charges/ch_L8qn10mLmr1GS8e5OODmHaL4/refunds", "POST /v1/charges/{id}/refunds"},
		{"GET", "/charges/ch_1/refunds/re_2", "GET /v1/charges/{id}/refunds/{id}"},
		{"GET", "/events/evt_401170201100151350ZtYc7lOi", "GET /v1/events/{id}"},
		{"GET", "/12134676899915430002", "GET /v1/{id}"},
	} {
		if got := routeOf(tc.method, tc.path); got != tc.want {
			t.Errorf("routeOf(%s, %s) = %q, want %q", tc.method, tc.path, got, tc.want)
		}
	}
}
