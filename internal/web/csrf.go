package web

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"

	"github.com/peergroups/peergroups/internal/links"
)

// CSRF protects forms with a signed double-submit cookie: the cookie holds a random
// value, each form a MAC of it under the server's CSRF key (with the key's ID, so that a
// form shown before a rotation of the secret can still be posted). A forged form from
// another site cannot read the cookie, so it cannot carry the matching MAC.
type CSRF struct {
	Keys   *links.Keyring
	Secure bool // set the Secure attribute (everywhere but local development)
}

// TokenFor returns the form token that goes with a CSRF cookie's value.
func (c *CSRF) TokenFor(cookie string) string { return c.Keys.Sign(links.UseCSRF, cookie) }

func (c *CSRF) cookieName() string {
	if c.Secure {
		return "__Host-csrf"
	}
	return "csrf"
}

// Token returns the form token for this browser, setting its cookie when it has none.
func (c *CSRF) Token(w http.ResponseWriter, r *http.Request) string {
	if ck, err := r.Cookie(c.cookieName()); err == nil && len(ck.Value) == 43 {
		return c.TokenFor(ck.Value)
	}
	b := make([]byte, 32)
	rand.Read(b)
	value := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{
		Name: c.cookieName(), Value: value, Path: "/",
		HttpOnly: true, Secure: c.Secure, SameSite: http.SameSiteLaxMode,
	})
	// A request that set the cookie may post again in the same page view.
	r.AddCookie(&http.Cookie{Name: c.cookieName(), Value: value})
	return c.TokenFor(value)
}

// Valid reports whether a posted token matches the browser's cookie.
func (c *CSRF) Valid(r *http.Request, posted string) bool {
	ck, err := r.Cookie(c.cookieName())
	if err != nil || ck.Value == "" || posted == "" {
		return false
	}
	return c.Keys.Verify(links.UseCSRF, posted, ck.Value)
}
