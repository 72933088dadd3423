package peergroups

import (
	"context"
	"net/netip"
	"time"
)

// RateLimit is a counter that may reach Limit before Until. Key is pseudonymous.
type RateLimit struct {
	Key   string
	Limit int
	Until time.Time
}

// Limits says how many requests an address and a client may make an hour.
type Limits struct {
	PerEmail int
	PerIP    int
}

// RequestCounter counts a request that stores nothing else against the limits, with
// its outbox items; over a limit it returns KindTooMany and stores nothing.
type RequestCounter interface {
	CountRequest(ctx context.Context, limits []RateLimit, out ...OutboxItem) error
}

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

// Limiter turns a request into the rate limits it counts against (see above).
type Limiter struct {
	Limits Limits
	// Pseudonym turns an address or IP into a key that does not reveal it.
	Pseudonym func(parts ...string) string
}

// requests returns the rate limits a sign-up or a request for a link by email counts
// against.
func (l Limiter) requests(email, clientIP string, now time.Time) []RateLimit {
	return l.limitsFor(rateRequests, email, clientIP, now)
}

// signIn returns the rate limits a request for a sign-in link counts against.
func (l Limiter) signIn(email, clientIP string, now time.Time) []RateLimit {
	return l.limitsFor(rateSignIn, email, clientIP, now)
}

func (l Limiter) limitsFor(purpose ratePurpose, email, clientIP string, now time.Time) []RateLimit {
	hour := now.UTC().Truncate(time.Hour)
	until := hour.Add(time.Hour)
	stamp := hour.Format("2006010215")
	client := clientNetwork(clientIP)
	limits := []RateLimit{{Key: "email-ip#" + l.Pseudonym(string(purpose), email, client, stamp), Limit: l.Limits.PerEmail, Until: until}}
	if client != "" {
		limits = append(limits, RateLimit{Key: "ip#" + l.Pseudonym("ip", client, stamp), Limit: l.Limits.PerIP, Until: until})
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
