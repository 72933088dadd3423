package web

import (
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
)

// router finds the http.ServeMux for a request. The routes are grouped by the first
// segment of their path ("join", "admin", "" for the home page), one ServeMux a group,
// and each group's ServeMux is built the first time a request needs it: registering a
// pattern costs a ServeMux a parse, a conflict check and a look at the call stack, and a
// cold start should pay that only for the routes of the page it serves, not for all of
// them. Patterns with different first segments never match the same path, so each
// group's ServeMux answers exactly as one ServeMux of every route would (404, 405 with
// Allow, the redirects to clean paths and to a trailing slash).
type router struct {
	groups map[string]func() *http.ServeMux
	none   func() *http.ServeMux // for paths no pattern's first segment names
}

func (s *Server) router() *router {
	byKey := map[string][]Route{}
	var everywhere []Route // patterns whose first segment is a wildcard
	for _, rt := range s.Routes() {
		key, ok := patternKey(rt.Pattern)
		if !ok {
			everywhere = append(everywhere, rt)
			continue
		}
		byKey[key] = append(byKey[key], rt)
	}
	r := &router{groups: make(map[string]func() *http.ServeMux, len(byKey))}
	for key, routes := range byKey {
		routes = append(routes, everywhere...)
		r.groups[key] = sync.OnceValue(func() *http.ServeMux { return s.mux(routes) })
	}
	r.none = sync.OnceValue(func() *http.ServeMux { return s.mux(everywhere) })
	return r
}

// of returns the ServeMux that holds every route that could match r.
func (rt *router) of(r *http.Request) *http.ServeMux {
	if m, ok := rt.groups[requestKey(r)]; ok {
		return m()
	}
	return rt.none()
}

// patternKey returns the first path segment of a pattern such as "GET /join/confirm"
// ("" for "/{$}"), or false when the pattern could match any first segment.
func patternKey(pattern string) (string, bool) {
	if _, p, ok := strings.Cut(pattern, " "); ok {
		pattern = strings.TrimLeft(p, " \t")
	}
	if !strings.HasPrefix(pattern, "/") || pattern == "/" {
		return "", false // a host, or every path
	}
	seg, _, _ := strings.Cut(pattern[1:], "/")
	switch {
	case seg == "{$}":
		return "", true
	case strings.HasPrefix(seg, "{"):
		return "", false
	}
	return unescape(seg), true
}

// requestKey returns the first segment of the request's path as ServeMux sees it: of
// the escaped path, cleaned (but not for CONNECT), then unescaped.
func requestKey(r *http.Request) string {
	p := r.URL.EscapedPath()
	if r.Method != http.MethodConnect {
		p = path.Clean("/" + p)
	}
	seg, _, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	return unescape(seg)
}

func unescape(seg string) string {
	if u, err := url.PathUnescape(seg); err == nil {
		return u
	}
	return seg
}
