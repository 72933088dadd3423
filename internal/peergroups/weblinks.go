package peergroups

import (
	_ "embed"
	"strings"
	"sync"
	"unicode"
)

// Names and other short answers are put into emails that we send to an address the
// person typed, which may be anyone's. So that nobody can use those emails to send a
// link, such answers may not hold a web address (HasWebAddress).

//go:embed tlds.txt
var tldList string

var tlds = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	for _, line := range strings.Split(tldList, "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "//") {
			m[line] = true
		}
	}
	return m
})

// HasWebAddress reports whether s holds something a mail program would show as a
// link: a scheme (://), www., or a domain name, that is a word with a dot followed by
// a top-level domain, such as example.com or evil.co.uk/x. "St. Helens Council",
// "J. Smith", "J.Smith" and "O'Neil" hold none.
func HasWebAddress(s string) bool {
	// Full stops that some programs take for a dot in a domain name.
	s = strings.ToLower(strings.NewReplacer("\u3002", ".", "\uff0e", ".", "\uff61", ".").Replace(s))
	if strings.Contains(s, "://") || strings.Contains(s, "www.") {
		return true
	}
	hostChar := func(r rune) bool {
		return r == '.' || r == '-' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
	}
	for _, word := range strings.FieldsFunc(s, func(r rune) bool { return !hostChar(r) }) {
		labels := strings.Split(strings.Trim(word, "."), ".")
		for i := 1; i < len(labels); i++ {
			if labels[i-1] != "" && (tlds()[labels[i]] || strings.HasPrefix(labels[i], "xn--")) {
				return true
			}
		}
	}
	return false
}
