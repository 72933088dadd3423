package web

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// The router builds one ServeMux per first path segment, on first use. Every request
// must find what one ServeMux of every route finds: the same pattern, or, where none
// matches, the same 404, 405 (with Allow) or redirect.
func TestTheRouterAnswersAsOneServeMuxOfEveryRoute(t *testing.T) {
	s := &Server{}
	all := s.mux(s.Routes())
	routes := s.router()
	patterns := map[string]bool{}
	var targets []string
	for _, rt := range s.Routes() {
		patterns[rt.Pattern] = true
		_, p, _ := strings.Cut(rt.Pattern, " ")
		p = strings.NewReplacer("{$}", "", "{group}", "north-west", "{round}", "3", "{file}", "north-west.ics", "{id}", "p1", "{code}", "BIR").Replace(p)
		targets = append(targets, p, p+"/", strings.TrimSuffix(p, "/"), p+"/x", "/x"+p)
	}
	targets = append(targets, "/", "//", "/.", "/..", "/unknown", "/assets", "/assets/app.css", "/ADMIN",
		"/join/../admin", "/join/./confirm", "/%61dmin", "/admin%2Fgroups", "/proposals/%2e%2e", "/proposals/%2F",
		"/rounds/%25zz/events/x.ics", "/%2e%2e/admin", "/join?x=1", "/sign-in/link/", "/a/b/c/d")
	methods := []string{"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"}
	for _, target := range targets {
		for _, method := range methods {
			r := httptest.NewRequest(method, "http://peergroups.example.org"+target, nil)
			_, want := all.Handler(r)
			mux := routes.of(r)
			if _, got := mux.Handler(r); got != want {
				t.Errorf("%s %s: pattern %q, one ServeMux finds %q", method, target, got, want)
				continue
			}
			if patterns[want] {
				continue // a route's handler: the same one, by its pattern
			}
			// No route: a 404, a 405 or a redirect, from the ServeMux itself.
			wantRec, gotRec := httptest.NewRecorder(), httptest.NewRecorder()
			all.ServeHTTP(wantRec, r)
			mux.ServeHTTP(gotRec, r)
			if gotRec.Code != wantRec.Code || gotRec.Header().Get("Allow") != wantRec.Header().Get("Allow") || gotRec.Header().Get("Location") != wantRec.Header().Get("Location") {
				t.Errorf("%s %s: %d Allow %q Location %q, one ServeMux answers %d Allow %q Location %q", method, target,
					gotRec.Code, gotRec.Header().Get("Allow"), gotRec.Header().Get("Location"),
					wantRec.Code, wantRec.Header().Get("Allow"), wantRec.Header().Get("Location"))
			}
		}
	}
}
