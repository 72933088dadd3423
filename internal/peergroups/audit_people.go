package peergroups

// The people an audit entry names: each by the keyed hash MailOutTarget writes
// ("person <hash>"), which is how a person's entries are found for their export or
// erasure without reading the whole trail.

import (
	"regexp"
	"slices"
	"sync"
)

// personInTrail matches MailOutTarget's name for a person: "person " and the keyed
// hash, the unpadded base64url of an HMAC-SHA256 (43 characters), not followed by
// another character of the hash's alphabet.
var personInTrail = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`person ([A-Za-z0-9_-]{43})(?:[^A-Za-z0-9_-]|$)`)
})

// PeopleNamed returns the keyed hashes of the people texts name as the audit trail
// does (MailOutTarget), each once, in the order they first appear. An entry written
// through PseudonymousEntry names everyone it mentions this way.
func PeopleNamed(texts ...string) []string {
	var hashes []string
	for _, t := range texts {
		for _, m := range personInTrail().FindAllStringSubmatch(t, -1) {
			if !slices.Contains(hashes, m[1]) {
				hashes = append(hashes, m[1])
			}
		}
	}
	return hashes
}
