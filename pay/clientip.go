package pay

import (
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
)

// clientIP returns the address of the buyer behind r. Forwarding headers are
// believed only when the connection comes from a trusted proxy: then the
// rightmost X-Forwarded-For address that is not itself a trusted proxy, else
// X-Real-IP, else the proxy's own address.
func clientIP(r *http.Request, trusted []netip.Prefix) string {
	peer, ok := parseAddr(r.RemoteAddr)
	if !ok {
		return "127.0.0.1"
	}
	if !isTrusted(peer, trusted) {
		return peer.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		addr, ok := parseAddr(strings.TrimSpace(hops[i]))
		if !ok {
			break
		}
		if !isTrusted(addr, trusted) {
			return addr.String()
		}
	}
	if addr, ok := parseAddr(strings.TrimSpace(r.Header.Get("X-Real-IP"))); ok {
		return addr.String()
	}
	return peer.String()
}

func isTrusted(addr netip.Addr, trusted []netip.Prefix) bool {
	return slices.ContainsFunc(trusted, func(p netip.Prefix) bool { return p.Contains(addr) })
}

// parseAddr accepts "ip" and "ip:port", IPv4 and IPv6.
func parseAddr(s string) (netip.Addr, bool) {
	if host, _, err := net.SplitHostPort(s); err == nil {
		s = host
	}
	addr, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return addr.Unmap().WithZone(""), true
}
