package peergroups

import (
	"net/netip"
	"time"
)

// Rate limits are counted per purpose, per address and client, and per client:
//
//   - per address and client (Limits.PerEmail an hour, for each purpose): the requests
//     one client makes about one address. A client that asks for the same address over
//     and over exhausts only its own share, so nobody elsewhere can lock a person (an
//     admin) out of signing in, however often they ask from their own addresses.
//   - per client (Limits.PerIP an hour, all purposes together): everything one client
//     asks, which bounds the mail any one client can cause.
//
// Sign-in links are one purpose; sign-ups and requests for links by email (join, manage
// link, council, proposal, interest) are the other, so asking for those never uses up
// a person's sign-ins. An IPv6 client is counted by its /64 network, the block a single
// subscriber is normally given, so that a client cannot take a new share with each of
// its addresses.
type ratePurpose string

const (
	rateSignIn   ratePurpose = "signin"
	rateRequests ratePurpose = "requests"
)

// limits returns the rate limits a sign-up or a request for a link by email counts
// against.
func (s *Service) limits(email, clientIP string) []RateLimit {
	return s.limitsFor(rateRequests, email, clientIP)
}

// signInLimits returns the rate limits a request for a sign-in link counts against.
func (s *Service) signInLimits(email, clientIP string) []RateLimit {
	return s.limitsFor(rateSignIn, email, clientIP)
}

func (s *Service) limitsFor(purpose ratePurpose, email, clientIP string) []RateLimit {
	now := s.Now().UTC()
	hour := now.Truncate(time.Hour)
	until := hour.Add(time.Hour)
	stamp := hour.Format("2006010215")
	client := clientNetwork(clientIP)
	limits := []RateLimit{{Key: "email-ip#" + s.Pseudonym(string(purpose), email, client, stamp), Limit: s.Limits.PerEmail, Until: until}}
	if client != "" {
		limits = append(limits, RateLimit{Key: "ip#" + s.Pseudonym("ip", client, stamp), Limit: s.Limits.PerIP, Until: until})
	}
	return limits
}

// clientNetwork returns what a client is counted as: its IPv4 address, or its IPv6
// /64 network.
func clientNetwork(ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	addr = addr.Unmap()
	if addr.Is6() {
		prefix, err := addr.WithZone("").Prefix(64)
		if err == nil {
			return prefix.String()
		}
	}
	return addr.String()
}
