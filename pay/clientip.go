package pay

import (
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
)

// clientIP returns the address of the buyer behind r: the right-most hop of
// the request's path that is not a trusted proxy. The path, read from the
// right, is the connection's peer; then, only while each hop is a trusted
// proxy, the X-Real-IP it set (the address that connected to it), then the
// X-Forwarded-For entries right to left. A proxy that sets both repeats
// X-Real-IP as the last X-Forwarded-For entry, which counts once. So a
// client-sent X-Forwarded-For never outranks the X-Real-IP of a proxy that
// sets only that. An ambiguous X-Real-IP (sent twice) or a malformed hop ends
// the path at the last trusted hop, whose address is answered.
func clientIP(r *http.Request, trusted []netip.Prefix) string {
	peer, ok := parseAddr(r.RemoteAddr)
	if !ok {
		return "127.0.0.1"
	}
	hop := peer
	if !isTrusted(hop, trusted) {
		return hop.String()
	}
	var forwarded []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		forwarded = append(forwarded, strings.Split(v, ",")...)
	}
	switch real := r.Header.Values("X-Real-Ip"); len(real) {
	case 0:
	case 1:
		addr, ok := parseAddr(strings.TrimSpace(real[0]))
		if !ok {
			return hop.String()
		}
		if n := len(forwarded); n > 0 {
			if last, ok := parseAddr(strings.TrimSpace(forwarded[n-1])); ok && last == addr {
				forwarded = forwarded[:n-1]
			}
		}
		if hop = addr; !isTrusted(hop, trusted) {
			return hop.String()
		}
	default:
		return hop.String()
	}
	for i := len(forwarded) - 1; i >= 0; i-- {
		addr, ok := parseAddr(strings.TrimSpace(forwarded[i]))
		if !ok {
			return hop.String()
		}
		if hop = addr; !isTrusted(hop, trusted) {
			return hop.String()
		}
	}
	return hop.String()
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
