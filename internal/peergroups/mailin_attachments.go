// Mail in: the files attached to the mail received. The inbound function stores each
// one apart when it receives the message (under the receiving prefix, at
// attachments/<sha256 of its bytes>), so that the console only hands out a short
// presigned link to it: the web function never reads, or parses, a raw message.

package peergroups

import (
	"context"
	"fmt"
	"path"
	"strings"
	"time"
	"unicode"
)

// AttachmentLinkTTL is how long a link to an attachment works.
const AttachmentLinkTTL = 5 * time.Minute

// MaxStoredAttachments is how many distinct files of one message are stored apart
// for download; the others are listed (the raw message keeps them all).
const MaxStoredAttachments = 20

// AttachmentLinker hands out short links to the stored attachments.
type AttachmentLinker interface {
	// AttachmentLink presigns a GET of the object at key that downloads it as name
	// (Content-Disposition: attachment), for ttl.
	AttachmentLink(ctx context.Context, key, name string, ttl time.Duration) (string, error)
}

// File names a stored attachment in the console's links: the hex SHA-256
// of its bytes, the last element of its key; "" when it was not stored.
func (a InboundAttachment) File() string {
	if a.Key == "" {
		return ""
	}
	return path.Base(a.Key)
}

// AttachmentLink returns a short link that downloads one attachment of a conversation
// c may see (file as InboundAttachment.File gives it).
func (s *MailInbox) AttachmentLink(ctx context.Context, c Caller, ref, file string) (string, error) {
	if _, err := s.visible(ctx, c, ref); err != nil {
		return "", err
	}
	msgs, err := s.Store.ConversationMessages(ctx, ref)
	if err != nil {
		return "", fmt.Errorf("read the messages of %s: %w", ref, err)
	}
	for _, m := range msgs {
		for _, a := range m.Attachments {
			if file == "" || a.File() != file {
				continue
			}
			if s.Files == nil {
				return "", Errorf(KindUnavailable, "Attachments cannot be downloaded here.")
			}
			link, err := s.Files.AttachmentLink(ctx, a.Key, AttachmentFileName(a.Name), AttachmentLinkTTL)
			if err != nil {
				return "", fmt.Errorf("link to an attachment of %s: %w", ref, err)
			}
			return link, nil
		}
	}
	return "", Errorf(KindNotFound, "There is no such attachment in conversation %s.", ref)
}

// AttachmentFileName is the name an attachment downloads as: letters, digits, spaces, dots, hyphens
// and underscores only (others become "_"), no leading dot, at most 100 characters;
// "attachment" when nothing is left.
func AttachmentFileName(name string) string {
	var b strings.Builder
	for _, r := range name {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '.' || r == '-' || r == '_' || r == ' ':
			b.WriteRune(r)
		default:
			b.WriteRune('_')
		}
	}
	s := strings.TrimSpace(strings.TrimLeft(b.String(), ". "))
	if r := []rune(s); len(r) > 100 {
		s = strings.TrimSpace(string(r[len(r)-100:]))
	}
	if strings.Trim(s, "_. ") == "" {
		return "attachment"
	}
	return s
}
